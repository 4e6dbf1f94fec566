"""kill -9 a node in the middle of a write load, start it again, and check that every acknowledged write is
there, that nothing half-written shows, and that the database and blob store are intact — on SQLite (WAL,
group commit) and on PostgreSQL (blobs in the database).
"""

from __future__ import annotations

import os
import random
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.crash.checks import check_database, check_devices, check_iam, check_iot, check_objects, still_writable
from tests.crash.load import Load, set_up
from tests.serverfixtures import PG_ENV, PG_SKIP, RunningServer, drop_postgres, fresh_postgres_url, start_server

ACKED_BEFORE_KILL = 3  # every kind of write has been acknowledged at least this often
LOAD_LIMIT = 15.0  # seconds: kill anyway (the figure is checked below)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> Iterator[tuple[str, str | None]]:
    backend, base_url = request.param, os.environ.get(PG_ENV)
    if backend == "sqlite":
        yield backend, None
        return
    if not base_url:
        pytest.skip(PG_SKIP)
    url, name = fresh_postgres_url(base_url)
    try:
        yield backend, url
    finally:
        drop_postgres(base_url, name)


def kill_hard(server: RunningServer) -> None:
    """SIGKILL: no shutdown handler, no flush, no lifespan — what a power cut leaves, less the OS page cache."""
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=30)
    assert server.process.returncode == -signal.SIGKILL


def restart(server: RunningServer, database_url: str | None) -> RunningServer:
    log = server.data_dir.parent / f"{server.data_dir.name}.log"
    log.rename(log.with_suffix(".before-kill.log"))
    port = int(server.endpoint.rsplit(":", 1)[1])
    return start_server(server.data_dir, server.backend, database_url, port=port)


def test_kill_9_during_writes_loses_no_acknowledged_write(database: tuple[str, str | None], tmp_path: Path) -> None:
    backend, database_url = database
    server = start_server(tmp_path / "data", backend, database_url)
    try:
        set_up(server)
        load = Load(server, uuid.uuid4().hex[:6])
        load.start()
        deadline = time.monotonic() + LOAD_LIMIT
        while load.acked_each() < ACKED_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(random.uniform(0.0, 0.3))  # somewhere in the middle of whatever each writer is doing
        kill_hard(server)
        load.join()
        check_database(server, database_url)  # what the crash left, before the restart touches it
        for name, ledger in load.ledgers().items():
            assert not ledger.errors, (name, ledger.errors)
            assert len(ledger.acked) >= ACKED_BEFORE_KILL or name == "keys", f"too few {name} before the kill"
        server = restart(server, database_url)
        check_iam(server, load)
        check_iot(server, load)
        check_devices(server, load)
        check_objects(server, load)
        still_writable(server)
        summary = {name: (len(ledger.acked), len(ledger.in_flight)) for name, ledger in load.ledgers().items()}
        print(f"{backend}: (acknowledged, in flight at the kill) per kind: {summary}")
    finally:
        server.stop()
    check_database(server, database_url)
