"""Checking the stages of CreateEdgeDeploymentPlan / CreateEdgeDeploymentStage before anything is written.

DeviceSelectionConfig: SELECTION needs DeviceNames (devices registered in the plan's fleet), NAMECONTAINS needs
DeviceNameContains, PERCENTAGE needs Percentage (0-100). A plan holds at most MAX_STAGES stages and a
SELECTION at most MAX_SELECTED_DEVICES names (edgeward's limits; AWS publishes none).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edgeward.services.context import Context
from edgeward.services.sagemaker import deploy_shapes, errors
from edgeward.storage.repos import sagemaker_devices as device_repo
from edgeward.storage.repos.sagemaker_deploy_plans import StageInput

MAX_STAGES = 20
MAX_SELECTED_DEVICES = 1000
_NEEDS = {"SELECTION": "DeviceNames", "NAMECONTAINS": "DeviceNameContains", "PERCENTAGE": "Percentage"}


def checked_stages(ctx: Context, fleet_id: int, fleet: str, stages: Sequence[dict[str, Any]]) -> list[StageInput]:
    names = [stage["StageName"] for stage in stages]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise errors.validation(f"Stage names must be unique in a plan: {', '.join(duplicates)} given twice.")
    return [_stage(ctx, fleet_id, fleet, stage) for stage in stages]


def check_stage_limit(existing: int, adding: int) -> None:
    if existing + adding > MAX_STAGES:
        raise errors.resource_limit_exceeded(
            f"An edge deployment plan holds at most {MAX_STAGES} stages; it has {existing} and {adding} were given."
        )


def _stage(ctx: Context, fleet_id: int, fleet: str, stage: dict[str, Any]) -> StageInput:
    name = stage["StageName"]
    selection = dict(stage["DeviceSelectionConfig"])
    kind = selection["DeviceSubsetType"]
    needed = _NEEDS[kind]
    if selection.get(needed) in (None, "", []):
        raise errors.validation(f"Stage {name}: DeviceSubsetType {kind} needs {needed}.")
    selection = {"DeviceSubsetType": kind, needed: selection[needed]}
    if kind == "PERCENTAGE" and not 0 <= int(selection[needed]) <= 100:
        raise errors.validation(f"Stage {name}: Percentage must be between 0 and 100.")
    if kind == "SELECTION":
        _check_selected(ctx, fleet_id, fleet, name, list(selection[needed]))
    policy = (stage.get("DeploymentConfig") or {}).get("FailureHandlingPolicy") or deploy_shapes.DEFAULT_FAILURE_POLICY
    return StageInput(name=name, selection=selection, failure_policy=policy)


def _check_selected(ctx: Context, fleet_id: int, fleet: str, stage: str, names: list[str]) -> None:
    if len(names) > MAX_SELECTED_DEVICES:
        raise errors.list_length(f"[{len(names)} items]", "deviceNames", MAX_SELECTED_DEVICES)
    members = device_repo.fleet_members(ctx.conn, fleet_id, names)
    missing = [name for name in dict.fromkeys(names) if name not in members]
    if missing:
        raise errors.validation(
            f"Stage {stage}: device(s) {', '.join(missing[:10])} are not registered in device fleet {fleet}."
        )
