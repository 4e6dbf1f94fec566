"""Device deployments: which devices a stage selects, what a started stage hands each device, and what the
devices reported back.

Starting a stage is one INSERT ... SELECT over the fleet's devices (any fleet size, one statement). Device
selection (DeviceSelectionConfig): SELECTION names devices, NAMECONTAINS matches a substring, PERCENTAGE takes
that share of the fleet (rounded up) in device-name order, so the same devices are chosen every time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, bindparam, delete, func, insert, literal, select, update

from edgeward.storage.tables_sagemaker import sagemaker_devices as devices
from edgeward.storage.tables_sagemaker_deploy import sagemaker_edge_deployment_plans as plans
from edgeward.storage.tables_sagemaker_deploy import sagemaker_edge_deployment_stages as stages
from edgeward.storage.tables_sagemaker_deploy import sagemaker_edge_device_deployments as deployments
from edgeward.storage.types import UtcDateTime

INPROGRESS, DEPLOYED, FAILED, STOPPED = "INPROGRESS", "DEPLOYED", "FAILED", "STOPPED"


@dataclass(frozen=True, slots=True)
class Counts:
    success: int = 0
    pending: int = 0
    failed: int = 0
    stopped: int = 0


@dataclass(frozen=True, slots=True)
class PendingDeployment:
    """A deployment a device should act on (GetDeployments)."""

    stage_id: int
    plan_name: str
    stage_name: str
    failure_policy: str
    definitions: list[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class StageDevice:
    name: str
    description: str | None
    status: str | None  # None: the stage has not started
    status_message: str | None
    started_at: datetime | None


def selected(conn: Connection, fleet_id: int, selection: Mapping[str, Any]) -> Select[Any]:
    """The fleet's devices a stage's DeviceSelectionConfig selects: a subquery-ready select of id, name,
    description."""
    stmt = select(devices.c.id, devices.c.name, devices.c.description).where(devices.c.fleet_id == fleet_id)
    kind = selection.get("DeviceSubsetType")
    if kind == "SELECTION":
        return stmt.where(devices.c.name.in_(list(selection.get("DeviceNames") or [])))
    if kind == "NAMECONTAINS":
        return stmt.where(devices.c.name.contains(str(selection.get("DeviceNameContains") or ""), autoescape=True))
    total = conn.execute(select(func.count()).where(devices.c.fleet_id == fleet_id)).scalar_one()
    share = math.ceil(int(total) * int(selection.get("Percentage") or 0) / 100)
    return stmt.order_by(devices.c.name).limit(share)


def start(conn: Connection, stage_id: int, fleet_id: int, selection: Mapping[str, Any], now: datetime) -> int:
    """(Re)create the stage's device deployments, all in progress; how many devices it reaches."""
    conn.execute(delete(deployments).where(deployments.c.stage_id == stage_id))
    chosen = selected(conn, fleet_id, selection).subquery()
    at = literal(now, UtcDateTime())
    rows = select(literal(stage_id), chosen.c.id, literal(INPROGRESS), at, at)
    columns = ["stage_id", "device_id", "status", "started_at", "updated_at"]
    return int(conn.execute(insert(deployments).from_select(columns, rows)).rowcount)


def stop(conn: Connection, stage_id: int, now: datetime) -> None:
    """Devices that have not reported yet stop receiving the deployment."""
    stmt = update(deployments).where(deployments.c.stage_id == stage_id, deployments.c.status == INPROGRESS)
    conn.execute(stmt.values(status=STOPPED, status_message="The stage was stopped.", updated_at=now))


_DEVICE_ID = (
    select(devices.c.id)
    .where(
        devices.c.account_id == bindparam("b_account"),
        devices.c.region == bindparam("b_region"),
        devices.c.name == bindparam("b_device"),
    )
    .scalar_subquery()
)
_RESULT = (
    update(deployments)
    .where(
        deployments.c.stage_id == bindparam("b_stage"),
        deployments.c.device_id == _DEVICE_ID,
        deployments.c.status != STOPPED,
    )
    .values(
        status=bindparam("b_status"),
        status_message=bindparam("b_message"),
        updated_at=bindparam("b_at", type_=deployments.c.updated_at.type),
    )
)


def record_result(
    conn: Connection,
    account: str,
    region: str,
    device: str,
    stage_id: int,
    *,
    deployed: bool,
    message: str | None,
    now: datetime,
) -> bool:
    """A device's DeploymentResult for a stage's deployment; False when it has none (or it was stopped)."""
    params = {
        "b_account": account,
        "b_region": region,
        "b_device": device,
        "b_stage": stage_id,
        "b_status": DEPLOYED if deployed else FAILED,
        "b_message": message,
        "b_at": now,
    }
    return bool(conn.execute(_RESULT, params).rowcount)


_PENDING = (
    select(
        stages.c.id,
        stages.c.name,
        stages.c.failure_policy,
        stages.c.definitions,
        plans.c.name.label("plan_name"),
    )
    .join(deployments, deployments.c.stage_id == stages.c.id)
    .join(plans, plans.c.id == stages.c.plan_id)
    .where(
        deployments.c.device_id == bindparam("device_id"),
        deployments.c.status == INPROGRESS,
        stages.c.state == "STARTED",
    )
    .order_by(stages.c.id)
)


def pending_for(conn: Connection, device_id: int) -> list[PendingDeployment]:
    return [
        PendingDeployment(row.id, row.plan_name, row.name, row.failure_policy, list(row.definitions or ()))
        for row in conn.execute(_PENDING, {"device_id": device_id})
    ]


def counts_by_stage(conn: Connection, stage_ids: Sequence[int]) -> dict[int, Counts]:
    """Device deployment statuses per stage."""
    if not stage_ids:
        return {}
    status = deployments.c.status
    stmt = (
        select(
            deployments.c.stage_id,
            func.count().filter(status == DEPLOYED),
            func.count().filter(status == INPROGRESS),
            func.count().filter(status == FAILED),
            func.count().filter(status == STOPPED),
        )
        .where(deployments.c.stage_id.in_(list(stage_ids)))
        .group_by(deployments.c.stage_id)
    )
    return {row[0]: Counts(int(row[1]), int(row[2]), int(row[3]), int(row[4])) for row in conn.execute(stmt)}


def counts_by_plan(conn: Connection, plan_ids: Sequence[int]) -> dict[int, Counts]:
    if not plan_ids:
        return {}
    status = deployments.c.status
    stmt = (
        select(
            stages.c.plan_id,
            func.count().filter(status == DEPLOYED),
            func.count().filter(status == INPROGRESS),
            func.count().filter(status == FAILED),
            func.count().filter(status == STOPPED),
        )
        .join(deployments, deployments.c.stage_id == stages.c.id)
        .where(stages.c.plan_id.in_(list(plan_ids)))
        .group_by(stages.c.plan_id)
    )
    return {row[0]: Counts(int(row[1]), int(row[2]), int(row[3]), int(row[4])) for row in conn.execute(stmt)}


def stage_devices(
    conn: Connection,
    stage_id: int,
    fleet_id: int,
    selection: Mapping[str, Any],
    *,
    started: bool,
    exclude_deployed_elsewhere: int | None,
    after: str | None,
    limit: int,
) -> tuple[list[StageDevice], str | None]:
    """A page of the stage's devices in name order and the name to continue after. A stage not started yet
    lists the devices its selection would reach. `exclude_deployed_elsewhere` (a plan id) leaves out devices
    another stage of that plan deployed."""
    if started:
        stmt = (
            select(
                devices.c.name,
                devices.c.description,
                deployments.c.status,
                deployments.c.status_message,
                deployments.c.started_at,
            )
            .join(deployments, deployments.c.device_id == devices.c.id)
            .where(deployments.c.stage_id == stage_id)
        )
        name: ColumnElement[Any] = devices.c.name
        device_id: ColumnElement[Any] = devices.c.id
    else:
        chosen = selected(conn, fleet_id, selection).subquery()
        stmt = select(
            chosen.c.name,
            chosen.c.description,
            literal(None).label("status"),
            literal(None).label("status_message"),
            literal(None).label("started_at"),
        )
        name, device_id = chosen.c.name, chosen.c.id
    if exclude_deployed_elsewhere is not None:
        elsewhere = (
            select(deployments.c.device_id)
            .join(stages, stages.c.id == deployments.c.stage_id)
            .where(
                stages.c.plan_id == exclude_deployed_elsewhere,
                stages.c.id != stage_id,
                deployments.c.status == DEPLOYED,
            )
        )
        stmt = stmt.where(device_id.not_in(elsewhere))
    if after is not None:
        stmt = stmt.where(name > after)
    rows = conn.execute(stmt.order_by(name).limit(limit + 1)).all()
    page = [StageDevice(row[0], row[1], row[2], row[3], row[4]) for row in rows[:limit]]
    return page, (page[-1].name if len(rows) > limit else None)


def deployed_stage_names(conn: Connection, plan_id: int, device_names: Sequence[str]) -> dict[str, str]:
    """For each device, the latest stage of the plan that deployed to it."""
    if not device_names:
        return {}
    stmt = (
        select(devices.c.name, stages.c.name)
        .join(deployments, deployments.c.device_id == devices.c.id)
        .join(stages, stages.c.id == deployments.c.stage_id)
        .where(stages.c.plan_id == plan_id, deployments.c.status == DEPLOYED, devices.c.name.in_(list(device_names)))
        .order_by(stages.c.id)
    )
    return {device: stage for device, stage in conn.execute(stmt)}
