"""ListDeviceFleets: filters (name contains, creation/modification windows), sort, keyset pagination.

The default order is newest first (CREATION_TIME, Descending), as SageMaker's listings default. A NextToken
carries the sort it was made for; using it with another sort is a ValidationException.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edgeward.services.context import Context
from edgeward.services.sagemaker import errors, paging
from edgeward.storage.repos import sagemaker_fleets as repo
from edgeward.storage.repos.sagemaker_fleets import FleetFilter, FleetRecord

_BAD_TOKEN = "The NextToken does not belong to this listing's sort order. Start again without it."


def summary(fleet: FleetRecord) -> dict[str, Any]:
    return {
        "DeviceFleetArn": fleet.arn,
        "DeviceFleetName": fleet.name,
        "CreationTime": fleet.created_at,
        "LastModifiedTime": fleet.last_modified_at,
    }


def list_device_fleets(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("sagemaker:ListDeviceFleets", "*")
    sort_by = params.get("SortBy") or "CREATION_TIME"
    descending = (params.get("SortOrder") or "Descending") == "Descending"
    where = FleetFilter(
        name_contains=params.get("NameContains") or None,
        created_after=params.get("CreationTimeAfter"),
        created_before=params.get("CreationTimeBefore"),
        modified_after=params.get("LastModifiedTimeAfter"),
        modified_before=params.get("LastModifiedTimeBefore"),
    )
    after = _position(paging.decode(params.get("NextToken")), sort_by, descending)
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
    output: dict[str, Any] = {"DeviceFleetSummaries": [summary(fleet) for fleet in fleets]}
    if last is not None:
        value = last[0].isoformat() if isinstance(last[0], datetime) else last[0]
        output["NextToken"] = paging.encode({"s": sort_by, "d": descending, "k": [value, last[1]]})
    return output


def _position(token: dict[str, Any] | None, sort_by: str, descending: bool) -> tuple[Any, str] | None:
    if token is None:
        return None
    key = token.get("k")
    if token.get("s") != sort_by or token.get("d") != descending or not isinstance(key, list) or len(key) != 2:
        raise errors.validation(_BAD_TOKEN)
    value, name = key
    if not isinstance(value, str) or not isinstance(name, str):
        raise errors.validation(_BAD_TOKEN)
    if sort_by == "NAME":
        return value, name
    try:
        return datetime.fromisoformat(value), name
    except ValueError:
        raise errors.validation(_BAD_TOKEN) from None
