"""Edge deployment plans and their stages.

Plan names are unique per (account, region) and stage names per plan: the database enforces both. A plan or a
stage with devices still deploying cannot be deleted; the DELETE itself carries that condition, so a stage
started concurrently cannot slip between a check and the delete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from edgeward.storage.errors import AlreadyExists, NotFound
from edgeward.storage.integrity import Kind, violation
from edgeward.storage.repos.sagemaker_deploy_paging import TimeWindow, keyset_page
from edgeward.storage.tables_sagemaker_deploy import sagemaker_edge_deployment_plans as plans
from edgeward.storage.tables_sagemaker_deploy import sagemaker_edge_deployment_stages as stages
from edgeward.storage.tables_sagemaker_deploy import sagemaker_edge_device_deployments as deployments

SORT_COLUMNS = {
    "NAME": "name",
    "DEVICE_FLEET_NAME": "fleet_name",
    "CREATION_TIME": "created_at",
    "LAST_MODIFIED_TIME": "last_modified_at",
}
READY, STARTED, STOPPED = "READYTODEPLOY", "STARTED", "STOPPED"
INPROGRESS = "INPROGRESS"


@dataclass(frozen=True, slots=True)
class PlanRecord:
    id: int
    name: str
    arn: str
    fleet_id: int
    fleet_name: str
    model_configs: tuple[Mapping[str, str], ...]
    created_at: datetime
    last_modified_at: datetime


@dataclass(frozen=True, slots=True)
class StageInput:
    name: str
    selection: Mapping[str, Any]  # DeviceSelectionConfig
    failure_policy: str


@dataclass(frozen=True, slots=True)
class StageRecord:
    id: int
    plan_id: int
    name: str
    selection: Mapping[str, Any]
    failure_policy: str
    state: str
    definitions: tuple[Mapping[str, Any], ...]
    started_at: datetime | None


@dataclass(frozen=True, slots=True)
class PlanFilter:
    name_contains: str | None = None
    fleet_name_contains: str | None = None
    window: TimeWindow = field(default_factory=TimeWindow)


def create_plan(conn: Connection, values: Mapping[str, Any], batch: Sequence[StageInput]) -> PlanRecord:
    """Insert the plan (`values`: every column but `id`) and its stages; AlreadyExists for a taken plan name,
    NotFound when the fleet vanished meanwhile."""
    try:
        with conn.begin_nested():
            plan_id = conn.execute(insert(plans).values(dict(values)).returning(plans.c.id)).scalar_one()
    except IntegrityError as exc:
        found = violation(exc)
        if found.is_unique(plans, "account_id", "region", "name"):
            raise AlreadyExists(f"Edge deployment plan {values['name']} already exists.") from None
        if found.kind is Kind.FOREIGN_KEY:
            raise NotFound("The device fleet no longer exists.") from None
        raise
    if batch:
        add_stages(conn, plan_id, batch)
    return _plan({**values, "id": plan_id})


def get_plan(conn: Connection, account: str, region: str, name: str, *, lock: bool = False) -> PlanRecord | None:
    """The plan; `lock=True` holds its row (PostgreSQL) so stage changes of one plan run one at a time."""
    stmt = select(plans).where(plans.c.account_id == account, plans.c.region == region, plans.c.name == name)
    row = conn.execute(stmt.with_for_update() if lock else stmt).mappings().one_or_none()
    return None if row is None else _plan(row)


def touch_plan(conn: Connection, plan_id: int, now: datetime) -> None:
    conn.execute(update(plans).where(plans.c.id == plan_id).values(last_modified_at=now))


def delete_plan(conn: Connection, plan_id: int) -> bool:
    """Delete the plan and its stages unless a stage still has devices deploying; whether it went."""
    in_plan = select(stages.c.id).where(stages.c.plan_id == plan_id)
    stmt = delete(plans).where(plans.c.id == plan_id, ~exists(_deploying().where(deployments.c.stage_id.in_(in_plan))))
    return bool(conn.execute(stmt).rowcount)


def list_plans(
    conn: Connection,
    account: str,
    region: str,
    where: PlanFilter,
    *,
    sort_by: str,
    descending: bool,
    after: Sequence[Any] | None,
    limit: int,
) -> tuple[list[PlanRecord], tuple[Any, str] | None]:
    conditions = where.window.conditions(plans)
    if where.name_contains:
        conditions.append(plans.c.name.contains(where.name_contains, autoescape=True))
    if where.fleet_name_contains:
        conditions.append(plans.c.fleet_name.contains(where.fleet_name_contains, autoescape=True))
    stmt = select(plans).where(plans.c.account_id == account, plans.c.region == region, *conditions)
    rows, last = keyset_page(conn, stmt, plans, SORT_COLUMNS[sort_by], descending=descending, after=after, limit=limit)
    return [_plan(row) for row in rows], last


def add_stages(conn: Connection, plan_id: int, batch: Sequence[StageInput]) -> None:
    """Append stages in order; AlreadyExists if a name is taken in the plan (then none is added)."""
    rows = [
        {
            "plan_id": plan_id,
            "name": stage.name,
            "selection": dict(stage.selection),
            "failure_policy": stage.failure_policy,
            "state": READY,
        }
        for stage in batch
    ]
    try:
        with conn.begin_nested():
            for row in rows:  # one by one: ids (the stage order) follow the request's order
                conn.execute(insert(stages).values(row))
    except IntegrityError as exc:
        if violation(exc).is_unique(stages, "plan_id", "name"):
            raise AlreadyExists("A stage of that name already exists in the plan.") from None
        raise


def stage_count(conn: Connection, plan_id: int) -> int:
    return len(conn.execute(select(stages.c.id).where(stages.c.plan_id == plan_id)).all())


def list_stages(
    conn: Connection, plan_id: int, *, after_id: int | None = None, limit: int | None = None
) -> list[StageRecord]:
    """Stages in their order (creation order), after the stage id `after_id`."""
    stmt = select(stages).where(stages.c.plan_id == plan_id)
    if after_id is not None:
        stmt = stmt.where(stages.c.id > after_id)
    stmt = stmt.order_by(stages.c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_stage(row) for row in conn.execute(stmt).mappings()]


def get_stage(conn: Connection, plan_id: int, name: str, *, lock: bool = False) -> StageRecord | None:
    stmt = select(stages).where(stages.c.plan_id == plan_id, stages.c.name == name)
    row = conn.execute(stmt.with_for_update() if lock else stmt).mappings().one_or_none()
    return None if row is None else _stage(row)


def set_stage_state(
    conn: Connection,
    stage_id: int,
    state: str,
    *,
    definitions: Sequence[Mapping[str, Any]] | None = None,
    started_at: datetime | None = None,
) -> None:
    changes: dict[str, Any] = {"state": state}
    if definitions is not None:
        changes["definitions"] = [dict(item) for item in definitions]
    if started_at is not None:
        changes["started_at"] = started_at
    conn.execute(update(stages).where(stages.c.id == stage_id).values(changes))


def delete_stage(conn: Connection, stage_id: int) -> bool:
    """Delete the stage unless devices are still deploying it; whether it went."""
    stmt = delete(stages).where(
        stages.c.id == stage_id, ~exists(_deploying().where(deployments.c.stage_id == stage_id))
    )
    return bool(conn.execute(stmt).rowcount)


def _deploying() -> Select[Any]:
    """Device deployments still in progress (only a started stage has them: stopping one stops them)."""
    return select(deployments.c.stage_id).where(deployments.c.status == INPROGRESS)


def _plan(row: RowMapping | Mapping[str, Any]) -> PlanRecord:
    return PlanRecord(
        id=row["id"],
        name=row["name"],
        arn=row["arn"],
        fleet_id=row["fleet_id"],
        fleet_name=row["fleet_name"],
        model_configs=tuple(MappingProxyType(dict(item)) for item in row["model_configs"]),
        created_at=row["created_at"],
        last_modified_at=row["last_modified_at"],
    )


def _stage(row: RowMapping) -> StageRecord:
    return StageRecord(
        id=row["id"],
        plan_id=row["plan_id"],
        name=row["name"],
        selection=MappingProxyType(dict(row["selection"])),
        failure_policy=row["failure_policy"],
        state=row["state"],
        definitions=tuple(MappingProxyType(dict(item)) for item in row["definitions"] or ()),
        started_at=row["started_at"],
    )
