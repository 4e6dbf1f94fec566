"""SQLite specifics: connection pragmas and who issues BEGIN, with which lock.

sqlite3's own transaction handling is switched off (`isolation_level = None`); the engine's begin
hook issues `BEGIN IMMEDIATE` for units of work that may write (writers queue on the busy timeout
up front instead of failing when a deferred transaction tries to upgrade its lock) and a deferred
`BEGIN` with `PRAGMA query_only` for `Database.read()`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry

# Per-DBAPI-connection notes: whether the next BEGIN is for reading (consumed by it, so a connection
# used any other way begins for writing) and the connection's current `query_only` state.
_NEXT_BEGIN_READS = "edgeward_next_begin_reads"
_QUERY_ONLY = "edgeward_query_only"

log = logging.getLogger(__name__)


def install_hooks(engine: Engine, busy_timeout: float) -> None:
    busy_ms = int(busy_timeout * 1000)
    event.listen(engine, "connect", lambda dbapi, record: _on_connect(dbapi, record, busy_ms))
    event.listen(engine, "begin", _on_begin)


def begin_reading(conn: Connection) -> None:
    """Make the next BEGIN on `conn` a read-only, deferred one."""
    conn.connection.info[_NEXT_BEGIN_READS] = True


@contextlib.contextmanager
def foreign_keys_off(conn: Connection) -> Iterator[None]:
    """For migrations, which rebuild tables: enforcement off meanwhile (the pragma is a no-op inside a
    transaction, so use this around `conn.begin()`), then `check_foreign_keys` before committing."""
    driver = conn.connection.driver_connection
    assert driver is not None
    _driver_execute(conn, driver, "PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        _driver_execute(conn, driver, "PRAGMA foreign_keys = ON")


def check_foreign_keys(conn: Connection) -> None:
    problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise RuntimeError(f"rows violate foreign keys: {problems[:5]}")


def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry, busy_ms: int) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms:d}")
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("SQLite refused WAL mode (journal_mode=%s); concurrent readers will block", mode)
        # FULL: a commit that was acknowledged survives power loss too, not only a process crash.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()
    record.info[_QUERY_ONLY] = False


def _on_begin(conn: Connection) -> None:
    # Straight to the driver: this runs for every unit of work, and SQLAlchemy needs no record of it
    # (sqlite3's commit() and rollback() look at SQLite's own transaction state).
    pooled = conn.connection
    driver = pooled.driver_connection
    assert driver is not None
    reads = bool(pooled.info.pop(_NEXT_BEGIN_READS, False))
    if pooled.info.get(_QUERY_ONLY) != reads:
        _driver_execute(conn, driver, f"PRAGMA query_only = {'ON' if reads else 'OFF'}")
        pooled.info[_QUERY_ONLY] = reads
    _driver_execute(conn, driver, "BEGIN" if reads else "BEGIN IMMEDIATE")


def _driver_execute(conn: Connection, driver: Any, sql: str) -> None:
    """Run `sql` on the driver connection, raising SQLAlchemy's exceptions like any statement would
    (begin hooks run outside SQLAlchemy's own error translation)."""
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        driver.execute(sql)
    except dbapi_error as exc:
        raise DBAPIError.instance(sql, None, exc, dbapi_error, dialect=conn.dialect) from exc
