"""SageMaker Edge Manager device fleets. Names are unique per (account, region); the database enforces it.

A fleet with devices cannot be deleted (the devices' RESTRICT foreign key decides, not a prior count).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, bindparam, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from edgeward.storage.errors import AlreadyExists, InUse, NotFound
from edgeward.storage.integrity import Kind, violation
from edgeward.storage.tables_sagemaker import sagemaker_device_fleets as fleets

SORT_COLUMNS = {
    "NAME": fleets.c.name,
    "CREATION_TIME": fleets.c.created_at,
    "LAST_MODIFIED_TIME": fleets.c.last_modified_at,
}


@dataclass(frozen=True, slots=True)
class FleetRecord:
    id: int
    account: str
    region: str
    name: str
    arn: str
    description: str | None
    role_arn: str | None
    output_config: Mapping[str, Any]
    iot_role_alias: str | None
    tags: Mapping[str, str]
    created_at: datetime
    last_modified_at: datetime


@dataclass(frozen=True, slots=True)
class FleetFilter:
    """ListDeviceFleets' filters; None means "any"."""

    name_contains: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    modified_after: datetime | None = None
    modified_before: datetime | None = None


def create_fleet(conn: Connection, values: Mapping[str, Any]) -> FleetRecord:
    """Insert a fleet (`values` holds every column but `id`); AlreadyExists when the name is taken."""
    try:
        with conn.begin_nested():
            fleet_id = conn.execute(insert(fleets).values(dict(values)).returning(fleets.c.id)).scalar_one()
    except IntegrityError as exc:
        if violation(exc).is_unique(fleets, "account_id", "region", "name"):
            raise AlreadyExists(f"Device fleet with name {values['name']} already exists.") from None
        raise
    return _record({**values, "id": fleet_id})


def get_fleet(conn: Connection, account: str, region: str, name: str, *, lock: bool = False) -> FleetRecord | None:
    """The fleet of that name; `lock=True` takes its row lock (PostgreSQL) for read-modify-write changes."""
    stmt = select(fleets).where(*_named(account, region, name))
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else _record(row)


def update_fleet(conn: Connection, fleet_id: int, changes: Mapping[str, Any]) -> None:
    """Set the given columns; NotFound when the fleet is gone."""
    if conn.execute(update(fleets).where(fleets.c.id == fleet_id).values(dict(changes))).rowcount == 0:
        raise NotFound("The device fleet no longer exists.")


def delete_fleet(conn: Connection, fleet: FleetRecord) -> None:
    """Delete a fleet; InUse while devices are registered to it, NotFound when it is gone."""
    try:
        with conn.begin_nested():
            deleted = conn.execute(fleets.delete().where(fleets.c.id == fleet.id)).rowcount
    except IntegrityError as exc:
        if violation(exc).kind is Kind.FOREIGN_KEY:
            raise InUse(f"Device fleet {fleet.name} still has registered devices.") from None
        raise
    if deleted == 0:
        raise NotFound(f"Device fleet {fleet.name} no longer exists.")


def list_fleets(
    conn: Connection,
    account: str,
    region: str,
    where: FleetFilter,
    *,
    sort_by: str = "CREATION_TIME",
    descending: bool = True,
    after: Sequence[Any] | None = None,
    limit: int = 10,
) -> tuple[list[FleetRecord], tuple[Any, str] | None]:
    """A page of fleets in (sort key, name) order and the position to continue after (None on the last page).

    Keyset pagination: a page costs the same however deep it is, and a fleet created meanwhile is neither
    skipped nor repeated.
    """
    column = SORT_COLUMNS[sort_by]
    key = tuple_(column, fleets.c.name)
    stmt = select(fleets).where(fleets.c.account_id == account, fleets.c.region == region, *_filters(where))
    if after is not None:
        # Typed binds: the time columns store UTC their own way on SQLite.
        bound = tuple_(
            bindparam(None, after[0], type_=column.type), bindparam(None, after[1], type_=fleets.c.name.type)
        )
        stmt = stmt.where(key < bound if descending else key > bound)
    order = (column.desc(), fleets.c.name.desc()) if descending else (column.asc(), fleets.c.name.asc())
    rows = conn.execute(stmt.order_by(*order).limit(limit + 1)).mappings().all()
    page = [_record(row) for row in rows[:limit]]
    if len(rows) <= limit:
        return page, None
    last = page[-1]
    position = {"NAME": last.name, "CREATION_TIME": last.created_at, "LAST_MODIFIED_TIME": last.last_modified_at}
    return page, (position[sort_by], last.name)


def _filters(where: FleetFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.name_contains:
        conditions.append(fleets.c.name.contains(where.name_contains, autoescape=True))
    if where.created_after is not None:
        conditions.append(fleets.c.created_at > where.created_after)
    if where.created_before is not None:
        conditions.append(fleets.c.created_at < where.created_before)
    if where.modified_after is not None:
        conditions.append(fleets.c.last_modified_at > where.modified_after)
    if where.modified_before is not None:
        conditions.append(fleets.c.last_modified_at < where.modified_before)
    return conditions


def _named(account: str, region: str, name: str) -> tuple[ColumnElement[bool], ...]:
    return fleets.c.account_id == account, fleets.c.region == region, fleets.c.name == name


def _record(row: RowMapping | Mapping[str, Any]) -> FleetRecord:
    return FleetRecord(
        id=row["id"],
        account=row["account_id"],
        region=row["region"],
        name=row["name"],
        arn=row["arn"],
        description=row["description"],
        role_arn=row["role_arn"],
        output_config=MappingProxyType(dict(row["output_config"])),
        iot_role_alias=row["iot_role_alias"],
        tags=MappingProxyType(dict(row["tags"])),
        created_at=row["created_at"],
        last_modified_at=row["last_modified_at"],
    )
