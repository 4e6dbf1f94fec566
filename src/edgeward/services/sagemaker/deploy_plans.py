"""SageMaker: edge deployment plans — CreateEdgeDeploymentPlan, DescribeEdgeDeploymentPlan,
DeleteEdgeDeploymentPlan (ListEdgeDeploymentPlans is in `deploy_listing`, stages in `deploy_stages`).

A plan names a fleet and the models to deploy (ModelHandle -> EdgePackagingJobName); every packaging job must
be a COMPLETED one (see `packaging`: edgeward registers packaged models, it does not package them).
"""

from __future__ import annotations

from typing import Any

from edgeward.core import clock
from edgeward.services.context import Context
from edgeward.services.sagemaker import deploy_selection, deploy_shapes, errors, paging
from edgeward.services.sagemaker.names import authorize_tagging, request_tag_keys, tags_from_params
from edgeward.services.sagemaker.packaging import COMPLETED
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import sagemaker_deploy_devices as device_repo
from edgeward.storage.repos import sagemaker_deploy_packages as package_repo
from edgeward.storage.repos import sagemaker_deploy_plans as repo
from edgeward.storage.repos import sagemaker_fleets as fleet_repo

MAX_STAGES_PER_PAGE = 10
REGISTER_HINT = "Register packaged models with `edgeward models register` (edgeward does not compile models)."


def create_edge_deployment_plan(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name, fleet_name = params["EdgeDeploymentPlanName"], params["DeviceFleetName"]
    arn = deploy_shapes.plan_arn(ctx, name)
    tags = tags_from_params(params.get("Tags"))
    ctx.authorize("sagemaker:CreateEdgeDeploymentPlan", arn, request_tag_keys(tags))
    authorize_tagging(ctx, arn, tags)
    fleet = fleet_repo.get_fleet(ctx.conn, ctx.account, ctx.region, fleet_name)
    if fleet is None:
        raise errors.no_device_fleet(fleet_name)
    configs = _model_configs(ctx, params["ModelConfigs"])
    stages = params.get("Stages") or []
    deploy_selection.check_stage_limit(0, len(stages))
    batch = deploy_selection.checked_stages(ctx, fleet.id, fleet_name, stages)
    now = clock.now()
    values = {
        "account_id": ctx.account,
        "region": ctx.region,
        "name": name,
        "arn": arn,
        "fleet_id": fleet.id,
        "fleet_name": fleet.name,
        "model_configs": configs,
        "tags": tags,
        "created_at": now,
        "last_modified_at": now,
    }
    try:
        repo.create_plan(ctx.conn, values, batch)
    except storage_errors.AlreadyExists:
        raise errors.resource_in_use(f"Edge deployment plan {name} already exists.") from None
    except storage_errors.NotFound:
        raise errors.no_device_fleet(fleet_name) from None
    return {"EdgeDeploymentPlanArn": arn}


def _model_configs(ctx: Context, configs: list[dict[str, Any]]) -> list[dict[str, str]]:
    if not configs:
        raise errors.empty_list("modelConfigs")
    handles = [config["ModelHandle"] for config in configs]
    repeated = sorted({handle for handle in handles if handles.count(handle) > 1})
    if repeated:
        raise errors.validation(f"Model handles must be unique in a plan: {', '.join(repeated)} given twice.")
    jobs = package_repo.get_packages(ctx.conn, ctx.account, ctx.region, [c["EdgePackagingJobName"] for c in configs])
    for config in configs:
        job = jobs.get(config["EdgePackagingJobName"])
        if job is None or job.status != COMPLETED:
            raise errors.validation(
                f"Edge packaging job {config['EdgePackagingJobName']} does not exist or has not completed. "
                + REGISTER_HINT
            )
    return [{"ModelHandle": c["ModelHandle"], "EdgePackagingJobName": c["EdgePackagingJobName"]} for c in configs]


def describe_edge_deployment_plan(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["EdgeDeploymentPlanName"]
    ctx.authorize("sagemaker:DescribeEdgeDeploymentPlan", deploy_shapes.plan_arn(ctx, name))
    plan = repo.get_plan(ctx.conn, ctx.account, ctx.region, name)
    if plan is None:
        raise deploy_shapes.no_plan(name, modeled=True)
    limit = paging.max_results(params, MAX_STAGES_PER_PAGE)
    stages = repo.list_stages(ctx.conn, plan.id, after_id=_after_stage(params.get("NextToken")), limit=limit + 1)
    page = stages[:limit]
    counts = device_repo.counts_by_stage(ctx.conn, [stage.id for stage in page])
    output: dict[str, Any] = {
        "EdgeDeploymentPlanArn": plan.arn,
        "EdgeDeploymentPlanName": plan.name,
        "ModelConfigs": [dict(config) for config in plan.model_configs],
        "DeviceFleetName": plan.fleet_name,
        **deploy_shapes.plan_counts(device_repo.counts_by_plan(ctx.conn, [plan.id]).get(plan.id)),
        "Stages": [deploy_shapes.stage_shape(stage, counts.get(stage.id)) for stage in page],
        "CreationTime": plan.created_at,
        "LastModifiedTime": plan.last_modified_at,
    }
    if len(stages) > limit:
        output["NextToken"] = paging.encode({"stage": page[-1].id})
    return output


def _after_stage(token: str | None) -> int | None:
    position = paging.decode(token)
    if position is None:
        return None
    after = position.get("stage")
    if not isinstance(after, int):
        raise errors.validation("The NextToken is not valid. Use the NextToken of the previous page.")
    return after


def delete_edge_deployment_plan(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["EdgeDeploymentPlanName"]
    ctx.authorize("sagemaker:DeleteEdgeDeploymentPlan", deploy_shapes.plan_arn(ctx, name))
    plan = repo.get_plan(ctx.conn, ctx.account, ctx.region, name, lock=True)
    if plan is None:
        raise deploy_shapes.no_plan(name)
    if not repo.delete_plan(ctx.conn, plan.id):
        raise errors.resource_in_use(
            f"Edge deployment plan {name} has a stage in progress. Stop its stages before deleting the plan."
        )
    return {}
