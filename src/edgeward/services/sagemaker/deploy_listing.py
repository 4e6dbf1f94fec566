"""ListEdgeDeploymentPlans and ListEdgePackagingJobs: filters, sort, keyset pagination.

The default order is newest first (CREATION_TIME, Descending), as SageMaker's listings default. A NextToken
carries the sort it was made for; using it with another sort is a ValidationException.
"""

from __future__ import annotations

from typing import Any

from edgeward.services.context import Context
from edgeward.services.sagemaker import deploy_shapes, packaging, paging
from edgeward.storage.repos import sagemaker_deploy_devices as device_repo
from edgeward.storage.repos import sagemaker_deploy_packages as package_repo
from edgeward.storage.repos import sagemaker_deploy_plans as plan_repo
from edgeward.storage.repos.sagemaker_deploy_paging import TimeWindow


def list_edge_deployment_plans(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("sagemaker:ListEdgeDeploymentPlans", "*")
    sort_by, descending = paging.sort_order(params)
    where = plan_repo.PlanFilter(
        name_contains=params.get("NameContains") or None,
        fleet_name_contains=params.get("DeviceFleetNameContains") or None,
        window=_window(params),
    )
    plans, last = plan_repo.list_plans(
        ctx.conn,
        ctx.account,
        ctx.region,
        where,
        sort_by=sort_by,
        descending=descending,
        after=paging.sorted_position(params, sort_by, descending),
        limit=paging.max_results(params),
    )
    counts = device_repo.counts_by_plan(ctx.conn, [plan.id for plan in plans])
    summaries = [deploy_shapes.plan_summary(plan, counts.get(plan.id)) for plan in plans]
    return paging.sorted_page({"EdgeDeploymentPlanSummaries": summaries}, last, sort_by, descending)


def list_edge_packaging_jobs(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("sagemaker:ListEdgePackagingJobs", "*")
    sort_by, descending = paging.sort_order(params)
    where = package_repo.PackageFilter(
        name_contains=params.get("NameContains") or None,
        model_name_contains=params.get("ModelNameContains") or None,
        status=params.get("StatusEquals") or None,
        window=_window(params),
    )
    jobs, last = package_repo.list_packages(
        ctx.conn,
        ctx.account,
        ctx.region,
        where,
        sort_by=sort_by,
        descending=descending,
        after=paging.sorted_position(params, sort_by, descending),
        limit=paging.max_results(params),
    )
    return paging.sorted_page(
        {"EdgePackagingJobSummaries": [packaging.job_summary(job) for job in jobs]}, last, sort_by, descending
    )


def _window(params: dict[str, Any]) -> TimeWindow:
    return TimeWindow(
        created_after=params.get("CreationTimeAfter"),
        created_before=params.get("CreationTimeBefore"),
        modified_after=params.get("LastModifiedTimeAfter"),
        modified_before=params.get("LastModifiedTimeBefore"),
    )
