"""SageMaker: edge packaging jobs and edge deployment plans (plans in `deploy_plans`, stages in
`deploy_stages`, listings in `deploy_listing`; this table gathers them).

edgeward manages devices, their identities and their credentials; it does not compile or package models
(SageMaker Neo / Edge Packaging). CreateEdgePackagingJob and StopEdgePackagingJob answer so, plainly and without
a retryable status. Models packaged elsewhere are registered as COMPLETED packaging jobs (`edgeward models
register`, see `packaging`), which DescribeEdgePackagingJob and ListEdgePackagingJobs show and deployment plans
deploy.
"""

from __future__ import annotations

from typing import Any

from edgeward.core.errors import ServiceError
from edgeward.services.context import Context, Handler
from edgeward.services.sagemaker import deploy_listing, deploy_plans, deploy_stages, errors, packaging
from edgeward.storage.repos import sagemaker_deploy_packages as package_repo

NOT_OFFERED = (
    "edgeward does not offer model compilation or edge packaging (SageMaker Neo / Edge Packaging jobs): "
    "package and sign the model yourself, upload it to S3 and register it with `edgeward models register`."
)


def _job_arn(ctx: Context, params: dict[str, Any]) -> str:
    return ctx.arn("sagemaker", f"edge-packaging-job/{params['EdgePackagingJobName']}")


def _refuse(action: str) -> Handler:
    def handler(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        ctx.authorize(f"sagemaker:{action}", _job_arn(ctx, params))
        raise errors.validation(NOT_OFFERED)

    handler.__name__ = action
    return handler


def describe_edge_packaging_job(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["EdgePackagingJobName"]
    ctx.authorize("sagemaker:DescribeEdgePackagingJob", _job_arn(ctx, params))
    job = package_repo.get_package(ctx.conn, ctx.account, ctx.region, name)
    if job is None:
        raise ServiceError(
            "ResourceNotFound", f"Edge packaging job {name} does not exist. {deploy_plans.REGISTER_HINT}", 400
        )
    return packaging.job_shape(job)


OPERATIONS: dict[str, Handler] = {
    "CreateEdgePackagingJob": _refuse("CreateEdgePackagingJob"),
    "DescribeEdgePackagingJob": describe_edge_packaging_job,
    "StopEdgePackagingJob": _refuse("StopEdgePackagingJob"),
    "ListEdgePackagingJobs": deploy_listing.list_edge_packaging_jobs,
    "CreateEdgeDeploymentPlan": deploy_plans.create_edge_deployment_plan,
    "DescribeEdgeDeploymentPlan": deploy_plans.describe_edge_deployment_plan,
    "DeleteEdgeDeploymentPlan": deploy_plans.delete_edge_deployment_plan,
    "ListEdgeDeploymentPlans": deploy_listing.list_edge_deployment_plans,
    "CreateEdgeDeploymentStage": deploy_stages.create_edge_deployment_stage,
    "DeleteEdgeDeploymentStage": deploy_stages.delete_edge_deployment_stage,
    "StartEdgeDeploymentStage": deploy_stages.start_edge_deployment_stage,
    "StopEdgeDeploymentStage": deploy_stages.stop_edge_deployment_stage,
    "ListStageDevices": deploy_stages.list_stage_devices,
}
