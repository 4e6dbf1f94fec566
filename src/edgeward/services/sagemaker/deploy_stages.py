"""SageMaker: edge deployment stages — CreateEdgeDeploymentStage, DeleteEdgeDeploymentStage,
StartEdgeDeploymentStage, StopEdgeDeploymentStage, ListStageDevices.

Stage changes take the plan's row lock first (PostgreSQL; SQLite writers are serialized anyway), so the stage
limit and start/stop transitions of one plan are decided one request at a time.

Starting a stage fixes what its devices receive: each ModelConfig's packaging job becomes a definition
(ModelHandle, S3Url, SHA-1, DEPLOY), and one device deployment per selected device is created, in progress
until the device reports in a heartbeat. Stopping stops handing out the deployments not yet reported.
"""

from __future__ import annotations

from typing import Any

from edgeward.core import clock
from edgeward.services.context import Context
from edgeward.services.sagemaker import deploy_selection, deploy_shapes, errors, paging
from edgeward.services.sagemaker.names import device_arn
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import sagemaker_deploy_devices as device_repo
from edgeward.storage.repos import sagemaker_deploy_packages as package_repo
from edgeward.storage.repos import sagemaker_deploy_plans as repo
from edgeward.storage.repos.sagemaker_deploy_plans import STARTED, STOPPED, PlanRecord, StageRecord


def _plan(ctx: Context, action: str, params: dict[str, Any], *, lock: bool = True) -> PlanRecord:
    name = params["EdgeDeploymentPlanName"]
    ctx.authorize(f"sagemaker:{action}", deploy_shapes.plan_arn(ctx, name))
    plan = repo.get_plan(ctx.conn, ctx.account, ctx.region, name, lock=lock)
    if plan is None:
        raise deploy_shapes.no_plan(name)
    return plan


def _stage(ctx: Context, plan: PlanRecord, name: str) -> StageRecord:
    stage = repo.get_stage(ctx.conn, plan.id, name)
    if stage is None:
        raise deploy_shapes.no_stage(plan.name, name)
    return stage


def create_edge_deployment_stage(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    plan = _plan(ctx, "CreateEdgeDeploymentStage", params)
    stages = params["Stages"]
    if not stages:
        raise errors.empty_list("stages")
    deploy_selection.check_stage_limit(repo.stage_count(ctx.conn, plan.id), len(stages))
    batch = deploy_selection.checked_stages(ctx, plan.fleet_id, plan.fleet_name, stages)
    try:
        repo.add_stages(ctx.conn, plan.id, batch)
    except storage_errors.AlreadyExists:
        raise errors.validation(f"A stage of that name already exists in edge deployment plan {plan.name}.") from None
    repo.touch_plan(ctx.conn, plan.id, clock.now())
    return {}


def delete_edge_deployment_stage(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    plan = _plan(ctx, "DeleteEdgeDeploymentStage", params)
    stage = _stage(ctx, plan, params["StageName"])
    if not repo.delete_stage(ctx.conn, stage.id):
        raise errors.resource_in_use(
            f"Stage {stage.name} of edge deployment plan {plan.name} is in progress. Stop it before deleting it."
        )
    repo.touch_plan(ctx.conn, plan.id, clock.now())
    return {}


def start_edge_deployment_stage(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    plan = _plan(ctx, "StartEdgeDeploymentStage", params)
    stage = _stage(ctx, plan, params["StageName"])
    if stage.state == STARTED:
        raise errors.validation(f"Stage {stage.name} of edge deployment plan {plan.name} has already started.")
    now = clock.now()
    repo.set_stage_state(ctx.conn, stage.id, STARTED, definitions=_definitions(ctx, plan), started_at=now)
    device_repo.start(ctx.conn, stage.id, plan.fleet_id, stage.selection, now)
    repo.touch_plan(ctx.conn, plan.id, now)
    return {}


def _definitions(ctx: Context, plan: PlanRecord) -> list[dict[str, Any]]:
    names = [config["EdgePackagingJobName"] for config in plan.model_configs]
    jobs = package_repo.get_packages(ctx.conn, ctx.account, ctx.region, names)
    definitions = []
    for config in plan.model_configs:
        job = jobs.get(config["EdgePackagingJobName"])
        if job is None:
            raise errors.validation(f"Edge packaging job {config['EdgePackagingJobName']} no longer exists.")
        definitions.append(
            {
                "ModelHandle": config["ModelHandle"],
                "S3Url": job.model_artifact,
                "Checksum": {"Type": "SHA1", "Sum": job.sha1},
                "State": "DEPLOY",
            }
        )
    return definitions


def stop_edge_deployment_stage(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    plan = _plan(ctx, "StopEdgeDeploymentStage", params)
    stage = _stage(ctx, plan, params["StageName"])
    if stage.state != STARTED:
        raise errors.validation(f"Stage {stage.name} of edge deployment plan {plan.name} has not started.")
    now = clock.now()
    repo.set_stage_state(ctx.conn, stage.id, STOPPED)
    device_repo.stop(ctx.conn, stage.id, now)
    repo.touch_plan(ctx.conn, plan.id, now)
    return {}


def list_stage_devices(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    plan = _plan(ctx, "ListStageDevices", params, lock=False)
    stage = _stage(ctx, plan, params["StageName"])
    after = _after_device(params.get("NextToken"))
    devices, last = device_repo.stage_devices(
        ctx.conn,
        stage.id,
        plan.fleet_id,
        stage.selection,
        started=stage.state != repo.READY,
        exclude_deployed_elsewhere=plan.id if params.get("ExcludeDevicesDeployedInOtherStage") else None,
        after=after,
        limit=paging.max_results(params),
    )
    deployed = device_repo.deployed_stage_names(ctx.conn, plan.id, [device.name for device in devices])
    summaries = []
    for device in devices:
        summary: dict[str, Any] = {
            "EdgeDeploymentPlanArn": plan.arn,
            "EdgeDeploymentPlanName": plan.name,
            "StageName": stage.name,
            "DeviceFleetName": plan.fleet_name,
            "DeviceName": device.name,
            "DeviceArn": device_arn(ctx, plan.fleet_name, device.name),
            "DeviceDeploymentStatus": device.status or repo.READY,
        }
        for key, value in (
            ("DeployedStageName", deployed.get(device.name)),
            ("DeviceDeploymentStatusMessage", device.status_message),
            ("Description", device.description),
            ("DeploymentStartTime", device.started_at),
        ):
            if value:
                summary[key] = value
        summaries.append(summary)
    output: dict[str, Any] = {"DeviceDeploymentSummaries": summaries}
    if last is not None:
        output["NextToken"] = paging.encode({"device": last})
    return output


def _after_device(token: str | None) -> str | None:
    position = paging.decode(token)
    if position is None:
        return None
    after = position.get("device")
    if not isinstance(after, str):
        raise errors.validation("The NextToken is not valid. Use the NextToken of the previous page.")
    return after
