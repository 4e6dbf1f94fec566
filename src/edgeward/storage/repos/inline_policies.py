"""Inline policies of users, groups and roles (`owner_type` 'user' | 'group' | 'role', `owner_id` its row id).

Polymorphic rows without a foreign key: callers write them under the owner's row lock
(`get_user/get_group/get_role(..., lock=True)`), which DeleteUser/DeleteGroup/DeleteRole take too.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError

from edgeward.core import clock
from edgeward.storage.tables_policies import iam_inline_policies as table


@dataclass(frozen=True, slots=True)
class InlinePolicy:
    owner_type: str
    owner_id: int
    name: str
    document: str
    updated_at: datetime


def put(
    conn: Connection,
    account: str,
    owner_type: str,
    owner_id: int,
    name: str,
    document: str,
    *,
    now: datetime | None = None,
) -> None:
    """Create or replace the owner's inline policy `name` (names are case-sensitive, as in IAM)."""
    when = now or clock.now()
    if _replace(conn, owner_type, owner_id, name, document, when):
        return
    stmt = insert(table).values(
        account_id=account,
        principal_type=owner_type,
        principal_id=owner_id,
        name=name,
        document=document,
        updated_at=when,
    )
    try:
        with conn.begin_nested():
            conn.execute(stmt)
    except IntegrityError:  # a concurrent put created it first: ours replaces it
        _replace(conn, owner_type, owner_id, name, document, when)


def _replace(conn: Connection, owner_type: str, owner_id: int, name: str, document: str, when: datetime) -> bool:
    stmt = (
        update(table)
        .where(table.c.principal_type == owner_type, table.c.principal_id == owner_id, table.c.name == name)
        .values(document=document, updated_at=when)
    )
    return bool(conn.execute(stmt).rowcount)


def get(conn: Connection, owner_type: str, owner_id: int, name: str) -> InlinePolicy | None:
    stmt = select(table).where(
        table.c.principal_type == owner_type, table.c.principal_id == owner_id, table.c.name == name
    )
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else _record(row)


def delete(conn: Connection, owner_type: str, owner_id: int, name: str) -> bool:
    stmt = table.delete().where(
        table.c.principal_type == owner_type, table.c.principal_id == owner_id, table.c.name == name
    )
    return bool(conn.execute(stmt).rowcount)


def list_for(conn: Connection, owner_type: str, owner_id: int) -> list[InlinePolicy]:
    """The owner's inline policies, by name."""
    stmt = (
        select(table)
        .where(table.c.principal_type == owner_type, table.c.principal_id == owner_id)
        .order_by(table.c.name)
    )
    return [_record(row) for row in conn.execute(stmt).mappings()]


def list_for_many(conn: Connection, owner_type: str, owner_ids: Collection[int]) -> dict[int, list[InlinePolicy]]:
    """Owner id -> its inline policies (by name), for several owners of one type in one query."""
    found: dict[int, list[InlinePolicy]] = {owner_id: [] for owner_id in owner_ids}
    if not owner_ids:
        return found
    stmt = (
        select(table)
        .where(table.c.principal_type == owner_type, table.c.principal_id.in_(list(owner_ids)))
        .order_by(table.c.principal_id, table.c.name)
    )
    for row in conn.execute(stmt).mappings():
        found.setdefault(row["principal_id"], []).append(_record(row))
    return found


def names(conn: Connection, owner_type: str, owner_id: int) -> list[str]:
    """The owner's inline policy names in code-point order (the order of IAM's list markers, on any locale)."""
    return sorted(policy.name for policy in list_for(conn, owner_type, owner_id))


def _record(row: RowMapping) -> InlinePolicy:
    return InlinePolicy(
        owner_type=row["principal_type"],
        owner_id=row["principal_id"],
        name=row["name"],
        document=row["document"],
        updated_at=row["updated_at"],
    )
