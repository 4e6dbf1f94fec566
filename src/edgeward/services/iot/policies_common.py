"""What IoT's policy and role-alias handlers share: marker paging, tags, and the target ARNs policies
attach to.

IoT pages with an opaque base64 `marker` and `pageSize` (1..250); edgeward's marker is the last name of
the page, base64-encoded, so it matches the model's pattern and survives any characters in names.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from typing import Any

from edgeward.policy import ContextValue
from edgeward.services.context import Context
from edgeward.services.iot import errors

MAX_PAGE_SIZE = 250

# A certificate ARN ends in the 64-hex certificate id; a thing group's in its name (model pattern).
_CERT_ARN = re.compile(r"^arn:aws[a-z-]*:iot:[a-z0-9-]+:(\d{12}):cert/[0-9a-f]{64}$")
_THING_GROUP_ARN = re.compile(r"^arn:aws[a-z-]*:iot:[a-z0-9-]+:(\d{12}):thinggroup/[a-zA-Z0-9:_-]{1,128}$")


def page_request(params: Mapping[str, Any]) -> tuple[str | None, int, bool]:
    """(name to start after, page size, ascending) from `marker`, `pageSize` and `ascendingOrder`."""
    marker = params.get("marker")
    after = None
    if marker:
        try:
            after = base64.b64decode(marker, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise errors.invalid_request(f"Invalid marker: {marker}") from None
    size = int(params.get("pageSize") or MAX_PAGE_SIZE)
    return after, size, params.get("ascendingOrder") is not False


def page_marker(last_name: str) -> str:
    return base64.b64encode(last_name.encode()).decode()


def paged(key: str, items: list[Any], size: int, last_name: str | None) -> dict[str, Any]:
    """The output of one page: `items` holds at most `size` entries (the caller fetched one more)."""
    output: dict[str, Any] = {key: items[:size]}
    if len(items) > size and last_name is not None:
        output["nextMarker"] = page_marker(last_name)
    return output


def tags_from_params(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for tag in tags or ():
        key = str(tag["Key"])
        if key in result:
            raise errors.invalid_request(f"Duplicate tag key: {key}")
        result[key] = str(tag.get("Value") or "")
    return result


def authorize_tags(ctx: Context, resource_arn: str, tags: Mapping[str, str]) -> None:
    """Creating with tags also needs iot:TagResource, with the request's tag condition keys."""
    if not tags:
        return
    keys: dict[str, ContextValue] = {f"aws:RequestTag/{key}": value for key, value in tags.items()}
    keys["aws:TagKeys"] = list(tags)
    ctx.authorize("iot:TagResource", resource_arn, keys)


def policy_target(ctx: Context, target: str) -> str:
    """The target ARN if it is a certificate or thing group of this account; InvalidRequest otherwise."""
    found = _CERT_ARN.match(target) or _THING_GROUP_ARN.match(target)
    if found is None:
        raise errors.invalid_request(f"Invalid target: {target}. Expected a certificate or thing group ARN.")
    if found.group(1) != ctx.account:
        raise errors.invalid_request(f"Target {target} does not belong to account {ctx.account}.")
    return target
