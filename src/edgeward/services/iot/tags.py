"""IoT tagging: TagResource, UntagResource, ListTagsForResource.

The resource is named by its ARN; its type picks the area whose row holds the tags (thing groups, thing
types, policies, role aliases, CA certificates — what IoT lets you tag among the resources edgeward has).
Things and device certificates carry no tags in IoT: naming one is an invalid request, not a missing
resource. Authorization sees the resource's current tags (`aws:ResourceTag/...`) and, for changes, the
request's (`aws:RequestTag/...`, `aws:TagKeys`), so tag-based IAM policies work as on AWS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from edgeward.core import arn as arns
from edgeward.policy import ContextValue
from edgeward.services.context import Context, Handler
from edgeward.services.iot import errors
from edgeward.storage.repos import iot_tags
from edgeward.storage.repos.iot_tags import TaggedResource

MAX_TAGS = 50
RESERVED_PREFIX = "aws:"
_UNTAGGABLE = {"thing": "Things", "cert": "Certificates"}


@dataclass(frozen=True, slots=True)
class _Target:
    arn: str
    kind: str
    name: str
    resource: TaggedResource | None  # None: the account has no such resource


def tag_resource(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    requested = _requested_tags(params["tags"])
    target = _target(ctx, params["resourceArn"], lock=True)
    condition: dict[str, ContextValue] = {f"aws:RequestTag/{key}": value for key, value in requested.items()}
    condition["aws:TagKeys"] = list(requested)
    ctx.authorize("iot:TagResource", target.arn, {**_resource_tags(target), **condition})
    existing = _existing(target)
    merged = {**existing.tags, **requested}
    if len(merged) > MAX_TAGS:
        raise errors.limit_exceeded(
            f"A resource can have at most {MAX_TAGS} tags; this request would give {target.arn} {len(merged)}."
        )
    _store(ctx, target, merged)
    return {}


def untag_resource(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    keys = list(dict.fromkeys(str(key) for key in params["tagKeys"]))
    _check_not_reserved(keys)
    target = _target(ctx, params["resourceArn"], lock=True)
    ctx.authorize("iot:UntagResource", target.arn, {**_resource_tags(target), "aws:TagKeys": keys})
    existing = _existing(target)
    remaining = {key: value for key, value in existing.tags.items() if key not in keys}
    if len(remaining) != len(existing.tags):
        _store(ctx, target, remaining)
    return {}


def list_tags_for_resource(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    target = _target(ctx, params["resourceArn"], lock=False)
    ctx.authorize("iot:ListTagsForResource", target.arn, _resource_tags(target))
    existing = _existing(target)
    if params.get("nextToken"):
        # Every resource's tags fit in one page, so edgeward never hands out a token to come back with.
        raise errors.invalid_request(f"The nextToken {params['nextToken']} is not valid.")
    return {"tags": [{"Key": key, "Value": value} for key, value in existing.tags.items()]}


# -- the resource ---------------------------------------------------------------------------------------


def _target(ctx: Context, resource_arn: str, *, lock: bool) -> _Target:
    """The ARN's resource: InvalidRequest for a malformed or untaggable ARN; `resource` None when absent."""
    try:
        parsed = arns.Arn.parse(resource_arn)
    except ValueError:
        raise errors.invalid_request(f"{resource_arn} is not a valid ARN.") from None
    kind, _, name = parsed.resource.partition("/")
    if parsed.service != "iot" or not name or not parsed.region or not parsed.account:
        raise errors.invalid_request(f"{resource_arn} is not a valid AWS IoT resource ARN.")
    if kind in _UNTAGGABLE:
        raise errors.invalid_request(f"{_UNTAGGABLE[kind]} cannot be tagged: {resource_arn}.")
    found = None
    if kind in iot_tags.TAGGABLE_KINDS and parsed.account == ctx.account:
        found = iot_tags.get_tagged(ctx.conn, kind, ctx.account, name, lock=lock)
    if found is not None and not _same_place(parsed, found.arn):
        found = None  # the account has one of that name, but in another region (or partition)
    return _Target(arn=resource_arn, kind=kind, name=name, resource=found)


def _same_place(requested: arns.Arn, stored_arn: str) -> bool:
    stored = arns.Arn.parse(stored_arn)
    return (stored.partition, stored.region) == (requested.partition, requested.region)


def _existing(target: _Target) -> TaggedResource:
    if target.resource is None:
        raise errors.not_found(f"The resource {target.arn} does not exist.")
    return target.resource


def _resource_tags(target: _Target) -> dict[str, ContextValue]:
    tags = target.resource.tags if target.resource is not None else {}
    return {f"aws:ResourceTag/{key}": value for key, value in tags.items()}


def _store(ctx: Context, target: _Target, tags: Mapping[str, str]) -> None:
    if not iot_tags.set_tags(ctx.conn, target.kind, ctx.account, target.name, tags):
        raise errors.not_found(f"The resource {target.arn} does not exist.")


# -- the request's tags ---------------------------------------------------------------------------------


def _requested_tags(tags: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    result: dict[str, str] = {}
    for tag in tags:
        key = str(tag["Key"])
        if key in result:
            raise errors.invalid_request(f"Duplicate tag key: {key}")
        result[key] = str(tag.get("Value") or "")
    if not result:
        raise errors.invalid_request("At least one tag is required.")
    _check_not_reserved(result)
    return result


def _check_not_reserved(keys: Iterable[str]) -> None:
    for key in keys:
        if key.lower().startswith(RESERVED_PREFIX):
            raise errors.invalid_request(
                f"Tag key {key} is not allowed: keys starting with '{RESERVED_PREFIX}' are reserved for AWS use."
            )


OPERATIONS: dict[str, Handler] = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
