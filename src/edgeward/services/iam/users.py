"""IAM users: CreateUser, GetUser, ListUsers, DeleteUser."""

from __future__ import annotations

from typing import Any

from edgeward.core import ids
from edgeward.core.errors import ServiceError
from edgeward.core.principal import PrincipalKind
from edgeward.services.context import Context
from edgeward.services.iam import errors
from edgeward.services.iam.names import entity_arn
from edgeward.services.iam.paging import page_args, page_output
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import access_keys as key_repo
from edgeward.storage.repos import accounts, attachments
from edgeward.storage.repos import users as user_repo
from edgeward.storage.repos.users import UserRecord


def user_shape(user: UserRecord) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.unique_id,
        "Arn": user.arn,
        "CreateDate": user.created_at,
    }
    if user.tags:
        shape["Tags"] = [{"Key": k, "Value": v} for k, v in user.tags.items()]
    return shape


def require_user(ctx: Context, name: str) -> UserRecord:
    user = user_repo.get_user(ctx.conn, ctx.account, name)
    if user is None:
        raise errors.no_such_user(name)
    return user


def create_user(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name, path = params["UserName"], params.get("Path") or "/"
    arn = entity_arn(ctx.account, "user", path, name)
    ctx.authorize("iam:CreateUser", arn)
    tags = {tag["Key"]: tag.get("Value", "") for tag in params.get("Tags") or []}
    if tags:
        ctx.authorize("iam:TagUser", arn)
    if params.get("PermissionsBoundary"):
        raise ServiceError(
            "NotImplemented", "edgeward does not implement permissions boundaries yet (CreateUser).", 501
        )
    try:
        user = user_repo.create_user(ctx.conn, ctx.account, name, path, tags, unique_id=ids.unique_id("AIDA"))
    except storage_errors.AlreadyExists:
        raise errors.already_exists(f"User with name {name} already exists.") from None
    return {"User": user_shape(user)}


def get_user(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params.get("UserName")
    if name is None:
        return _get_caller(ctx)
    user = user_repo.get_user(ctx.conn, ctx.account, name)
    ctx.authorize("iam:GetUser", user.arn if user else entity_arn(ctx.account, "user", "/", name))
    if user is None:
        raise errors.no_such_user(name)
    return {"User": user_shape(user)}


def _get_caller(ctx: Context) -> dict[str, Any]:
    principal = ctx.principal
    ctx.authorize("iam:GetUser", principal.arn)
    if principal.kind is PrincipalKind.ROOT:
        return {
            "User": {
                "UserId": principal.account,
                "Arn": principal.arn,
                "Path": "/",
                "UserName": "",
                "CreateDate": _account_created(ctx),
            }
        }
    if principal.kind is not PrincipalKind.USER or principal.entity_id is None:
        raise errors.validation("Must specify userName when calling with non-User credentials")
    user = user_repo.get_user_by_id(ctx.conn, principal.entity_id)
    if user is None:
        raise errors.no_such_user(principal.name)
    return {"User": user_shape(user)}


def _account_created(ctx: Context) -> Any:
    record = accounts.get_account(ctx.conn)
    return record.created_at if record else None


def list_users(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:ListUsers", entity_arn(ctx.account, "user", "/", ""))
    marker, max_items = page_args(params)
    users, next_marker = user_repo.list_users(ctx.conn, ctx.account, params.get("PathPrefix") or "/", marker, max_items)
    return page_output("Users", [user_shape(u) for u in users], next_marker)


def delete_user(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["UserName"]
    user = user_repo.get_user(ctx.conn, ctx.account, name)
    ctx.authorize("iam:DeleteUser", user.arn if user else entity_arn(ctx.account, "user", "/", name))
    if user is None:
        raise errors.no_such_user(name)
    if key_repo.list_access_keys(ctx.conn, ctx.account, user):
        raise errors.delete_conflict("Cannot delete entity, must delete access keys first.")
    if attachments.attached_policy_arns(ctx.conn, "user", user.id):
        raise errors.delete_conflict("Cannot delete entity, must detach all policies first.")
    try:
        user_repo.delete_user(ctx.conn, user)
    except storage_errors.InUse:  # a concurrent CreateAccessKey won the race
        raise errors.delete_conflict("Cannot delete entity, must delete access keys first.") from None
    return {}
