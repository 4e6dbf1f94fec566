"""Database fixtures for any test that needs storage.

- `database`: a migrated, empty `Database`, once on SQLite (a temp file) and once on PostgreSQL when
  `EDGEWARD_TEST_DATABASE_URL` names a server (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test).
  Each test session (each xdist worker) creates its own database `edgeward_t_<random>` there and drops
  it at the end; tests get it wiped.
- `empty_database_url`: the URL of a database with no schema at all (new file / new PostgreSQL database).
- `postgres_server`: creates and drops throwaway PostgreSQL databases (skips without the variable).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from edgeward.storage.database import Database, sqlite_url

ENV_VAR = "EDGEWARD_TEST_DATABASE_URL"
SKIP_REASON = "PostgreSQL tests skipped: set EDGEWARD_TEST_DATABASE_URL"


def _server_url() -> str | None:
    return os.environ.get(ENV_VAR) or None


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgres",
        id="postgres",
        marks=[pytest.mark.postgres, pytest.mark.skipif(_server_url() is None, reason=SKIP_REASON)],
    ),
]


class PostgresServer:
    """Creates throwaway databases on the server named by the URL, and drops them all at the end."""

    def __init__(self, url: str) -> None:
        self._url = make_url(url)
        self._created: list[str] = []

    def _run(self, sql: str) -> None:
        engine = create_engine(self._url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(sql))
        finally:
            engine.dispose()

    def create(self) -> str:
        name = f"edgeward_t_{secrets.token_hex(6)}"
        self._run(f'CREATE DATABASE "{name}"')
        self._created.append(name)
        return self._url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        while self._created:
            self._run(f'DROP DATABASE IF EXISTS "{self._created.pop()}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url = _server_url()
    if url is None:
        pytest.skip(SKIP_REASON)
    server = PostgresServer(url)
    try:
        yield server
    finally:
        server.drop_all()


@pytest.fixture(scope="session")
def _postgres_migrated_url(postgres_server: PostgresServer) -> str:
    url = postgres_server.create()
    db = Database(url)
    db.migrate()
    db.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create()


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database(sqlite_url(tmp_path))
        db.migrate()
    else:
        db = Database(request.getfixturevalue("_postgres_migrated_url"))
        db.wipe()
    try:
        yield db
    finally:
        db.dispose()
