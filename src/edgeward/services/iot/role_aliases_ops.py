"""IoT role aliases: CreateRoleAlias, DescribeRoleAlias, UpdateRoleAlias, DeleteRoleAlias, ListRoleAliases.

Authorized as `iot:<Operation>` on the alias ARN (the stored one when the alias exists); creating or
re-pointing an alias also needs `iam:PassRole` on the role (spec 4.5).
"""

from __future__ import annotations

from typing import Any

from edgeward.services.context import Context, Handler
from edgeward.services.iot import errors
from edgeward.services.iot.policies_common import authorize_tags, page_request, paged, tags_from_params
from edgeward.services.iot.role_aliases import (
    DEFAULT_DURATION,
    check_pass_to_iot,
    checked_role,
    description,
    new_role_alias,
    role_alias_arn,
)
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import role_aliases as repo
from edgeward.storage.repos.role_aliases import RoleAliasRecord


def _authorized_alias(ctx: Context, action: str, alias: str, *, lock: bool = False) -> RoleAliasRecord:
    record = repo.get_role_alias(ctx.conn, ctx.account, alias, lock=lock)
    ctx.authorize(action, record.arn if record else role_alias_arn(ctx, alias))
    if record is None:
        raise errors.not_found(f"Role alias {alias} does not exist.")
    return record


def create_role_alias(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    alias, role_arn = params["roleAlias"], params["roleArn"]
    arn = role_alias_arn(ctx, alias)
    tags = tags_from_params(params.get("tags"))
    ctx.authorize("iot:CreateRoleAlias", arn)
    authorize_tags(ctx, arn, tags)
    check_pass_to_iot(ctx, role_arn)
    duration = params.get("credentialDurationSeconds") or DEFAULT_DURATION
    record = new_role_alias(ctx, alias, role_arn, duration, tags)
    return {"roleAlias": record.alias, "roleAliasArn": record.arn}


def describe_role_alias(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    record = _authorized_alias(ctx, "iot:DescribeRoleAlias", params["roleAlias"])
    return {"roleAliasDescription": description(record)}


def update_role_alias(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    record = _authorized_alias(ctx, "iot:UpdateRoleAlias", params["roleAlias"], lock=True)
    role_arn, duration = params.get("roleArn"), params.get("credentialDurationSeconds")
    if role_arn is not None:
        check_pass_to_iot(ctx, role_arn)
    if role_arn is not None or duration is not None:
        checked_role(ctx, role_arn or record.role_arn, duration or record.credential_duration_seconds)
    try:
        updated = repo.update_role_alias(ctx.conn, record, role_arn=role_arn, credential_duration_seconds=duration)
    except storage_errors.NotFound:
        raise errors.not_found(f"Role alias {record.alias} does not exist.") from None
    return {"roleAlias": updated.alias, "roleAliasArn": updated.arn}


def delete_role_alias(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    record = _authorized_alias(ctx, "iot:DeleteRoleAlias", params["roleAlias"], lock=True)
    if not repo.delete_role_alias(ctx.conn, ctx.account, record.alias):
        raise errors.not_found(f"Role alias {record.alias} does not exist.")
    return {}


def list_role_aliases(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:ListRoleAliases", "*")
    after, size, ascending = page_request(params)
    found = repo.list_role_aliases(ctx.conn, ctx.account, after=after, limit=size + 1, ascending=ascending)
    return paged("roleAliases", found, size, found[size - 1] if len(found) > size else None)


OPERATIONS: dict[str, Handler] = {
    "CreateRoleAlias": create_role_alias,
    "DescribeRoleAlias": describe_role_alias,
    "UpdateRoleAlias": update_role_alias,
    "DeleteRoleAlias": delete_role_alias,
    "ListRoleAliases": list_role_aliases,
}
