"""Keyset pages over a table sorted by one column with `name` breaking ties (names are unique per account and
region): a page costs the same however deep it is, and rows created meanwhile are neither skipped nor repeated.
Shared by the deployment-plan and packaging-job listings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, Select, Table, bindparam, tuple_


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """CreationTime/LastModifiedTime Before/After filters; None means "any"."""

    created_after: datetime | None = None
    created_before: datetime | None = None
    modified_after: datetime | None = None
    modified_before: datetime | None = None

    def conditions(self, table: Table) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.created_after is not None:
            conditions.append(table.c.created_at > self.created_after)
        if self.created_before is not None:
            conditions.append(table.c.created_at < self.created_before)
        if self.modified_after is not None:
            conditions.append(table.c.last_modified_at > self.modified_after)
        if self.modified_before is not None:
            conditions.append(table.c.last_modified_at < self.modified_before)
        return conditions


def keyset_page(
    conn: Connection,
    stmt: Select[Any],
    table: Table,
    sort_column: str,
    *,
    descending: bool,
    after: Sequence[Any] | None,
    limit: int,
) -> tuple[list[RowMapping], tuple[Any, str] | None]:
    """Rows of `stmt` in (sort column, name) order after `after`, and the position of the last one when more
    follow."""
    column, name = table.c[sort_column], table.c.name
    key = tuple_(column, name)
    if after is not None:
        # Typed binds: the time columns store UTC their own way on SQLite.
        bound = tuple_(bindparam(None, after[0], type_=column.type), bindparam(None, after[1], type_=name.type))
        stmt = stmt.where(key < bound if descending else key > bound)
    order = (column.desc(), name.desc()) if descending else (column.asc(), name.asc())
    rows = conn.execute(stmt.order_by(*order).limit(limit + 1)).mappings().all()
    page = list(rows[:limit])
    if len(rows) <= limit:
        return page, None
    return page, (page[-1][sort_column], page[-1]["name"])
