"""Shared fixtures: the real data folder, the `openwfm` command runner, and a throw-away
PostgreSQL server."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# The real data live next to the repository (../shared/data, see its README); a clone kept
# elsewhere points OPENWFM_SHARED_DATA at that folder. Tests import BANK_LOG from here.
SHARED_DATA = Path(os.environ.get("OPENWFM_SHARED_DATA")
                   or Path(__file__).resolve().parents[2] / "shared" / "data")
BANK_LOG = SHARED_DATA / "anonymous_bank_1999_02.tsv"


# ------------------------------------------------------------------- xdist groups
# `make test` runs `pytest -n 2 --dist loadgroup`: the tests marked `xdist_group("demo")`
# share one demo run and those marked `xdist_group("web")` one live server, on one worker.
# pytest-xdist groups a test by adding "@group" to its node id on the worker; when that
# stops working (pytest 9.2 with pytest-xdist 3.8, pytest-dev/pytest-xdist#1386) nothing
# fails, the tests are simply spread over both workers and every worker repeats the demo
# and the server. Then the grouped tests fail at once, with this reason, instead.
_UNGROUPED = pytest.StashKey[str]()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "loadgroup", False):  # set on xdist workers only
        return
    for item in items:
        mark = item.get_closest_marker("xdist_group")
        if mark is not None and "@" not in item.nodeid.rsplit("]", 1)[-1]:
            item.stash[_UNGROUPED] = (
                f"--dist loadgroup did not group this test (xdist_group {mark.args[0]!r}): "
                f"pytest-xdist cannot mark node ids with this pytest (pytest-dev/"
                f"pytest-xdist#1386); install pyproject.toml's dev extra (pytest<9.2)")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if _UNGROUPED in item.stash:
        pytest.fail(item.stash[_UNGROUPED], pytrace=False)


def run_openwfm(*args: str) -> tuple[int, str, str]:
    """Run the `openwfm` entry point in-process, with its error boundary (`cli.main`), as
    `openwfm ARGS...`; return (exit code, stdout, stderr)."""
    from openwfm.cli import main

    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["openwfm", *args]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = argv
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="session")
def cli() -> Callable[..., tuple[int, str, str]]:
    """`cli("staff", "in.csv", "-o", "out.csv")` -> (exit code, stdout, stderr)."""
    return run_openwfm


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server on 127.0.0.1 for this test session (initdb + pg_ctl).

    Skipped, with the reason shown, only where the PostgreSQL server binaries are absent.
    """
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    root = Path(tempfile.mkdtemp(prefix="openwfm-pg-"))
    data = root / "data"
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run([*prefix, initdb, "-D", str(data), "-U", "openwfm", "--auth=trust"],
                   check=True, capture_output=True)
    subprocess.run(
        [*prefix, pg_ctl, "-D", str(data), "-l", str(root / "log"), "-w", "-o",
         f"-p {port} -k {root} -h 127.0.0.1", "start"],
        check=True, capture_output=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield f"postgresql+psycopg://openwfm@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server_url(request: pytest.FixtureRequest) -> str:
    """The PostgreSQL server to test against: the running one at 127.0.0.1:5432 (trust auth)
    when it answers, else a throw-away one (`postgres_url`). Never skipped in CI."""
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return "postgresql+psycopg://postgres@127.0.0.1:5432"
    except OSError:
        if os.environ.get("CI"):
            initdb = shutil.which("initdb")
            assert initdb is not None, "CI must test on PostgreSQL: no server, no initdb"
        url = request.getfixturevalue("postgres_url")
        return url.rsplit("/", 1)[0]


@pytest.fixture
def pg_fresh_db(pg_server_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test (dropped afterwards)."""
    import uuid

    import sqlalchemy as sa

    name = f"openwfm_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(f"{pg_server_url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"{pg_server_url}/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


# ------------------------------------------------------------- the browser tests' server
# One live server (the demo center with a pattern week) for every tests/test_web_*.py module
# of a session (they share the xdist group "web": one worker), and one Debian chromium per
# module: Playwright's sync API keeps its asyncio loop set as the thread's running loop
# while it is open, so a session-long one broke every later `asyncio.run` on that worker
# (the NATS consumer test, when it ran after the web group).
@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from web_support import ensure_assets, live_server

    ensure_assets()
    with live_server(tmp_path_factory.mktemp("web")) as s:
        yield s


@pytest.fixture(scope="module")
def web_browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="pip install playwright (the dev extra)")
    from web_support import chromium_path

    path = chromium_path()
    if path is None:
        pytest.skip("Debian's chromium is missing and cannot be installed here (not root): "
                    "apt-get install chromium, or run `make test`")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def server(web_server: object) -> object:
    """`web_server` under the name the browser test modules use (a module with a server of
    its own, tests/test_web_intraday.py, defines its own `server`)."""
    return web_server


@pytest.fixture(scope="module")
def browser(web_browser: object) -> object:
    """`web_browser` under the name the browser test modules use."""
    return web_browser


@pytest.fixture(scope="session")
def demo_cli_run(tmp_path_factory) -> tuple[Path, str]:
    """`openwfm demo -o OUT` once per session, in its own process as a user runs it (no
    solver state left by other tests): (OUT, its stdout). Shared by the demo's CLI tests
    and the determinism test (whose second run, under a CPU burner, must write the same
    bytes); they carry ``xdist_group("demo")`` so one worker runs them all."""
    out = tmp_path_factory.mktemp("demo") / "out"
    proc = subprocess.run([sys.executable, "-c", "from openwfm.cli import main; main()",
                           "demo", "-o", str(out)], capture_output=True, text=True,
                          check=False, env={**os.environ, "COLUMNS": "120"})
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout
