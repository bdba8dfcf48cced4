"""schemathesis against /openapi.json: generated requests for every operation (bounded
examples each), signed in as admin on a real SQLite database holding the demo center. No
server error, no response that violates the documented schema, no undocumented status."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from server_support import World, demo_world


@pytest.fixture(scope="module")
def api_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path: Path = tmp_path_factory.mktemp("schemathesis") / "openwfm.db"
    with demo_world(f"sqlite:///{path}", login_max_failures=10_000) as w:
        yield w


@pytest.fixture(scope="module")
def api_schema(api_world: World) -> schemathesis.BaseSchema:
    # loading validates the OpenAPI document itself
    return schemathesis.openapi.from_asgi("/openapi.json", api_world.client.app)


CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance]


def test_api_conforms_to_its_schema(api_world: World,
                                    api_schema: schemathesis.BaseSchema) -> None:
    headers = {"Authorization": f"Bearer {api_world.tokens['admin']}"}
    # the server-sent-events stream stays open (tests/test_server_rta.py reads it end to end)
    operations = [op for op in (result.ok() for result in api_schema.get_all_operations())
                  if op.path != "/api/rta/exceptions/stream"]
    assert len(operations) >= 30
    for operation in operations:

        @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
