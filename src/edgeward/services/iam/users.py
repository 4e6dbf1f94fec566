"""IAM users: CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser."""

from __future__ import annotations

from typing import Any

from edgeward.core import ids
from edgeward.core.principal import PrincipalKind
from edgeward.policy import ContextValue
from edgeward.services.context import Context
from edgeward.services.iam import errors
from edgeward.services.iam.boundaries import check_boundary_arn
from edgeward.services.iam.names import entity_arn
from edgeward.services.iam.paging import page_args, page_output
from edgeward.services.iam.tags import request_tag_keys, resource_tag_keys, tag_list, tags_from_params
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import accounts, dependents
from edgeward.storage.repos import users as user_repo
from edgeward.storage.repos.users import UserRecord


def user_shape(user: UserRecord, *, listing: bool = False) -> dict[str, Any]:
    """The `User` structure. Listings leave tags and the boundary out, as IAM's List operations do."""
    shape: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.unique_id,
        "Arn": user.arn,
        "CreateDate": user.created_at,
    }
    if not listing:
        if user.permissions_boundary:
            shape["PermissionsBoundary"] = boundary_shape(user.permissions_boundary)
        if user.tags:
            shape["Tags"] = tag_list(user.tags)
    return shape


def boundary_shape(policy_arn: str) -> dict[str, str]:
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": policy_arn}


def creation_condition(tags: dict[str, str], boundary: str | None) -> dict[str, ContextValue]:
    """Condition keys of CreateUser/CreateRole: the tags requested and the permissions boundary."""
    condition = request_tag_keys(tags) if tags else {}
    if boundary:
        condition["iam:PermissionsBoundary"] = boundary
    return condition


def user_arn_for(ctx: Context, name: str, user: UserRecord | None) -> str:
    """The user's ARN, or for a user that does not exist the ARN it would have at path `/`."""
    return user.arn if user else entity_arn(ctx.account, "user", "/", name)


def require_user(ctx: Context, name: str) -> UserRecord:
    user = user_repo.get_user(ctx.conn, ctx.account, name)
    if user is None:
        raise errors.no_such_user(name)
    return user


def create_user(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name, path = params["UserName"], params.get("Path") or "/"
    arn = entity_arn(ctx.account, "user", path, name)
    tags = tags_from_params(params.get("Tags"))
    boundary = params.get("PermissionsBoundary")
    ctx.authorize("iam:CreateUser", arn, creation_condition(tags, boundary))
    if tags:
        ctx.authorize("iam:TagUser", arn, request_tag_keys(tags))
    if boundary:
        check_boundary_arn(ctx, boundary)
    try:
        user = user_repo.create_user(
            ctx.conn, ctx.account, name, path, tags, permissions_boundary=boundary, unique_id=ids.unique_id("AIDA")
        )
    except storage_errors.AlreadyExists:
        raise errors.already_exists(f"User with name {name} already exists.") from None
    return {"User": user_shape(user)}


def get_user(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params.get("UserName")
    if name is None:
        return _get_caller(ctx)
    user = user_repo.get_user(ctx.conn, ctx.account, name)
    ctx.authorize("iam:GetUser", user_arn_for(ctx, name, user), resource_tag_keys(user.tags if user else {}))
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
    return page_output("Users", [user_shape(u, listing=True) for u in users], next_marker)


def update_user(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Rename and/or move a user. IAM wants the permission on the user as it is and as it will be."""
    name = params["UserName"]
    user = user_repo.get_user(ctx.conn, ctx.account, name, lock=True)
    ctx.authorize("iam:UpdateUser", user_arn_for(ctx, name, user), resource_tag_keys(user.tags if user else {}))
    if user is None:
        raise errors.no_such_user(name)
    new_name, new_path = params.get("NewUserName") or user.name, params.get("NewPath") or user.path
    new_arn = entity_arn(ctx.account, "user", new_path, new_name)
    if new_arn != user.arn:
        ctx.authorize("iam:UpdateUser", new_arn)
    try:
        user_repo.rename_user(ctx.conn, user, new_name, new_path)
    except storage_errors.AlreadyExists:
        raise errors.already_exists(f"User with name {new_name} already exists.") from None
    return {}


def delete_user(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["UserName"]
    user = user_repo.get_user(ctx.conn, ctx.account, name, lock=True)
    ctx.authorize("iam:DeleteUser", user_arn_for(ctx, name, user), resource_tag_keys(user.tags if user else {}))
    if user is None:
        raise errors.no_such_user(name)
    _refuse_if_dependents(ctx, user)
    try:
        user_repo.delete_user(ctx.conn, user)
    except storage_errors.InUse:  # a dependent added concurrently (SQLite serializes writers; PostgreSQL locks)
        _refuse_if_dependents(ctx, user)
        raise errors.delete_conflict("Cannot delete entity, must delete access keys first.") from None
    return {}


# What DeleteUser asks to remove first, in the order IAM checks.
_USER_CONFLICTS = (
    ("login_profile", "Cannot delete entity, must delete login profile first."),
    ("access_keys", "Cannot delete entity, must delete access keys first."),
    ("group_memberships", "Cannot delete entity, must remove users from group first."),
    ("attached_policies", "Cannot delete entity, must detach all policies first."),
    ("inline_policies", "Cannot delete entity, must delete policies first."),
)


def _refuse_if_dependents(ctx: Context, user: UserRecord) -> None:
    found = dependents.user_dependents(ctx.conn, user.id)
    for attribute, message in _USER_CONFLICTS:
        if getattr(found, attribute):
            raise errors.delete_conflict(message)
