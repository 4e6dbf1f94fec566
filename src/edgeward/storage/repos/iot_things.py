"""IoT things, their attributes, and the principals attached to them.

Other areas read things through `get_thing`, `is_principal_attached`, `principal_thing_count` and
`thing_group_arns_for_thing` (the credentials provider, IoT policy evaluation, SageMaker device registration).
Thing names are case-sensitive and unique per account; the database enforces it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from edgeward.core import clock
from edgeward.storage.errors import AlreadyExists, InUse, NotFound
from edgeward.storage.integrity import Kind, violation
from edgeward.storage.tables_iot_things import (
    iot_thing_attributes,
    iot_thing_group_members,
    iot_thing_groups,
    iot_thing_principals,
    iot_thing_types,
    iot_things,
)


@dataclass(frozen=True, slots=True)
class ThingRecord:
    name: str
    thing_id: str
    arn: str
    account: str
    thing_type_name: str | None
    attributes: Mapping[str, str]
    version: int
    id: int  # the database row's id (memberships and principals refer to it)


@dataclass(frozen=True, slots=True)
class ThingFilter:
    """ListThings' filters: an attribute (exact value, or value prefix), and a thing type."""

    attribute_name: str | None = None
    attribute_value: str | None = None
    value_is_prefix: bool = False
    thing_type_name: str | None = None


# -- things ------------------------------------------------------------------------------------------


def get_thing(conn: Connection, account: str, name: str, *, lock: bool = False) -> ThingRecord | None:
    """The thing of that exact name. `lock=True` holds its row (FOR UPDATE on PostgreSQL; SQLite's writes
    are serial anyway) for read-modify-write changes such as attribute merges."""
    stmt = _things().where(iot_things.c.account_id == account, iot_things.c.name == name)
    if lock:
        stmt = stmt.with_for_update(of=iot_things)
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else _with_attributes(conn, [row])[0]


def create_thing(
    conn: Connection,
    account: str,
    name: str,
    *,
    thing_id: str,
    arn: str,
    type_id: int | None,
    attributes: Mapping[str, str],
    now: datetime | None = None,
) -> None:
    """Insert a thing; AlreadyExists when the name is taken, NotFound when its thing type vanished."""
    values: dict[str, Any] = {
        "account_id": account,
        "name": name,
        "thing_id": thing_id,
        "arn": arn,
        "type_id": type_id,
        "version": 1,
        "created_at": now or clock.now(),
        "tags": {},
    }
    try:
        with conn.begin_nested():
            row_id = conn.execute(insert(iot_things).values(values).returning(iot_things.c.id)).scalar_one()
    except IntegrityError as exc:
        found = violation(exc)
        if found.is_unique(iot_things, "account_id", "name"):
            raise AlreadyExists(f"Thing {name} already exists.") from None
        if found.kind is Kind.FOREIGN_KEY:
            raise NotFound("The thing type no longer exists.") from None
        raise
    _insert_attributes(conn, row_id, attributes)


def update_thing(
    conn: Connection, thing: ThingRecord, *, type_id: int | None, attributes: Mapping[str, str] | None
) -> None:
    """Set the thing's type (None: none) and, unless None, replace its attributes; the version goes up by one.
    Read the thing with `get_thing(..., lock=True)` first: the caller compares versions and merges."""
    stmt = update(iot_things).where(iot_things.c.id == thing.id)
    try:
        with conn.begin_nested():
            changed = conn.execute(stmt.values(type_id=type_id, version=iot_things.c.version + 1)).rowcount
    except IntegrityError as exc:
        if violation(exc).kind is Kind.FOREIGN_KEY:
            raise NotFound("The thing type no longer exists.") from None
        raise
    if changed == 0:
        raise NotFound(f"Thing {thing.name} no longer exists.")
    if attributes is not None:
        conn.execute(delete(iot_thing_attributes).where(iot_thing_attributes.c.thing_id == thing.id))
        _insert_attributes(conn, thing.id, attributes)


def delete_thing(conn: Connection, thing: ThingRecord) -> None:
    """Delete a thing with its attributes and group memberships; InUse while principals are attached (the
    foreign key decides, so a concurrent AttachThingPrincipal cannot slip past)."""
    try:
        with conn.begin_nested():
            conn.execute(delete(iot_things).where(iot_things.c.id == thing.id))
    except IntegrityError as exc:
        if violation(exc).kind is Kind.FOREIGN_KEY:
            raise InUse(f"Thing {thing.name} is still attached to one or more principals") from None
        raise


def list_things(
    conn: Connection, account: str, where: ThingFilter, after: str | None, limit: int
) -> tuple[list[ThingRecord], str | None]:
    """Things in name order, filtered, a page at a time, and the name the next page starts after."""
    stmt = _things().where(iot_things.c.account_id == account)
    if where.thing_type_name is not None:
        stmt = stmt.where(iot_thing_types.c.name == where.thing_type_name)
    if where.attribute_name is not None:
        stmt = stmt.where(_has_attribute(where))
    rows, next_key = keyset_page(conn, stmt, iot_things.c.name, after, limit)
    return _with_attributes(conn, rows), next_key


def _has_attribute(where: ThingFilter) -> ColumnElement[bool]:
    attribute = iot_thing_attributes.c
    conditions = [attribute.thing_id == iot_things.c.id, attribute.name == where.attribute_name]
    if where.attribute_value is not None:
        value = where.attribute_value
        if where.value_is_prefix:
            # substr, not LIKE: values may hold % and _, and SQLite's LIKE ignores letter case.
            conditions.append(func.substr(attribute.value, 1, len(value)) == value)
        else:
            conditions.append(attribute.value == value)
    return exists().where(and_(*conditions))


def _things() -> Select[Any]:
    return select(iot_things, iot_thing_types.c.name.label("type_name")).select_from(
        iot_things.outerjoin(iot_thing_types, iot_thing_types.c.id == iot_things.c.type_id)
    )


def _insert_attributes(conn: Connection, thing_row_id: int, attributes: Mapping[str, str]) -> None:
    if attributes:
        rows = [{"thing_id": thing_row_id, "name": key, "value": value} for key, value in attributes.items()]
        conn.execute(insert(iot_thing_attributes), rows)


def _with_attributes(conn: Connection, rows: list[RowMapping]) -> list[ThingRecord]:
    """Records for thing rows, their attributes read in one query."""
    found: dict[int, dict[str, str]] = {row["id"]: {} for row in rows}
    if found:
        stmt = select(iot_thing_attributes).where(iot_thing_attributes.c.thing_id.in_(list(found)))
        for attribute in conn.execute(stmt.order_by(iot_thing_attributes.c.name)).mappings():
            found[attribute["thing_id"]][attribute["name"]] = attribute["value"]
    return [
        ThingRecord(
            name=row["name"],
            thing_id=row["thing_id"],
            arn=row["arn"],
            account=row["account_id"],
            thing_type_name=row["type_name"],
            attributes=MappingProxyType(found[row["id"]]),
            version=row["version"],
            id=row["id"],
        )
        for row in rows
    ]


# -- principals --------------------------------------------------------------------------------------


def attach_principal(
    conn: Connection, thing: ThingRecord, principal: str, principal_type: str, now: datetime | None = None
) -> None:
    """Attach a principal to a thing (again: the attachment's type is updated); NotFound if the thing is gone."""
    values = {
        "thing_id": thing.id,
        "principal": principal,
        "account_id": thing.account,
        "principal_type": principal_type,
        "attached_at": now or clock.now(),
    }
    try:
        with conn.begin_nested():
            conn.execute(insert(iot_thing_principals).values(values))
    except IntegrityError as exc:
        found = violation(exc)
        if found.kind is Kind.FOREIGN_KEY:
            raise NotFound(f"Thing {thing.name} no longer exists.") from None
        if not found.is_unique(iot_thing_principals, "thing_id", "principal"):
            raise
        stmt = update(iot_thing_principals).where(
            iot_thing_principals.c.thing_id == thing.id, iot_thing_principals.c.principal == principal
        )
        conn.execute(stmt.values(principal_type=principal_type))


def detach_principal(conn: Connection, thing: ThingRecord, principal: str) -> bool:
    """Detach; False when it was not attached."""
    stmt = delete(iot_thing_principals).where(
        iot_thing_principals.c.thing_id == thing.id, iot_thing_principals.c.principal == principal
    )
    return bool(conn.execute(stmt).rowcount)


def principal_attachments(conn: Connection, account: str, principal: str) -> dict[str, str]:
    """Thing name -> attachment type (`EXCLUSIVE_THING`/`NON_EXCLUSIVE_THING`) for every thing the principal
    is attached to."""
    stmt = (
        select(iot_things.c.name, iot_thing_principals.c.principal_type)
        .join(iot_things, iot_things.c.id == iot_thing_principals.c.thing_id)
        .where(iot_thing_principals.c.account_id == account, iot_thing_principals.c.principal == principal)
    )
    return {row.name: row.principal_type for row in conn.execute(stmt)}


def list_thing_principals(
    conn: Connection, thing: ThingRecord, after: str | None, limit: int
) -> tuple[list[str], str | None]:
    stmt = select(iot_thing_principals.c.principal).where(iot_thing_principals.c.thing_id == thing.id)
    rows, next_key = keyset_page(conn, stmt, iot_thing_principals.c.principal, after, limit)
    return [row["principal"] for row in rows], next_key


def list_principal_things(
    conn: Connection, account: str, principal: str, after: str | None, limit: int
) -> tuple[list[str], str | None]:
    stmt = (
        select(iot_things.c.name)
        .join(iot_thing_principals, iot_thing_principals.c.thing_id == iot_things.c.id)
        .where(iot_thing_principals.c.account_id == account, iot_thing_principals.c.principal == principal)
    )
    rows, next_key = keyset_page(conn, stmt, iot_things.c.name, after, limit)
    return [row["name"] for row in rows], next_key


def is_principal_attached(conn: Connection, account: str, thing_name: str, principal_arn: str) -> bool:
    """Whether `principal_arn` is attached to the account's thing `thing_name` (the credentials provider's
    `x-amzn-iot-thingname` check)."""
    stmt = (
        select(iot_thing_principals.c.thing_id)
        .join(iot_things, iot_things.c.id == iot_thing_principals.c.thing_id)
        .where(
            iot_things.c.account_id == account,
            iot_things.c.name == thing_name,
            iot_thing_principals.c.principal == principal_arn,
        )
    )
    return conn.execute(stmt).first() is not None


def principal_thing_count(conn: Connection, account: str, principal_arn: str) -> int:
    """How many things the principal is attached to (DeleteCertificate refuses while any are)."""
    stmt = select(func.count()).where(
        iot_thing_principals.c.account_id == account, iot_thing_principals.c.principal == principal_arn
    )
    return int(conn.execute(stmt).scalar_one())


# -- thing groups, as policy targets ------------------------------------------------------------------


def thing_group_arns_for_thing(conn: Connection, account: str, thing_name: str) -> list[str]:
    """ARNs of the static groups the thing is in, and of all their ancestors (IoT policies attached to a
    group apply to the things of its subgroups too), in ARN order; [] for an unknown thing."""
    groups = iot_thing_groups
    thing = select(iot_things.c.id).where(iot_things.c.account_id == account, iot_things.c.name == thing_name)
    direct = (
        select(groups.c.id, groups.c.parent_id, groups.c.arn)
        .join(iot_thing_group_members, iot_thing_group_members.c.group_id == groups.c.id)
        .where(iot_thing_group_members.c.thing_id == thing.scalar_subquery())
        .cte("lineage", recursive=True)
    )
    child = direct.alias("child")
    parents = select(groups.c.id, groups.c.parent_id, groups.c.arn).join(child, groups.c.id == child.c.parent_id)
    lineage = direct.union(parents)
    return [str(arn) for arn in conn.execute(select(lineage.c.arn).order_by(lineage.c.arn)).scalars()]


# -- shared by the IoT registry repositories ---------------------------------------------------------


def keyset_page(
    conn: Connection, stmt: Select[Any], key: Any, after: str | None, limit: int
) -> tuple[list[RowMapping], str | None]:
    """One page of `stmt` in `key` order, after the key `after`, and the key the next page starts after (None
    on the last page)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if after is not None:
        stmt = stmt.where(key > after)
    rows = list(conn.execute(stmt.order_by(key).limit(limit + 1)).mappings())
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], str(rows[limit - 1][key])
