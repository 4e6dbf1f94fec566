"""IoT thing types. Names are case-sensitive and unique per account; the database enforces it, and keeps a
thing type that things still use from being deleted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from edgeward.core import clock
from edgeward.storage.errors import AlreadyExists, InUse, NotFound
from edgeward.storage.integrity import Kind, violation
from edgeward.storage.repos.iot_things import keyset_page
from edgeward.storage.tables_iot_things import iot_thing_types


@dataclass(frozen=True, slots=True)
class ThingTypeRecord:
    id: int
    account: str
    name: str
    thing_type_id: str
    arn: str
    properties: Mapping[str, Any]
    deprecated: bool
    deprecated_at: datetime | None
    created_at: datetime
    tags: Mapping[str, str]


def create_thing_type(
    conn: Connection,
    account: str,
    name: str,
    *,
    thing_type_id: str,
    arn: str,
    properties: Mapping[str, Any],
    tags: Mapping[str, str],
    now: datetime | None = None,
) -> ThingTypeRecord:
    """Insert a thing type; AlreadyExists when the account has one of that name."""
    values: dict[str, Any] = {
        "account_id": account,
        "name": name,
        "thing_type_id": thing_type_id,
        "arn": arn,
        "properties": dict(properties),
        "deprecated": False,
        "deprecated_at": None,
        "created_at": now or clock.now(),
        "tags": dict(tags),
    }
    try:
        with conn.begin_nested():
            row_id = conn.execute(insert(iot_thing_types).values(values).returning(iot_thing_types.c.id)).scalar_one()
    except IntegrityError as exc:
        if violation(exc).is_unique(iot_thing_types, "account_id", "name"):
            raise AlreadyExists(f"Thing type {name} already exists.") from None
        raise
    return _record({**values, "id": row_id})


def get_thing_type(conn: Connection, account: str, name: str, *, lock: bool = False) -> ThingTypeRecord | None:
    stmt = select(iot_thing_types).where(iot_thing_types.c.account_id == account, iot_thing_types.c.name == name)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else _record(row)


def list_thing_types(
    conn: Connection, account: str, name: str | None, after: str | None, limit: int
) -> tuple[list[ThingTypeRecord], str | None]:
    """Thing types in name order (only `name`, when given), a page at a time."""
    stmt = select(iot_thing_types).where(iot_thing_types.c.account_id == account)
    if name is not None:
        stmt = stmt.where(iot_thing_types.c.name == name)
    rows, next_key = keyset_page(conn, stmt, iot_thing_types.c.name, after, limit)
    return [_record(row) for row in rows], next_key


def set_deprecated(
    conn: Connection, thing_type: ThingTypeRecord, deprecated: bool, now: datetime | None = None
) -> None:
    """Deprecate (noting when) or undo it; NotFound when the thing type is gone."""
    stmt = update(iot_thing_types).where(iot_thing_types.c.id == thing_type.id)
    when = (now or clock.now()) if deprecated else None
    if conn.execute(stmt.values(deprecated=deprecated, deprecated_at=when)).rowcount == 0:
        raise NotFound(f"Thing type {thing_type.name} no longer exists.")


def delete_thing_type(conn: Connection, thing_type: ThingTypeRecord) -> None:
    """Delete; InUse while things still have this type (the foreign key decides)."""
    try:
        with conn.begin_nested():
            conn.execute(delete(iot_thing_types).where(iot_thing_types.c.id == thing_type.id))
    except IntegrityError as exc:
        if violation(exc).kind is Kind.FOREIGN_KEY:
            raise InUse(f"Thing type {thing_type.name} still has things.") from None
        raise


def _record(row: RowMapping | Mapping[str, Any]) -> ThingTypeRecord:
    return ThingTypeRecord(
        id=row["id"],
        account=row["account_id"],
        name=row["name"],
        thing_type_id=row["thing_type_id"],
        arn=row["arn"],
        properties=MappingProxyType(dict(row["properties"])),
        deprecated=bool(row["deprecated"]),
        deprecated_at=row["deprecated_at"],
        created_at=row["created_at"],
        tags=MappingProxyType(dict(row["tags"])),
    )
