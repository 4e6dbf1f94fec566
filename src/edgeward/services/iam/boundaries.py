"""Permissions boundaries: PutUserPermissionsBoundary, DeleteUserPermissionsBoundary,
PutRolePermissionsBoundary, DeleteRolePermissionsBoundary, and the check CreateUser/CreateRole share.

A boundary is a managed policy (AWS managed, or customer managed of the account) named by ARN on the user or
role; while one uses it, DeletePolicy refuses (it counts boundary uses under the policy's row lock, which
setting a boundary takes too).
"""

from __future__ import annotations

from typing import Any

from edgeward.core.errors import ServiceError
from edgeward.services.context import Context, Handler
from edgeward.services.iam import errors, owners
from edgeward.services.iam.names import entity_arn
from edgeward.services.iam.policy_refs import ManagedPolicy, check_arn, find
from edgeward.storage.repos import roles as role_repo
from edgeward.storage.repos import users as user_repo

_NAME_PARAM = {"user": "UserName", "role": "RoleName"}


def not_attachable(policy_arn: str) -> ServiceError:
    return errors.no_such_entity(f"Scope ARN: {policy_arn} does not exist or is not attachable.")


def check_boundary_arn(ctx: Context, policy_arn: str) -> None:
    """Raise the IAM error AWS gives when `policy_arn` cannot serve as a permissions boundary:
    InvalidInput for something that is not a managed policy ARN, NoSuchEntity for a policy that does not
    exist (or belongs to another account)."""
    _boundary_policy(ctx, policy_arn, lock=False)


def _boundary_policy(ctx: Context, policy_arn: str, *, lock: bool) -> ManagedPolicy:
    check_arn(policy_arn)
    found = find(ctx.conn, ctx.account, policy_arn, lock=lock)
    if found is None:
        raise not_attachable(policy_arn)
    return found


def _set(ctx: Context, kind: str, owner_id: int, policy_arn: str | None) -> None:
    if kind == "user":
        user_repo.set_user_permissions_boundary(ctx.conn, owner_id, policy_arn)
    else:
        role_repo.set_role_permissions_boundary(ctx.conn, owner_id, policy_arn)


def _put(ctx: Context, params: dict[str, Any], kind: str) -> dict[str, Any]:
    policy_arn = params["PermissionsBoundary"]
    action = f"iam:Put{kind.capitalize()}PermissionsBoundary"
    condition = {"iam:PermissionsBoundary": policy_arn}
    owner = owners.require(ctx, kind, params[_NAME_PARAM[kind]], action, condition, lock=True)
    _boundary_policy(ctx, policy_arn, lock=True)
    _set(ctx, kind, owner.id, policy_arn)
    return {}


def _delete(ctx: Context, params: dict[str, Any], kind: str) -> dict[str, Any]:
    name = params[_NAME_PARAM[kind]]
    owner = owners.find(ctx.conn, ctx.account, kind, name, lock=True)
    condition = {"iam:PermissionsBoundary": owner.boundary} if owner is not None and owner.boundary else None
    action = f"iam:Delete{kind.capitalize()}PermissionsBoundary"
    ctx.authorize(action, owner.arn if owner else entity_arn(ctx.account, kind, "/", name), condition)
    if owner is None:
        raise owners.missing(kind, name)
    if owner.boundary is not None:
        _set(ctx, kind, owner.id, None)
    return {}


def put_user_permissions_boundary(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _put(ctx, params, "user")


def delete_user_permissions_boundary(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _delete(ctx, params, "user")


def put_role_permissions_boundary(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _put(ctx, params, "role")


def delete_role_permissions_boundary(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _delete(ctx, params, "role")


OPERATIONS: dict[str, Handler] = {
    "PutUserPermissionsBoundary": put_user_permissions_boundary,
    "DeleteUserPermissionsBoundary": delete_user_permissions_boundary,
    "PutRolePermissionsBoundary": put_role_permissions_boundary,
    "DeleteRolePermissionsBoundary": delete_role_permissions_boundary,
}
