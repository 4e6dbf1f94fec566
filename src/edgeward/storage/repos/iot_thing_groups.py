"""IoT static thing groups: the hierarchy (each group has at most one parent) and the things in each group.

Names are case-sensitive and unique per account. The database keeps a group with child groups from being
deleted; deleting a group or a thing removes its memberships.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import CTE, Connection, RowMapping, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from edgeward.core import clock
from edgeward.storage.errors import AlreadyExists, InUse, NotFound
from edgeward.storage.integrity import Kind, violation
from edgeward.storage.repos.iot_things import keyset_page
from edgeward.storage.tables_iot_things import iot_thing_group_members, iot_thing_groups, iot_things

groups = iot_thing_groups
members = iot_thing_group_members


@dataclass(frozen=True, slots=True)
class ThingGroupRecord:
    id: int
    account: str
    name: str
    thing_group_id: str
    arn: str
    parent_id: int | None
    description: str | None
    attributes: Mapping[str, str]
    version: int
    created_at: datetime
    tags: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class GroupFilter:
    """ListThingGroups' filters: children of `parent_id` (all descendants when `recursive`), name prefix."""

    parent_id: int | None = None
    recursive: bool = False
    name_prefix: str | None = None


def create_thing_group(
    conn: Connection,
    account: str,
    name: str,
    *,
    thing_group_id: str,
    arn: str,
    parent_id: int | None,
    description: str | None,
    attributes: Mapping[str, str],
    tags: Mapping[str, str],
    now: datetime | None = None,
) -> ThingGroupRecord:
    """Insert a group; AlreadyExists when the name is taken, NotFound when the parent vanished."""
    values: dict[str, Any] = {
        "account_id": account,
        "name": name,
        "thing_group_id": thing_group_id,
        "arn": arn,
        "parent_id": parent_id,
        "description": description,
        "attributes": dict(attributes),
        "version": 1,
        "created_at": now or clock.now(),
        "tags": dict(tags),
    }
    try:
        with conn.begin_nested():
            row_id = conn.execute(insert(groups).values(values).returning(groups.c.id)).scalar_one()
    except IntegrityError as exc:
        found = violation(exc)
        if found.is_unique(groups, "account_id", "name"):
            raise AlreadyExists(f"Thing group {name} already exists.") from None
        if found.kind is Kind.FOREIGN_KEY:
            raise NotFound("The parent thing group no longer exists.") from None
        raise
    return _record({**values, "id": row_id})


def get_thing_group(conn: Connection, account: str, name: str, *, lock: bool = False) -> ThingGroupRecord | None:
    stmt = select(groups).where(groups.c.account_id == account, groups.c.name == name)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else _record(row)


def ancestors(conn: Connection, group: ThingGroupRecord) -> list[ThingGroupRecord]:
    """The group's ancestors from the root down to its parent (rootToParentThingGroups)."""
    lineage = _lineage_up(group.parent_id)
    rows = conn.execute(select(groups).join(lineage, lineage.c.id == groups.c.id)).mappings()
    by_id = {row["id"]: _record(row) for row in rows}
    chain: list[ThingGroupRecord] = []
    current = group.parent_id
    while current is not None and current in by_id:
        chain.append(by_id[current])
        current = by_id[current].parent_id
    return chain[::-1]


def list_thing_groups(
    conn: Connection, account: str, where: GroupFilter, after: str | None, limit: int
) -> tuple[list[ThingGroupRecord], str | None]:
    """Groups in name order, filtered, a page at a time."""
    stmt = select(groups).where(groups.c.account_id == account)
    if where.parent_id is not None:
        if where.recursive:
            below = _lineage_down(where.parent_id)
            stmt = stmt.where(groups.c.id.in_(select(below.c.id)), groups.c.id != where.parent_id)
        else:
            stmt = stmt.where(groups.c.parent_id == where.parent_id)
    if where.name_prefix:
        stmt = stmt.where(func.substr(groups.c.name, 1, len(where.name_prefix)) == where.name_prefix)
    rows, next_key = keyset_page(conn, stmt, groups.c.name, after, limit)
    return [_record(row) for row in rows], next_key


def update_thing_group(
    conn: Connection, group: ThingGroupRecord, *, description: str | None, attributes: Mapping[str, str]
) -> int:
    """New description and attributes, version + 1; returns the new version. Read the group with
    `get_thing_group(..., lock=True)` first (the caller compares versions and merges attributes)."""
    stmt = update(groups).where(groups.c.id == group.id)
    changes = {"description": description, "attributes": dict(attributes), "version": group.version + 1}
    if conn.execute(stmt.values(changes)).rowcount == 0:
        raise NotFound(f"Thing group {group.name} no longer exists.")
    return group.version + 1


def delete_thing_group(conn: Connection, group: ThingGroupRecord) -> None:
    """Delete a group and its memberships; InUse while it has child groups (the foreign key decides)."""
    try:
        with conn.begin_nested():
            conn.execute(delete(groups).where(groups.c.id == group.id))
    except IntegrityError as exc:
        if violation(exc).kind is Kind.FOREIGN_KEY:
            raise InUse(f"Thing group {group.name} has child groups.") from None
        raise


# -- membership --------------------------------------------------------------------------------------


def add_thing(conn: Connection, group: ThingGroupRecord, thing_row_id: int, now: datetime | None = None) -> None:
    """Put a thing in a group (again: nothing changes); NotFound when either is gone."""
    values = {"group_id": group.id, "thing_id": thing_row_id, "added_at": now or clock.now()}
    try:
        with conn.begin_nested():
            conn.execute(insert(members).values(values))
    except IntegrityError as exc:
        found = violation(exc)
        if found.kind is Kind.FOREIGN_KEY:
            raise NotFound("The thing or the thing group no longer exists.") from None
        if not found.is_unique(members, "group_id", "thing_id"):
            raise


def remove_thing(conn: Connection, group: ThingGroupRecord, thing_row_id: int) -> bool:
    stmt = delete(members).where(members.c.group_id == group.id, members.c.thing_id == thing_row_id)
    return bool(conn.execute(stmt).rowcount)


def group_count_for_thing(conn: Connection, thing_row_id: int) -> int:
    return int(conn.execute(select(func.count()).where(members.c.thing_id == thing_row_id)).scalar_one())


def list_things_in_group(
    conn: Connection, group: ThingGroupRecord, recursive: bool, after: str | None, limit: int
) -> tuple[list[str], str | None]:
    """Names of the group's things (with `recursive`, of its subgroups' too), in name order."""
    group_ids = (
        select(_lineage_down(group.id).c.id) if recursive else select(groups.c.id).where(groups.c.id == group.id)
    )
    thing_ids = select(members.c.thing_id).where(members.c.group_id.in_(group_ids))
    stmt = select(iot_things.c.name).where(iot_things.c.id.in_(thing_ids))
    rows, next_key = keyset_page(conn, stmt, iot_things.c.name, after, limit)
    return [row["name"] for row in rows], next_key


def list_groups_for_thing(
    conn: Connection, thing_row_id: int, after: str | None, limit: int
) -> tuple[list[ThingGroupRecord], str | None]:
    """The groups the thing was added to (not their ancestors), in name order."""
    stmt = select(groups).join(members, members.c.group_id == groups.c.id).where(members.c.thing_id == thing_row_id)
    rows, next_key = keyset_page(conn, stmt, groups.c.name, after, limit)
    return [_record(row) for row in rows], next_key


def _lineage_up(start_id: int | None) -> CTE:
    """The group `start_id` and its ancestors."""
    start = select(groups.c.id, groups.c.parent_id).where(groups.c.id == start_id).cte("up", recursive=True)
    child = start.alias("up_child")
    return start.union(select(groups.c.id, groups.c.parent_id).join(child, groups.c.id == child.c.parent_id))


def _lineage_down(start_id: int) -> CTE:
    """The group `start_id` and its descendants."""
    start = select(groups.c.id).where(groups.c.id == start_id).cte("down", recursive=True)
    parent = start.alias("down_parent")
    return start.union(select(groups.c.id).join(parent, groups.c.parent_id == parent.c.id))


def _record(row: RowMapping | Mapping[str, Any]) -> ThingGroupRecord:
    return ThingGroupRecord(
        id=row["id"],
        account=row["account_id"],
        name=row["name"],
        thing_group_id=row["thing_group_id"],
        arn=row["arn"],
        parent_id=row["parent_id"],
        description=row["description"],
        attributes=MappingProxyType(dict(row["attributes"])),
        version=row["version"],
        created_at=row["created_at"],
        tags=MappingProxyType(dict(row["tags"])),
    )
