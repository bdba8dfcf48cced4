"""Every API operation, every bad input (issue 18, the API half): a 4xx, never a 500; a
message naming the field (or the file's row and column); no traceback; nothing stored.

The operations are read from the app's OpenAPI document, so an endpoint added later is
driven too: a known valid request for it (`VALID_BODIES`, `_valid_path_value`) or, failing
that, one built from its schema's examples, is mutated by hypothesis strategies:

- path and query parameters: wrong types, out of range, unknown ids, very long, NUL;
- headers (``If-Match``): not a revision, stale;
- JSON bodies: a field dropped, set to a wrong type or value (``1e300``, ``2**70``, NaN,
  an impossible date, 10,000 characters), an unknown id, an unknown field; the whole body
  not JSON, an array, empty, or larger than the upload limit;
- file uploads (CSV imports): the mutations of ``scripts/fuzz_importers.py`` (bad cells,
  headers, delimiters, duplicated/missing lines, a cut), other encodings, a BOM, an
  oversized or empty file, bad form fields.

For each answer: a status below 500; no traceback or numpy repr in the body; a 422 names the
field (its ``loc``) or, for a file, the row and column; a 4xx leaves every table as it was
(the request's transaction rolled back; only the sign-in throttle records a failure).
Signed in as admin, so a refusal is about the input, not the role (roles are
tests/test_server_api.py's business). Bounded: a few examples per operation, SQLite.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openwfm.server import Settings, create_app
from openwfm.server.models import Base, Forecast, ForecastInterval, LoginAttempt
from server_support import PASSWORD, WEEK, World, demo_world, shift

UPLOAD_LIMIT = 100_000
# examples per operation (uploads: more, they vary most); OPENWFM_API_FUZZ_EXAMPLES=N runs
# a longer hunt. The suite's share stays a few seconds of CPU per operation.
EXAMPLES = int(os.environ.get("OPENWFM_API_FUZZ_EXAMPLES", "8"))
NUMPY_REPR = re.compile(r"\bnp\.[a-z_0-9]+\(|numpy\.")
TRACEBACK = re.compile(r"Traceback|File \"/|\bline \d+, in ")


def _fuzz_module() -> Any:
    path = Path(__file__).resolve().parents[1] / "scripts" / "fuzz_importers.py"
    spec = importlib.util.spec_from_file_location("fuzz_importers_api", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FUZZ = _fuzz_module()


# ------------------------------------------------------------------ the operations
@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    headers: tuple[str, ...]
    body_kind: str | None  # "json", "form", "multipart" or None
    body_schema: str | None  # the component name of the body's schema

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _operations() -> list[Operation]:
    """Every operation of the API that takes input (a parameter or a body)."""
    spec = create_app(Settings(db_url="sqlite://")).openapi()
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            params = op.get("parameters", [])
            content = op.get("requestBody", {}).get("content", {})
            kind = schema = None
            for mime, name in (("application/json", "json"),
                               ("application/x-www-form-urlencoded", "form"),
                               ("multipart/form-data", "multipart")):
                if mime in content:
                    kind = name
                    schema = content[mime].get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
            if not params and kind is None:
                continue
            out.append(Operation(
                method=method.upper(), path=path,
                path_params=tuple(p["name"] for p in params if p["in"] == "path"),
                query_params=tuple(p["name"] for p in params if p["in"] == "query"),
                headers=tuple(p["name"] for p in params if p["in"] == "header"),
                body_kind=kind, body_schema=schema or None))
    return out


OPERATIONS = _operations()
SCHEMAS: dict[str, Any] = create_app(Settings(db_url="sqlite://")).openapi()[
    "components"]["schemas"]


# ------------------------------------------------------------------ the world
@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("bad-api") / "openwfm.db"
    with demo_world(f"sqlite:///{path}", login_max_failures=1_000_000,
                    max_upload_bytes=UPLOAD_LIMIT) as w:
        with w.db.transaction() as s:  # a stored forecast, as a forecast job leaves
            fc = Forecast(name="bad-inputs", version=1)
            s.add(fc)
            s.flush()
            for i in range(4):
                s.add(ForecastInterval(forecast_id=fc.id, queue_id=w.facts["ride_queue"],
                                       interval_start=WEEK + timedelta(minutes=15 * i),
                                       volume=10.0 + i, aht_s=300.0))
            w.facts["forecast"] = fc.id
        w.facts["site"] = 1
        # PRAGMA data_version moves when another connection commits: "nothing stored"
        # checked per request without reading every table
        probe = sqlite3.connect(path)
        w.facts["probe"] = probe
        try:
            yield w
        finally:
            probe.close()


def _state(w: World, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """What "nothing stored" compares: the database's commit counter, or (when `skip`
    names tables a refused request may write, the sign-in throttle) a digest of every
    other table's rows."""
    if not skip:
        probe = w.facts["probe"]
        assert isinstance(probe, sqlite3.Connection)
        return {"data_version": str(probe.execute("PRAGMA data_version").fetchone()[0])}
    out = {}
    with w.db.read() as s:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            rows = s.execute(sa.select(table)).all()
            digest = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
            out[table.name] = f"{len(rows)}:{digest[:16]}"
    return out


def _valid_path_value(w: World, name: str) -> str:
    f = w.facts
    known = {"client_id": f["ride"], "site_id": f["site"], "queue_id": f["ride_queue"],
             "team_id": f["team"], "agent_id": f["agent"], "user_id": 1,
             "schedule_id": f["schedule"], "forecast_id": f["forecast"], "job_id": "no-job"}
    return str(known.get(name, "1"))


def _etag(w: World) -> str:
    r = w.client.get(f"/api/schedules/{w.facts['schedule']}", headers=w.h("admin"))
    return r.headers.get("ETag", '"1"')


CSV_GOOD = "interval_start,queue,volume,aht_s\n" + "".join(
    f"2026-03-02T{h:02d}:00:00Z,{{q}},{10 + h},300\n" for h in range(6))


def _valid_body(w: World, op: Operation) -> Any:
    f = w.facts
    name = op.body_schema or ""
    bodies: dict[str, Callable[[], Any]] = {
        "ClientIn": lambda: {"name": "Client Z"},
        "AgentUpdate": lambda: {"name": "Renamed", "team_id": f["team"], "contract_hours": 38,
                                "min_shift_h": 4, "max_shift_h": 9, "night_ok": True,
                                "skills": [{"skill_id": f["ride_queue"], "proficiency": 0.9}]},
        "UserIn": lambda: {"username": "new-user", "password": PASSWORD, "role": "planner",
                           "client_ids": [f["ride"]]},
        "ScheduleIn": lambda: {"name": "draft", "period_start": WEEK.isoformat(),
                               "period_end": (WEEK + timedelta(days=7)).isoformat(),
                               "segments": shift(str(f["agent"]), 0, queue=f["ride_queue"])},
        "AgentDraftIn": lambda: {"segments": shift(str(f["agent"]), 1)},
        "OverrideIn": lambda: {"queue_id": f["ride_queue"], "interval_start": WEEK.isoformat(),
                               "field": "volume", "value": 12.0, "reason": "campaign"},
        "JobIn": lambda: {"kind": "forecast", "publish": False, "name": "bad-inputs"},
    }
    if op.body_kind == "form" and "token" in op.path:
        return {"username": "admin", "password": PASSWORD}
    if op.body_kind == "multipart":
        return {"file": ("acd.csv", CSV_GOOD.replace("{q}", str(f["ride_queue"])).encode()),
                "tz": "UTC", "interval_s": "3600"}
    if name in bodies:
        return bodies[name]()
    return _from_schema(SCHEMAS.get(name, {}))


def _from_schema(schema: dict[str, Any]) -> Any:
    """A body from a schema's examples and defaults (an endpoint this file does not know)."""
    if "$ref" in schema:
        return _from_schema(SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]])
    if "examples" in schema:
        return schema["examples"][0]
    if "default" in schema:
        return schema["default"]
    for alt in schema.get("anyOf", []) + schema.get("oneOf", []):
        if alt.get("type") != "null":
            return _from_schema(alt)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: _from_schema(v) for k, v in schema.get("properties", {}).items()}
    if "enum" in schema:
        return schema["enum"][0]
    return {"string": "x", "integer": 1, "number": 1.0, "boolean": True,
            "array": []}.get(kind or "")


# ------------------------------------------------------------------ the mutations
BAD_SCALARS = ["0", "-1", "2147483648", "99999999999999999999", "abc", "1e300", "nan",
               "%00", "x" * 300, "null", "1.5", "999999", " ", "😀", "2026-13-45T99:00:00Z"]
BAD_JSON: list[Any] = [None, "", "x" * 10_000, -1, 0, 1e300, -1e300, 2**70, True, [], {},
                       "NaN", "not-a-date", "2026-02-30T08:00:00+00:00", "2026-03-30T08:00:00",
                       "\x00", "1e300", {"$ne": 1}, [[[[]]]], "no-such-id", 999_999]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    raw: bytes | None = None
    content_type: str | None = None
    form: dict[str, Any] | None = None
    files: dict[str, Any] | None = None
    target: str | None = None  # the field, parameter or header the mutation is about
    file_mutated: bool = False


def _leaves(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value (objects by key, lists by index)."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _leaves(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            out += _leaves(v, (*prefix, i))
    return out


def _set(body: Any, path: tuple[Any, ...], value: Any, *, drop: bool = False) -> Any:
    body = deepcopy(body)
    node = body
    for part in path[:-1]:
        node = node[part]
    if drop:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return body


def _target(path: tuple[Any, ...]) -> str | None:
    """The field a mutation at `path` is about; an error may name it or its parent
    (``skills[0]`` for ``skills[0].skill_id``): the names joined by '|'."""
    names = [p for p in path if isinstance(p, str)]
    return "|".join(reversed(names)) if names else None


@st.composite
def bad_requests(draw: st.DrawFn, op: Operation, w: World) -> Request:
    path_values = {p: _valid_path_value(w, p) for p in op.path_params}
    req = Request(op.method, op.path)
    headers = {"Authorization": f"Bearer {w.tokens['admin']}"}
    if "if-match" in op.headers:
        headers["If-Match"] = _etag(w)
    body = _valid_body(w, op) if op.body_kind else None
    kinds = []
    if op.path_params:
        kinds.append("path")
    if op.query_params:
        kinds.append("query")
    if op.headers:
        kinds.append("header")
    if op.body_kind == "json":
        kinds += ["field", "field", "drop", "unknown_field", "whole_body"]
    if op.body_kind == "form":
        kinds += ["form_field", "whole_body"]
    if op.body_kind == "multipart":
        kinds += ["csv", "csv", "csv", "form_field", "upload_size"]
    kind = draw(st.sampled_from(kinds))
    if kind == "path":
        name = draw(st.sampled_from(op.path_params))
        path_values[name] = draw(st.sampled_from(BAD_SCALARS))
        req.target = name
    elif kind == "query":
        name = draw(st.sampled_from(op.query_params))
        req.query[name] = draw(st.sampled_from(BAD_SCALARS))
        req.target = name
    elif kind == "header":
        name = draw(st.sampled_from(op.headers))
        headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
        headers[name] = draw(st.sampled_from(["", "abc", '"-1"', 'W/"x"', '"0"', "9" * 40,
                                              '"999999"']))
        req.target = name
    elif kind in ("field", "drop", "unknown_field"):
        paths = _leaves(body)
        if kind == "unknown_field" or not paths:
            body = {**body, "no_such_field": 1} if isinstance(body, dict) else body
            req.target = "no_such_field"
        else:
            where = draw(st.sampled_from(paths))
            if kind == "drop" and not isinstance(where[-1], int):
                body = _set(body, where, None, drop=True)
            else:
                body = _set(body, where, draw(st.sampled_from(BAD_JSON)))
            req.target = _target(where)
    elif kind == "whole_body":
        choice = draw(st.sampled_from(["not_json", "array", "empty", "string", "oversized",
                                       "wrong_type"]))
        req.raw = {"not_json": b"{not json", "array": b"[]", "empty": b"", "string": b'"x"',
                   "oversized": b'{"name": "' + b"x" * (UPLOAD_LIMIT + 10) + b'"}',
                   "wrong_type": b"name=x"}[choice]
        req.content_type = ("text/plain" if choice == "wrong_type" else
                            "application/x-www-form-urlencoded" if op.body_kind == "form"
                            else "application/json")
        body = None
    elif kind == "form_field":
        assert isinstance(body, dict)
        name = draw(st.sampled_from(sorted(k for k in body if k != "file")))
        if draw(st.booleans()):
            body = {k: v for k, v in body.items() if k != name}
        else:
            bad = [*BAD_SCALARS, "Mars/Base", "7", "86401", "3601"]
            body = {**body, name: draw(st.sampled_from(bad))}
        req.target = name
    elif kind == "csv":
        assert isinstance(body, dict)
        text = CSV_GOOD.replace("{q}", str(w.facts["ride_queue"]))
        for _ in range(draw(st.integers(1, 3))):
            text = FUZZ._mutate_text(text, draw)
        if draw(st.booleans()):
            text = text.replace("\n", "\r\n")
        if draw(st.booleans()):
            text = text.replace(",", draw(st.sampled_from([";", "\t", "|"])))
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"]))
        body = {**body, "file": ("acd.csv", text.encode(encoding, errors="replace"))}
        req.file_mutated = True
        req.target = "file"
    elif kind == "upload_size":
        assert isinstance(body, dict)
        size = draw(st.sampled_from([0, UPLOAD_LIMIT + 1, 3 * UPLOAD_LIMIT]))
        body = {**body, "file": ("big.csv", b"interval_start,queue,volume\n" + b"9" * size)}
        if draw(st.booleans()):
            body = {k: v for k, v in body.items() if k != "file"}
        req.target = "file"
    req.path = op.path.format(**path_values)
    req.headers = headers
    if op.body_kind == "json" and req.raw is None:
        req.json_body = body
    elif op.body_kind == "form" and req.raw is None:
        req.form = body
    elif op.body_kind == "multipart" and req.raw is None:
        assert isinstance(body, dict)
        req.files = {k: v for k, v in body.items() if k == "file"} or None
        req.form = {k: v for k, v in body.items() if k != "file"}
    return req


def _send(w: World, req: Request) -> Any:
    kwargs: dict[str, Any] = {"params": req.query, "headers": dict(req.headers)}
    if req.raw is not None:
        kwargs["content"] = req.raw
        kwargs["headers"]["Content-Type"] = req.content_type or "application/json"
    elif req.json_body is not None or (req.form is None and req.files is None
                                       and req.method in ("POST", "PUT", "PATCH")):
        kwargs["json"] = req.json_body
    if req.files:
        kwargs["files"] = req.files
    if req.form is not None:
        kwargs["data"] = req.form
    return w.client.request(req.method, req.path, **kwargs)


# operations whose valid request this file knows (`_valid_body`): a refusal of a mutation
# must name the mutated field. For the others (a body built from the schema's examples,
# required query parameters not known here) the request may be refused for another field.
STRICT = {"POST /api/auth/token", "POST /api/clients", "GET /api/clients/{client_id}",
          "GET /api/sites/{site_id}", "GET /api/queues/{queue_id}",
          "GET /api/queues/{queue_id}/history", "GET /api/teams/{team_id}", "GET /api/agents",
          "GET /api/agents/{agent_id}", "PATCH /api/agents/{agent_id}",
          "GET /api/agents/{agent_id}/schedule", "POST /api/users",
          "GET /api/users/{user_id}", "POST /api/schedules", "GET /api/schedules/{schedule_id}",
          "GET /api/schedules/{schedule_id}/segments",
          "PUT /api/schedules/{schedule_id}/draft/agents/{agent_id}",
          "POST /api/schedules/{schedule_id}/publish", "POST /api/imports/history",
          "GET /api/forecasts/{forecast_id}", "GET /api/forecasts/{forecast_id}/intervals",
          "GET /api/forecasts/{forecast_id}/overrides",
          "POST /api/forecasts/{forecast_id}/overrides", "POST /api/jobs", "GET /api/jobs",
          "GET /api/jobs/{job_id}", "DELETE /api/jobs/{job_id}", "GET /api/audit"}


def _named(detail: Any, target: str) -> bool:
    """Whether an error answer names `target` (a field, parameter or header)."""
    text = json.dumps(detail).lower()
    return any(t.lower() in text or t.replace("_", "-").lower() in text
               for t in target.split("|"))


def check_answer(w: World, op: Operation, req: Request, before: dict[str, str],
                 skip: tuple[str, ...]) -> int:
    """The promise for one request; returns the status."""
    r = _send(w, req)
    text = r.text
    where = f"{req.method} {req.path} target={req.target!r}: {r.status_code} {text[:400]}"
    assert r.status_code < 500, where
    assert not TRACEBACK.search(text), where
    assert not NUMPY_REPR.search(text), where
    if r.status_code >= 400:
        assert _state(w, skip) == before, f"a refused request stored something: {where}"
        body = r.json()
        assert "detail" in body, where
        detail = body["detail"]
        if op.id not in STRICT:
            return r.status_code
        if r.status_code == 422:
            if isinstance(detail, list):
                assert all(e.get("loc") for e in detail), where
            if req.file_mutated and isinstance(detail, list):
                # a bad file: the file named, and the row or column where one applies
                assert detail[0]["loc"][:2] == ["body", "file"], where
            elif req.target is not None and req.target != "file":
                assert _named(detail, req.target), where
        elif r.status_code in (400, 404, 409, 412, 428) and req.target is not None:
            assert _named(detail, req.target) or _mentions_value(detail, req), where
    return r.status_code


def _mentions_value(detail: Any, req: Request) -> bool:
    """A 404/409 on an unknown id names the object (``no agent 'x'``, ``queue 7``)."""
    text = json.dumps(detail).lower()
    return any(word in text for word in ("no ", "not found", "unknown", "already", "stale",
                                         "if-match", "revision", "exists", "conflict"))


@pytest.mark.parametrize("op", OPERATIONS, ids=[o.id for o in OPERATIONS])
def test_bad_input_gets_a_4xx_naming_the_field_and_stores_nothing(
        world: World, op: Operation) -> None:
    skip = (LoginAttempt.__tablename__,) if op.body_kind == "form" else ()
    seen: list[int] = []

    examples = EXAMPLES * (3 if op.body_kind == "multipart" else 1)

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        req = data.draw(bad_requests(op, world))
        before = _state(world, skip)
        seen.append(check_answer(world, op, req, before, skip))

    run()
    if os.environ.get("OPENWFM_SHOW_STATUSES"):
        print("\nSTATUSES", op.id, sorted(Counter(seen).items()))
    assert any(400 <= s < 500 for s in seen), f"no mutation of {op.id} was refused: {seen}"


def test_every_operation_with_input_is_driven() -> None:
    """The corpus follows the API: each operation taking input is in the parametrization
    (so one added by another change is driven without editing this file)."""
    ops = {o.id for o in OPERATIONS}
    assert "POST /api/imports/history" in ops and "POST /api/schedules" in ops
    assert len(ops) >= 20


def test_valid_requests_succeed(world: World) -> None:
    """The bodies the mutations start from are valid (else the corpus would only test one
    refusal): each known one answers 2xx (or 404 for the job id that does not exist)."""
    for op in OPERATIONS:
        if op.method == "DELETE" or (op.body_schema or "") not in (
                "ClientIn", "AgentUpdate", "OverrideIn", "AgentDraftIn", "ScheduleIn"):
            continue
        req = Request(op.method, op.path.format(
            **{p: _valid_path_value(world, p) for p in op.path_params}))
        req.headers = {"Authorization": f"Bearer {world.tokens['admin']}"}
        if "if-match" in op.headers:
            req.headers["If-Match"] = _etag(world)
        body = _valid_body(world, op)
        if op.body_schema == "ClientIn":
            body["name"] = "Client valid"  # the mutations may have created "Client Z"
        req.json_body = body
        before = _state(world)
        r = _send(world, req)
        assert r.status_code < 300, (op.id, r.status_code, r.text[:300])
        # the "nothing stored" probe sees a write (else the property could not fail)
        assert _state(world) != before, op.id
