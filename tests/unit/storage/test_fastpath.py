"""HotQuery and HotStatement: compiled once, run on the driver cursor, column types and errors still SQLAlchemy's."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Boolean, Column, MetaData, Table, Text, bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from edgeward.storage.database import Database, sqlite_url
from edgeward.storage.fastpath import DecryptedSecrets, HotQuery, HotStatement
from edgeward.storage.repos import settings as settings_repo
from edgeward.storage.tables import settings
from edgeward.storage.types import JsonText, UtcDateTime

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


# -- typed rows, writes, several rows ---------------------------------------------------------------------

_typed = MetaData()
_things = Table(
    "fastpath_things",
    _typed,
    Column("name", Text, primary_key=True),
    Column("at", UtcDateTime, nullable=True),
    Column("doc", JsonText, nullable=True),
    Column("flag", Boolean, nullable=False),
)
_INSERT = HotStatement(
    insert(_things).values(
        name=bindparam("v_name"),
        at=bindparam("v_at", type_=UtcDateTime),
        doc=bindparam("v_doc", type_=JsonText),
        flag=bindparam("v_flag", type_=Boolean),
    )
)
_UPDATE = HotStatement(update(_things).where(_things.c.name == bindparam("b_name")).values(flag=bindparam("b_flag")))
_ONE = HotQuery(select(_things).where(_things.c.name == bindparam("name")), typed=True)
_RAW = HotQuery(select(_things).where(_things.c.name == bindparam("name")))
_ALL = HotQuery(select(_things.c.name).order_by(_things.c.name))


@pytest.fixture
def things(database: Database) -> Iterator[Database]:
    with database.transaction() as conn:
        _typed.create_all(conn)
    try:
        yield database
    finally:
        with database.transaction() as conn:
            _typed.drop_all(conn)


def test_parameters_and_rows_go_through_the_column_types(things: Database) -> None:
    at = datetime(2026, 11, 21, 12, 30, 5, tzinfo=UTC)
    with things.transaction() as conn:
        assert _INSERT.execute(conn, {"v_name": "a", "v_at": at, "v_doc": {"k": [1, "é"]}, "v_flag": True}) == 1
        assert _INSERT.execute(conn, {"v_name": "b", "v_at": None, "v_doc": None, "v_flag": False}) == 1
    with things.read() as conn:
        assert _ONE.first(conn, {"name": "a"}) == ("a", at, {"k": [1, "é"]}, True)
        assert _ONE.first(conn, {"name": "b"}) == ("b", None, None, False)
        raw = _RAW.first(conn, {"name": "a"})
        assert raw is not None and isinstance(raw[2], str)  # untyped: as the driver returns it
        assert _ALL.all(conn, {}) == [("a",), ("b",)]
    # what SQLAlchemy itself reads back is the same
    with things.read() as conn:
        row = conn.execute(select(_things).where(_things.c.name == "a")).one()
        assert tuple(row) == ("a", at, {"k": [1, "é"]}, True)


def test_a_statement_counts_the_rows_it_matched(things: Database) -> None:
    with things.transaction() as conn:
        _INSERT.execute(conn, {"v_name": "a", "v_at": None, "v_doc": None, "v_flag": False})
        assert _UPDATE.execute(conn, {"b_name": "a", "b_flag": True}) == 1
        assert _UPDATE.execute(conn, {"b_name": "missing", "b_flag": True}) == 0


def test_a_naive_datetime_is_refused_as_by_sqlalchemy(things: Database) -> None:
    with things.transaction() as conn, pytest.raises(ValueError, match="naive"):
        _INSERT.execute(conn, {"v_name": "a", "v_at": datetime(2026, 1, 1), "v_doc": None, "v_flag": False})


def test_a_constraint_violation_is_sqlalchemys_integrity_error(things: Database) -> None:
    values = {"v_name": "a", "v_at": None, "v_doc": None, "v_flag": False}
    with things.transaction() as conn:
        _INSERT.execute(conn, values)
    with pytest.raises(IntegrityError), things.transaction() as conn:
        _INSERT.execute(conn, values)
    with things.read() as conn:
        assert _ALL.all(conn, {}) == [("a",)]


def test_secrets_are_opened_once_per_token_and_box() -> None:
    opened: list[str] = []

    class Box:
        def decrypt(self, token: str, context: bytes) -> bytes:
            opened.append(token)
            return f"{token}/{context.decode()}".encode()

    cache, first, second = DecryptedSecrets(max_entries=2), Box(), Box()
    assert cache.open(first, "t1", b"c") == b"t1/c"
    assert cache.open(first, "t1", b"c") == b"t1/c"
    assert opened == ["t1"]
    assert cache.open(first, "t1", b"other") == b"t1/other"  # another context is another secret
    assert cache.open(second, "t1", b"c") == b"t1/c"  # another box (key-encryption key) opens it itself
    assert opened == ["t1", "t1", "t1"]
