"""Rules the IoT registry operations share: attribute payloads, tags on create, names from ARNs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from edgeward.core import arn as arns
from edgeward.policy import ContextValue
from edgeward.services.context import Context
from edgeward.services.iot import errors

# IoT's registry quotas: a thing without a thing type may carry 3 attributes, with one 50.
MAX_ATTRIBUTES_UNTYPED = 3
MAX_ATTRIBUTES_TYPED = 50
MAX_TAGS = 50


def payload_attributes(payload: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The attributes an `attributePayload` sets, or None when it sets none (leave them as they are)."""
    if not payload or payload.get("attributes") is None:
        return None
    return {str(key): str(value) for key, value in payload["attributes"].items()}


def apply_payload(existing: Mapping[str, str], payload: Mapping[str, Any] | None) -> dict[str, str]:
    """Attributes after an update: `merge` adds to and changes the existing ones, otherwise the payload's
    replace them; in both an empty value removes the attribute (IoT's way to delete one)."""
    given = payload_attributes(payload)
    if given is None:
        return dict(existing)
    result = {**existing, **given} if payload and payload.get("merge") else dict(given)
    return {key: value for key, value in result.items() if value != ""}


def check_attribute_count(attributes: Mapping[str, str], typed: bool) -> None:
    limit = MAX_ATTRIBUTES_TYPED if typed else MAX_ATTRIBUTES_UNTYPED
    if len(attributes) > limit:
        kind = "with a thing type" if typed else "without a thing type"
        raise errors.invalid_request(f"A thing {kind} can have at most {limit} attributes; {len(attributes)} given.")


def tags_from_params(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """IoT's `tags` list as a dict; InvalidRequest for a repeated key or too many tags."""
    result: dict[str, str] = {}
    for tag in tags or ():
        key = str(tag["Key"])
        if key in result:
            raise errors.invalid_request(f"Duplicate tag key: {key}")
        result[key] = str(tag.get("Value") or "")
    if len(result) > MAX_TAGS:
        raise errors.invalid_request(f"A resource can have at most {MAX_TAGS} tags.")
    return result


def authorize_create(ctx: Context, action: str, arn: str, tags: Mapping[str, str]) -> None:
    """A create's own permission, and `iot:TagResource` too when it tags (as IoT requires)."""
    keys: dict[str, ContextValue] = {f"aws:RequestTag/{key}": value for key, value in tags.items()}
    if tags:
        keys["aws:TagKeys"] = list(tags)
    ctx.authorize(action, arn, keys)
    if tags:
        ctx.authorize("iot:TagResource", arn, keys)


def name_from(ctx: Context, name: str | None, arn: str | None, kind: str, noun: str) -> str:
    """A resource's name from either its name or its ARN (`<kind>/<name>` in this account), as
    AddThingToThingGroup accepts; InvalidRequest when neither or a foreign ARN is given."""
    if name:
        return name
    if not arn:
        raise errors.invalid_request(f"Either the {noun} name or the {noun} ARN must be given.")
    try:
        parsed = arns.Arn.parse(arn)
    except ValueError:
        raise errors.invalid_request(f"Invalid {noun} ARN: {arn}") from None
    found = parsed.resource.removeprefix(f"{kind}/")
    if parsed.service != "iot" or parsed.account != ctx.account or found == parsed.resource or not found:
        raise errors.invalid_request(f"Invalid {noun} ARN: {arn}")
    return found
