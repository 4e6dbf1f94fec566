"""ARNs of Edge Manager resources, and the tag shapes SageMaker shares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from edgeward.policy import ContextValue
from edgeward.services.context import Context


def fleet_arn(ctx: Context, fleet: str) -> str:
    return ctx.arn("sagemaker", f"device-fleet/{fleet}")


def device_arn(ctx: Context, fleet: str, device: str) -> str:
    return ctx.arn("sagemaker", f"device-fleet/{fleet}/device/{device}")


def tags_from_params(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """SageMaker's `Tags` list as a dict (keys are case-sensitive; the model bounds the count)."""
    return {str(tag["Key"]): str(tag.get("Value") or "") for tag in tags or ()}


def authorize_tagging(ctx: Context, arn: str, tags: Mapping[str, str]) -> None:
    """Tags on create need sagemaker:AddTags too, as in AWS, with the request's tag condition keys."""
    if tags:
        ctx.authorize("sagemaker:AddTags", arn, request_tag_keys(tags))


def request_tag_keys(tags: Mapping[str, str]) -> dict[str, ContextValue]:
    keys: dict[str, ContextValue] = {f"aws:RequestTag/{key}": value for key, value in tags.items()}
    if tags:
        keys["aws:TagKeys"] = list(tags)
    return keys
