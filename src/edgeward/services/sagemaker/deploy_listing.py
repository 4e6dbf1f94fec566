"""ListEdgeDeploymentPlans and ListEdgePackagingJobs: filters, sort, keyset pagination.

The default order is newest first (CREATION_TIME, Descending), as SageMaker's listings default. A NextToken
carries the sort it was made for; using it with another sort is a ValidationException.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edgeward.services.context import Context
from edgeward.services.sagemaker import deploy_shapes, errors, packaging, paging
from edgeward.storage.repos import sagemaker_deploy_devices as device_repo
from edgeward.storage.repos import sagemaker_deploy_packages as package_repo
from edgeward.storage.repos import sagemaker_deploy_plans as plan_repo
from edgeward.storage.repos.sagemaker_deploy_paging import TimeWindow

_BAD_TOKEN = "The NextToken does not belong to this listing's sort order. Start again without it."
_TIME_SORTS = ("CREATION_TIME", "LAST_MODIFIED_TIME")


def list_edge_deployment_plans(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("sagemaker:ListEdgeDeploymentPlans", "*")
    sort_by, descending = _sort(params)
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
        after=_position(params, sort_by, descending),
        limit=paging.max_results(params),
    )
    counts = device_repo.counts_by_plan(ctx.conn, [plan.id for plan in plans])
    summaries = [deploy_shapes.plan_summary(plan, counts.get(plan.id)) for plan in plans]
    return _page({"EdgeDeploymentPlanSummaries": summaries}, last, sort_by, descending)


def list_edge_packaging_jobs(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("sagemaker:ListEdgePackagingJobs", "*")
    sort_by, descending = _sort(params)
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
        after=_position(params, sort_by, descending),
        limit=paging.max_results(params),
    )
    return _page({"EdgePackagingJobSummaries": [packaging.job_summary(job) for job in jobs]}, last, sort_by, descending)


def _sort(params: dict[str, Any]) -> tuple[str, bool]:
    return params.get("SortBy") or "CREATION_TIME", (params.get("SortOrder") or "Descending") == "Descending"


def _window(params: dict[str, Any]) -> TimeWindow:
    return TimeWindow(
        created_after=params.get("CreationTimeAfter"),
        created_before=params.get("CreationTimeBefore"),
        modified_after=params.get("LastModifiedTimeAfter"),
        modified_before=params.get("LastModifiedTimeBefore"),
    )


def _page(output: dict[str, Any], last: tuple[Any, str] | None, sort_by: str, descending: bool) -> dict[str, Any]:
    if last is not None:
        value = last[0].isoformat() if isinstance(last[0], datetime) else last[0]
        output["NextToken"] = paging.encode({"s": sort_by, "d": descending, "k": [value, last[1]]})
    return output


def _position(params: dict[str, Any], sort_by: str, descending: bool) -> tuple[Any, str] | None:
    token = paging.decode(params.get("NextToken"))
    if token is None:
        return None
    key = token.get("k")
    if token.get("s") != sort_by or token.get("d") != descending or not isinstance(key, list) or len(key) != 2:
        raise errors.validation(_BAD_TOKEN)
    value, name = key
    if not isinstance(value, str) or not isinstance(name, str):
        raise errors.validation(_BAD_TOKEN)
    if sort_by not in _TIME_SORTS:
        return value, name
    try:
        return datetime.fromisoformat(value), name
    except ValueError:
        raise errors.validation(_BAD_TOKEN) from None
