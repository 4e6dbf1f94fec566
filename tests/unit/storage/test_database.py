"""Database: migrations, transactions, SQLite durability settings, processes and forks."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select
from sqlalchemy.exc import OperationalError

from edgeward.core import clock
from edgeward.storage.database import Database, sqlite_url
from edgeward.storage.repos import settings as settings_repo
from edgeward.storage.schema import head_revision
from edgeward.storage.tables import accounts, metadata, settings

EXPECTED_TABLES = set(metadata.tables) | {"alembic_version"}


def test_migrations_apply_and_are_idempotent(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        assert db.schema_revision() is None
        assert not db.is_current()
        db.migrate()
        assert db.schema_revision() == head_revision()
        db.migrate()
        assert db.is_current()
        assert set(inspect(db.engine).get_table_names()) == EXPECTED_TABLES
    finally:
        db.dispose()


def test_migrated_schema_matches_the_tables_module(database: Database) -> None:
    with database.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_transaction_commits(database: Database) -> None:
    with database.transaction() as conn:
        settings_repo.put_setting(conn, "k", "v")
    with database.read() as conn:
        assert settings_repo.get_setting(conn, "k") == "v"


def test_nothing_is_half_written_after_an_exception(database: Database) -> None:
    with pytest.raises(RuntimeError, match="boom"), database.transaction() as conn:
        settings_repo.put_setting(conn, "first", "1")
        conn.execute(insert(accounts).values(account_id="123456789012", created_at=clock.now()))
        raise RuntimeError("boom")
    with database.read() as conn:
        assert settings_repo.get_setting(conn, "first") is None
        assert conn.execute(select(accounts)).all() == []


def test_read_sees_committed_data_only(database: Database) -> None:
    with database.transaction() as writer:
        settings_repo.put_setting(writer, "k", "uncommitted")
        with database.read() as reader:
            assert settings_repo.get_setting(reader, "k") is None


def test_sqlite_read_refuses_writes(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path))
    try:
        db.migrate()
        with pytest.raises(OperationalError, match="readonly"), db.read() as conn:
            settings_repo.put_setting(conn, "k", "v")
        with db.transaction() as conn:  # the same pooled connection writes again afterwards
            settings_repo.put_setting(conn, "k", "v")
    finally:
        db.dispose()


def test_sqlite_durability_settings(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path))
    try:
        with db.transaction() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        db.dispose()
    assert pragma == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 30000}


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="SQLite file"):
        Database("sqlite://")


def test_repr_hides_the_password() -> None:
    db = Database("postgresql+psycopg://edgeward:hunter2@db.example:5432/edgeward")
    assert "hunter2" not in repr(db)
    assert db.dialect == "postgresql"
    assert "hunter2" in db.url


def test_wipe_deletes_all_rows_and_keeps_the_schema(database: Database) -> None:
    with database.transaction() as conn:
        settings_repo.put_setting(conn, "k", "v")
        conn.execute(insert(accounts).values(account_id="123456789012", created_at=clock.now()))
    database.wipe()
    with database.read() as conn:
        assert conn.execute(select(settings)).all() == []
        assert conn.execute(select(accounts)).all() == []
    assert database.is_current()


# -- several processes -----------------------------------------------------------------------------


def _migrate_in_child(url: str) -> None:
    db = Database(url)
    db.migrate()
    db.dispose()


def test_concurrent_migrations_from_several_processes(empty_database_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_migrate_in_child, args=(empty_database_url,)) for _ in range(3)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    db = Database(empty_database_url)
    try:
        assert db.is_current()
    finally:
        db.dispose()


def _increment(db: Database, times: int) -> None:
    for _ in range(times):
        with db.transaction() as conn:
            # Read-then-write on purpose: only correct if write transactions serialize from the start.
            current = int(settings_repo.get_setting(conn, "counter") or "0")
            settings_repo.put_setting(conn, "counter", str(current + 1))


def _increment_in_child(db: Database, times: int) -> None:
    try:
        _increment(db, times)
    except BaseException:
        os._exit(1)
    os._exit(0)


def test_sqlite_writers_in_forked_workers_serialize(tmp_path: Path) -> None:
    """Like `--workers 2`: the parent migrates and has used the Database; forked children reuse it."""
    db = Database(sqlite_url(tmp_path))
    db.migrate()
    _increment(db, 1)  # the parent holds pooled connections when it forks
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_increment_in_child, args=(db, 40)) for _ in range(3)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    with db.read() as conn:  # the parent's pool still works after the children used theirs
        assert settings_repo.get_setting(conn, "counter") == str(1 + 3 * 40)
    db.dispose()


def test_forked_child_gets_its_own_engine(database: Database) -> None:
    parent_engine = database.engine
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[bool] = ctx.Queue()

    def child() -> None:
        queue.put(database.engine is not parent_engine)
        with database.transaction() as conn:
            settings_repo.put_setting(conn, "from-child", "yes")

    proc = ctx.Process(target=child)
    proc.start()
    proc.join(60)
    assert proc.exitcode == 0
    assert queue.get(timeout=5) is True
    assert database.engine is parent_engine
    with database.read() as conn:
        assert settings_repo.get_setting(conn, "from-child") == "yes"


def test_for_worker_is_a_fresh_handle(database: Database) -> None:
    worker = database.for_worker()
    try:
        assert worker.engine is not database.engine
        assert worker.url == database.url
        with worker.transaction() as conn:
            settings_repo.put_setting(conn, "k", "v")
        with database.read() as conn:
            assert settings_repo.get_setting(conn, "k") == "v"
    finally:
        worker.dispose()
