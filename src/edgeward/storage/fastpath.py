"""Statements that run on every request, compiled once and executed on the DBAPI cursor.

SQLAlchemy's per-execution machinery (execution context, result objects, events) costs about ten
times a small indexed SELECT on SQLite. For the few statements on the request hot path (the
access-key lookup), `HotQuery` compiles a Core `select()` once per dialect and runs the SQL string on
the driver cursor. The price: no type processing, so select plain text/integer columns and pass plain
parameters. Errors are still raised as SQLAlchemy exceptions, and a lost connection is invalidated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Dialect, Select
from sqlalchemy.exc import DBAPIError


class HotQuery:
    def __init__(self, stmt: Select[Any]) -> None:
        self._stmt = stmt
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None]] = {}

    def sql(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
        """The driver SQL and, for positional paramstyles, the order of the parameter names."""
        entry = self._compiled.get(dialect.name)
        if entry is None:
            compiled = self._stmt.compile(dialect=dialect)
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            entry = self._compiled[dialect.name] = (str(compiled), order)
        return entry

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row, or None. Runs inside whatever transaction `conn` is in."""
        sql, order = self.sql(conn.dialect)
        args: Any = dict(params) if order is None else tuple(params[name] for name in order)
        dbapi_connection = conn.connection.dbapi_connection
        assert dbapi_connection is not None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(sql, args)
            row = cursor.fetchone()
        except conn.dialect.loaded_dbapi.Error as exc:
            if conn.dialect.is_disconnect(exc, dbapi_connection, cursor):
                conn.invalidate(exc)
            raise DBAPIError.instance(
                sql, args, exc, conn.dialect.loaded_dbapi.Error, hide_parameters=True, dialect=conn.dialect
            ) from exc
        finally:
            cursor.close()
        return None if row is None else tuple(row)
