"""DescribeDevice and ListDevices: registrations with their statuses (see `status`).

Authorized as `deeplens:DescribeDevice` on the device ARN and `deeplens:ListDevices` on `*`; the statuses
read the IoT, IAM and SageMaker rows behind a registration without asking for those services' permissions,
as the DeepLens console shows them.
"""

from __future__ import annotations

from typing import Any

from edgeward.services.context import Context
from edgeward.services.deeplens import errors, names, status
from edgeward.storage.repos import deeplens as repo

DEFAULT_PAGE = 50
MAX_PAGE = 100


def describe_device(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = names.device_name(params)
    ctx.authorize("deeplens:DescribeDevice", names.device_arn(ctx, name))
    device = repo.get_device(ctx.conn, ctx.account, ctx.region, name)
    if device is None:
        raise errors.no_device(name)
    return {"Device": status.describe(ctx, device)}


def list_devices(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("deeplens:ListDevices", "*")
    limit = _page_size(params.get("MaxResults"))
    after = params.get("NextToken")
    if after is not None and not isinstance(after, str):
        raise errors.validation("NextToken must be the NextToken of a previous ListDevices answer.")
    found = repo.list_devices(ctx.conn, ctx.account, ctx.region, after=after or None, limit=limit + 1)
    output: dict[str, Any] = {"Devices": [status.describe(ctx, device) for device in found[:limit]]}
    if len(found) > limit:
        output["NextToken"] = found[limit - 1].name
    return output


def _page_size(value: object) -> int:
    if value is None:
        return DEFAULT_PAGE
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE:
        raise errors.validation(f"MaxResults must be an integer from 1 to {MAX_PAGE}.")
    return value
