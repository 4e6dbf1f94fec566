"""Statements that run on every request, compiled once and executed on the DBAPI cursor.

SQLAlchemy's per-execution machinery (execution context, result objects, events) costs about ten
times a small indexed SELECT on SQLite. For the few statements on the request hot paths (the
access-key and session lookups, GetUser, heartbeats, ...), `HotQuery` (SELECT) and `HotStatement`
(INSERT / UPDATE / DELETE) compile a Core statement once per dialect and run the SQL string on the
driver cursor. Column types still apply: each bind parameter goes through its type's bind processor
(aware datetimes, JSON text) and, with `typed=True`, each selected column through its result
processor, exactly as SQLAlchemy would convert them. Errors are raised as SQLAlchemy exceptions
(`IntegrityError` and the rest, parameters hidden), and a lost connection is invalidated. Event
listeners on the engine do not see these statements.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import UpdateBase

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # positional paramstyles: the order of the parameter names
    binds: tuple[tuple[str, Processor], ...]  # parameters whose type converts them
    results: tuple[Processor | None, ...] | None  # per selected column, when converting results


class _Hot:
    def __init__(self, stmt: Select[Any] | UpdateBase, typed: bool) -> None:
        self._stmt = stmt
        self._typed = typed
        self._compiled: dict[str, _Compiled] = {}

    def sql(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
        """The driver SQL and, for positional paramstyles, the order of the parameter names."""
        compiled = self._for(dialect)
        return compiled.sql, compiled.order

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self._stmt.compile(dialect=dialect)
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        binds = []
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                binds.append((name, processor))
        results = None
        if self._typed and isinstance(self._stmt, Select):
            results = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self._stmt.selected_columns
            )
        return _Compiled(str(compiled), order, tuple(binds), results)

    def _args(self, compiled: _Compiled, params: Mapping[str, Any]) -> Any:
        if compiled.binds:
            converted = dict(params)
            for name, processor in compiled.binds:
                if name in converted:
                    converted[name] = processor(converted[name])
            params = converted
        if compiled.order is None:
            return dict(params)
        return tuple(params[name] for name in compiled.order)

    def _run(self, conn: Connection, params: Mapping[str, Any], fetch: int) -> tuple[Any, ...]:
        """Execute; `fetch` 1: (first row or None,), -1: (all rows,), 0: (rowcount,)."""
        compiled = self._for(conn.dialect)
        args = self._args(compiled, params)
        dbapi_connection = conn.connection.dbapi_connection
        assert dbapi_connection is not None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(compiled.sql, args)
            if fetch == 1:
                return (cursor.fetchone(),)
            if fetch == -1:
                return (cursor.fetchall(),)
            return (cursor.rowcount,)
        except conn.dialect.loaded_dbapi.Error as exc:
            if conn.dialect.is_disconnect(exc, dbapi_connection, cursor):
                conn.invalidate(exc)
            raise DBAPIError.instance(
                compiled.sql, args, exc, conn.dialect.loaded_dbapi.Error, hide_parameters=True, dialect=conn.dialect
            ) from exc
        finally:
            cursor.close()

    def _convert(self, conn: Connection, row: Any) -> tuple[Any, ...]:
        results = self._for(conn.dialect).results
        if results is None:
            return tuple(row)
        return tuple(value if convert is None else convert(value) for convert, value in zip(results, row, strict=True))


class HotQuery(_Hot):
    """A SELECT. Without `typed`, rows come as the driver returns them (plain text and integer columns)."""

    def __init__(self, stmt: Select[Any], *, typed: bool = False) -> None:
        super().__init__(stmt, typed)

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row, or None. Runs inside whatever transaction `conn` is in."""
        (row,) = self._run(conn, params, 1)
        return None if row is None else self._convert(conn, row)

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        (rows,) = self._run(conn, params, -1)
        return [self._convert(conn, row) for row in rows]


class HotStatement(_Hot):
    """An INSERT, UPDATE or DELETE (no RETURNING)."""

    def __init__(self, stmt: UpdateBase) -> None:
        super().__init__(stmt, False)

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run it in `conn`'s transaction; the number of rows it matched."""
        (count,) = self._run(conn, params, 0)
        return int(count)


class DecryptedSecrets:
    """Plaintexts of sealed secrets (`SecretBox` tokens) already opened in this process, by token and context.

    Every request signed with a stored key needs its secret; opening the AES-GCM token costs more than the
    indexed lookup that found it. A token's plaintext never changes (a new secret is a new token), so an
    entry can never go stale; the derived SigV4 signing keys are held in memory the same way. Bounded: when
    full it starts over.
    """

    def __init__(self, max_entries: int = 20_000) -> None:
        self._max = max_entries
        self._entries: dict[tuple[int, str, bytes], tuple[object, bytes]] = {}

    def open(self, box: Any, token: str, context: bytes) -> bytes:
        """`box.decrypt(token, context)`, from memory when this box opened this token before."""
        key = (id(box), token, context)
        found = self._entries.get(key)
        if found is not None and found[0] is box:  # (the box itself is kept: an id is unique while it lives)
            return found[1]
        plaintext: bytes = box.decrypt(token, context)
        if len(self._entries) >= self._max:
            self._entries = {}
        self._entries[key] = (box, plaintext)
        return plaintext


SECRETS = DecryptedSecrets()
