"""HotQuery: compiled once, run on the driver cursor, errors still SQLAlchemy's."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, Table, Text, bindparam, select
from sqlalchemy.exc import DBAPIError, OperationalError

from edgeward.storage.database import Database, sqlite_url
from edgeward.storage.fastpath import HotQuery
from edgeward.storage.repos import settings as settings_repo
from edgeward.storage.tables import settings

_SETTING = HotQuery(select(settings.c.value).where(settings.c.key == bindparam("key")))


def test_first_row_or_none(database: Database) -> None:
    with database.transaction() as conn:
        settings_repo.put_setting(conn, "k", "v")
    with database.read() as conn:
        assert _SETTING.first(conn, {"key": "k"}) == ("v",)
        assert _SETTING.first(conn, {"key": "missing"}) is None
    dialect = database.engine.dialect
    assert _SETTING.sql(dialect)[0] is _SETTING.sql(dialect)[0]  # compiled once per dialect


def test_sees_the_transaction_it_runs_in(database: Database) -> None:
    with database.transaction() as conn:
        settings_repo.put_setting(conn, "k", "uncommitted")
        assert _SETTING.first(conn, {"key": "k"}) == ("uncommitted",)


def test_driver_errors_become_sqlalchemy_errors(database: Database) -> None:
    missing = Table("no_such_table", MetaData(), Column("key", Text))
    query = HotQuery(select(missing.c.key).where(missing.c.key == bindparam("key")))
    with database.read() as conn, pytest.raises(DBAPIError):
        query.first(conn, {"key": "k"})


def test_sqlite_lock_timeout_is_a_sqlalchemy_error(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE runs in a begin hook; a busy database must still raise SQLAlchemy's error."""
    db = Database(sqlite_url(tmp_path), busy_timeout=0.2)
    db.migrate()
    holding, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with db.transaction() as conn:
            settings_repo.put_setting(conn, "k", "v")
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    try:
        assert holding.wait(10)
        with pytest.raises(OperationalError, match="locked"), db.transaction():
            pass
    finally:
        release.set()
        holder.join()
        db.dispose()
