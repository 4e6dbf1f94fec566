"""SageMaker Edge Manager devices: registration in batches, lookups, listings.

A batch registers entirely or not at all: one multi-row INSERT in a savepoint, and the unique
(account, region, name) key refuses a name registered anywhere in the region, even by a concurrent batch.
Heartbeats are in `sagemaker_heartbeats`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from edgeward.storage.errors import AlreadyExists, NotFound
from edgeward.storage.integrity import Kind, violation
from edgeward.storage.tables_sagemaker import sagemaker_device_fleets as fleets
from edgeward.storage.tables_sagemaker import sagemaker_devices as devices

MODEL_NAME_SEPARATOR = "\x1f"  # cannot occur in a model name (the model's pattern has no control characters)


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    id: int
    fleet_id: int
    fleet_name: str
    name: str
    description: str | None
    iot_thing_name: str | None
    tags: Mapping[str, str]
    registered_at: datetime
    latest_heartbeat: datetime | None
    agent_version: str | None
    # As the latest heartbeat reported them: ModelName, ModelVersion, LatestSampleTime/LatestInference (epoch).
    models: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class DeviceInput:
    """A device of RegisterDevices/UpdateDevices. For updates, None leaves an attribute as it is."""

    name: str
    description: str | None = None
    iot_thing_name: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceFilter:
    """ListDevices' filters (contains-style for names, as the model documents); None means "any"."""

    fleet_name_contains: str | None = None
    model_name_contains: str | None = None
    heartbeat_after: datetime | None = None


def model_names_key(names: Iterable[str]) -> str | None:
    """The `model_names` column for a device reporting these models (None when it reports none)."""
    listed = list(names)
    if not listed:
        return None
    return MODEL_NAME_SEPARATOR + MODEL_NAME_SEPARATOR.join(listed) + MODEL_NAME_SEPARATOR


def registered_fleets(conn: Connection, account: str, region: str, names: Sequence[str]) -> dict[str, str]:
    """Which of `names` are registered in the region already, and in which fleet (device -> fleet name)."""
    stmt = (
        select(devices.c.name, fleets.c.name.label("fleet_name"))
        .join(fleets, fleets.c.id == devices.c.fleet_id)
        .where(devices.c.account_id == account, devices.c.region == region, devices.c.name.in_(list(names)))
    )
    return {row.name: row.fleet_name for row in conn.execute(stmt)}


def register_devices(
    conn: Connection,
    account: str,
    region: str,
    fleet_id: int,
    batch: Sequence[DeviceInput],
    tags: Mapping[str, str],
    now: datetime,
) -> None:
    """Insert the batch; AlreadyExists if any name is registered in the region (nothing is inserted then),
    NotFound if the fleet vanished meanwhile."""
    rows = [
        {
            "account_id": account,
            "region": region,
            "fleet_id": fleet_id,
            "name": device.name,
            "description": device.description,
            "iot_thing_name": device.iot_thing_name,
            "tags": dict(tags),
            "registered_at": now,
        }
        for device in batch
    ]
    try:
        with conn.begin_nested():
            conn.execute(insert(devices), rows)
    except IntegrityError as exc:
        found = violation(exc)
        if found.is_unique(devices, "account_id", "region", "name"):
            raise AlreadyExists("A device of this batch is already registered.") from None
        if found.kind is Kind.FOREIGN_KEY:
            raise NotFound("The device fleet no longer exists.") from None
        raise


def get_device(conn: Connection, account: str, region: str, name: str) -> DeviceRecord | None:
    """The device of that name in the region, whatever its fleet."""
    row = conn.execute(_BY_NAME, {"account": account, "region": region, "name": name}).mappings().one_or_none()
    return None if row is None else _record(row)


def fleet_members(conn: Connection, fleet_id: int, names: Sequence[str], *, lock: bool = False) -> set[str]:
    """Which of `names` are registered in the fleet; `lock=True` holds their rows (PostgreSQL) until commit."""
    stmt = select(devices.c.name).where(devices.c.fleet_id == fleet_id, devices.c.name.in_(list(names)))
    if lock:
        stmt = stmt.with_for_update()
    return set(conn.execute(stmt).scalars())


def update_devices(conn: Connection, fleet_id: int, batch: Sequence[DeviceInput]) -> None:
    """Set description and/or IoT thing name of fleet members (lock them with `fleet_members` first)."""
    for device in batch:
        changes: dict[str, Any] = {}
        if device.description is not None:
            changes["description"] = device.description
        if device.iot_thing_name is not None:
            changes["iot_thing_name"] = device.iot_thing_name
        if changes:
            stmt = update(devices).where(devices.c.fleet_id == fleet_id, devices.c.name == device.name)
            conn.execute(stmt.values(changes))


def deregister_devices(conn: Connection, fleet_id: int, names: Sequence[str]) -> int:
    """Delete the named members of the fleet; how many went."""
    stmt = delete(devices).where(devices.c.fleet_id == fleet_id, devices.c.name.in_(list(names)))
    return int(conn.execute(stmt).rowcount)


def list_devices(
    conn: Connection, account: str, region: str, where: DeviceFilter, *, after: str | None = None, limit: int = 10
) -> tuple[list[DeviceRecord], str | None]:
    """A page of devices in name order and the name to continue after (None on the last page).

    Keyset pagination: a page costs the same at any depth and any registry size. The fleet filter is resolved
    to fleet ids first, so that a single matching fleet walks its (fleet_id, name) index in order; without a
    fleet filter the walk is on the unique (account, region, name) index. Either way no sort of all rows.
    """
    conditions = [devices.c.account_id == account, devices.c.region == region, *_filters(where)]
    if where.fleet_name_contains:
        fleet_ids = _fleet_ids(conn, account, region, where.fleet_name_contains)
        if not fleet_ids:
            return [], None
        conditions.append(
            devices.c.fleet_id == fleet_ids[0] if len(fleet_ids) == 1 else devices.c.fleet_id.in_(fleet_ids)
        )
    if after is not None:
        conditions.append(devices.c.name > after)
    stmt = _SELECT.where(*conditions).order_by(devices.c.name).limit(limit + 1)
    rows = conn.execute(stmt).mappings().all()
    page = [_record(row) for row in rows[:limit]]
    return page, (page[-1].name if len(rows) > limit else None)


def _fleet_ids(conn: Connection, account: str, region: str, contains: str) -> list[int]:
    stmt = select(fleets.c.id).where(
        fleets.c.account_id == account, fleets.c.region == region, fleets.c.name.contains(contains, autoescape=True)
    )
    return list(conn.execute(stmt).scalars())


def _filters(where: DeviceFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.model_name_contains:
        conditions.append(devices.c.model_names.contains(where.model_name_contains, autoescape=True))
    if where.heartbeat_after is not None:
        conditions.append(devices.c.latest_heartbeat > where.heartbeat_after)
    return conditions


_SELECT = select(devices, fleets.c.name.label("fleet_name")).join(fleets, fleets.c.id == devices.c.fleet_id)
# Built once: DescribeDevice is a frequent read.
_BY_NAME = _SELECT.where(
    devices.c.account_id == bindparam("account"),
    devices.c.region == bindparam("region"),
    devices.c.name == bindparam("name"),
)


def _record(row: RowMapping) -> DeviceRecord:
    return DeviceRecord(
        id=row["id"],
        fleet_id=row["fleet_id"],
        fleet_name=row["fleet_name"],
        name=row["name"],
        description=row["description"],
        iot_thing_name=row["iot_thing_name"],
        tags=MappingProxyType(dict(row["tags"])),
        registered_at=row["registered_at"],
        latest_heartbeat=row["latest_heartbeat"],
        agent_version=row["agent_version"],
        models=tuple(MappingProxyType(model) for model in row["models"] or ()),
    )
