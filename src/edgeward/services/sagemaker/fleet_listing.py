"""ListDeviceFleets: filters (name contains, creation/modification windows), sort, keyset pagination.

The default order is newest first (CREATION_TIME, Descending), as SageMaker's listings default. A NextToken
carries the sort it was made for; using it with another sort is a ValidationException.
"""

from __future__ import annotations

from typing import Any

from edgeward.services.context import Context
from edgeward.services.sagemaker import paging
from edgeward.storage.repos import sagemaker_fleets as repo
from edgeward.storage.repos.sagemaker_fleets import FleetFilter, FleetRecord


def summary(fleet: FleetRecord) -> dict[str, Any]:
    return {
        "DeviceFleetArn": fleet.arn,
        "DeviceFleetName": fleet.name,
        "CreationTime": fleet.created_at,
        "LastModifiedTime": fleet.last_modified_at,
    }


def list_device_fleets(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("sagemaker:ListDeviceFleets", "*")
    sort_by, descending = paging.sort_order(params)
    where = FleetFilter(
        name_contains=params.get("NameContains") or None,
        created_after=params.get("CreationTimeAfter"),
        created_before=params.get("CreationTimeBefore"),
        modified_after=params.get("LastModifiedTimeAfter"),
        modified_before=params.get("LastModifiedTimeBefore"),
    )
    after = paging.sorted_position(params, sort_by, descending)
    fleets, last = repo.list_fleets(
        ctx.conn,
        ctx.account,
        ctx.region,
        where,
        sort_by=sort_by,
        descending=descending,
        after=after,
        limit=paging.max_results(params),
    )
    return paging.sorted_page({"DeviceFleetSummaries": [summary(fleet) for fleet in fleets]}, last, sort_by, descending)
