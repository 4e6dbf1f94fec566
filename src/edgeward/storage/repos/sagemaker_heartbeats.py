"""Device heartbeats (the write-heavy hot path) and the fleet statistics built from them.

A heartbeat is one UPDATE of the device row, matched by fleet and device name (and, for a device's own
credentials, by its IoT thing name), so a device can only ever write its own row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, update

from edgeward.storage.fastpath import HotStatement
from edgeward.storage.tables_sagemaker import sagemaker_device_fleets as fleets
from edgeward.storage.tables_sagemaker import sagemaker_devices as devices


@dataclass(frozen=True, slots=True)
class Heartbeat:
    at: datetime
    agent_version: str
    models: list[dict[str, Any]]
    model_names: str | None
    agent_metrics: list[dict[str, Any]] | None
    deployment_result: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class FleetStatistics:
    registered: int
    connected: int
    agent_versions: dict[str, int]
    # Per reporting device: (models as last reported, whether the device is connected).
    models: list[tuple[list[Mapping[str, Any]], bool]]


_FLEET_ID = (
    select(fleets.c.id)
    .where(
        fleets.c.account_id == bindparam("b_account"),
        fleets.c.region == bindparam("b_region"),
        fleets.c.name == bindparam("b_fleet"),
    )
    .scalar_subquery()
)
_DEVICE = and_(
    devices.c.account_id == bindparam("b_account"),
    devices.c.region == bindparam("b_region"),
    devices.c.name == bindparam("b_device"),
    devices.c.fleet_id == _FLEET_ID,
)
_VALUES = {
    "latest_heartbeat": bindparam("b_at", type_=devices.c.latest_heartbeat.type),
    "agent_version": bindparam("b_agent_version"),
    "models": bindparam("b_models", type_=devices.c.models.type),
    "model_names": bindparam("b_model_names"),
    "agent_metrics": bindparam("b_agent_metrics", type_=devices.c.agent_metrics.type),
    "deployment_result": bindparam("b_deployment_result", type_=devices.c.deployment_result.type),
}
# Built once: compiled once per dialect, then reused by every heartbeat. (Bind names must differ from the
# column names in an UPDATE, hence `b_`.)
# Run on the driver (`storage.fastpath`): the heartbeat is the data plane's hottest write.
_ANY_CALLER = HotStatement(update(devices).where(_DEVICE).values(_VALUES))
_THING_ONLY = HotStatement(
    update(devices).where(_DEVICE, devices.c.iot_thing_name == bindparam("b_thing")).values(_VALUES)
)


def record_heartbeat(
    conn: Connection, account: str, region: str, fleet: str, device: str, beat: Heartbeat, *, thing: str | None
) -> bool:
    """Store the heartbeat on the device; False when no row matched (no such device in that fleet, or —
    with `thing` — the device is registered to another IoT thing)."""
    params = {
        "b_account": account,
        "b_region": region,
        "b_fleet": fleet,
        "b_device": device,
        "b_at": beat.at,
        "b_agent_version": beat.agent_version,
        "b_models": beat.models,
        "b_model_names": beat.model_names,
        "b_agent_metrics": beat.agent_metrics,
        "b_deployment_result": beat.deployment_result,
    }
    if thing is None:
        return bool(_ANY_CALLER.execute(conn, params))
    return bool(_THING_ONLY.execute(conn, {**params, "b_thing": thing}))


def fleet_statistics(conn: Connection, fleet_id: int, connected_since: datetime) -> FleetStatistics:
    """Counts for GetDeviceFleetReport. Model rows are read only for devices that reported models."""
    connected = devices.c.latest_heartbeat >= connected_since
    counts = conn.execute(
        select(func.count(), func.count().filter(connected)).where(devices.c.fleet_id == fleet_id)
    ).one()
    versions = conn.execute(
        select(devices.c.agent_version, func.count())
        .where(devices.c.fleet_id == fleet_id, devices.c.agent_version.is_not(None))
        .group_by(devices.c.agent_version)
    ).all()
    reporting = conn.execute(
        select(devices.c.models, connected.label("connected")).where(
            devices.c.fleet_id == fleet_id, devices.c.models.is_not(None)
        )
    ).all()
    return FleetStatistics(
        registered=int(counts[0]),
        connected=int(counts[1]),
        agent_versions={str(version): int(count) for version, count in versions},
        models=[(list(row.models or ()), bool(row.connected)) for row in reporting],
    )
