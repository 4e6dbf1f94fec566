"""IAM groups and membership: CreateGroup, GetGroup, ListGroups, UpdateGroup, DeleteGroup, AddUserToGroup,
RemoveUserFromGroup, ListGroupsForUser.
"""

from __future__ import annotations

from typing import Any

from edgeward.services.context import Context
from edgeward.services.iam import errors
from edgeward.services.iam.names import entity_arn
from edgeward.services.iam.paging import page_args, page_output
from edgeward.services.iam.users import require_user, user_arn_for, user_shape
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import dependents
from edgeward.storage.repos import groups as group_repo
from edgeward.storage.repos import users as user_repo
from edgeward.storage.repos.groups import GroupRecord


def group_shape(group: GroupRecord) -> dict[str, Any]:
    return {
        "Path": group.path,
        "GroupName": group.name,
        "GroupId": group.unique_id,
        "Arn": group.arn,
        "CreateDate": group.created_at,
    }


def _group(ctx: Context, name: str, *, lock: bool = False) -> tuple[GroupRecord | None, str]:
    """The group (or None) and the ARN to authorize against: the group's, or `group/<name>` when missing."""
    group = group_repo.get_group(ctx.conn, ctx.account, name, lock=lock)
    return group, group.arn if group else entity_arn(ctx.account, "group", "/", name)


def _require(group: GroupRecord | None, name: str) -> GroupRecord:
    if group is None:
        raise errors.no_such_entity(f"The group with name {name} cannot be found.")
    return group


def create_group(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name, path = params["GroupName"], params.get("Path") or "/"
    ctx.authorize("iam:CreateGroup", entity_arn(ctx.account, "group", path, name))
    try:
        group = group_repo.create_group(ctx.conn, ctx.account, name, path)
    except storage_errors.AlreadyExists:
        raise errors.already_exists(f"Group with name {name} already exists.") from None
    return {"Group": group_shape(group)}


def get_group(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    group, arn = _group(ctx, params["GroupName"])
    ctx.authorize("iam:GetGroup", arn)
    group = _require(group, params["GroupName"])
    marker, max_items = page_args(params)
    users, next_marker = group_repo.list_members(ctx.conn, group, marker, max_items)
    output = page_output("Users", [user_shape(u, listing=True) for u in users], next_marker)
    output["Group"] = group_shape(group)
    return output


def list_groups(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:ListGroups", entity_arn(ctx.account, "group", "/", ""))
    marker, max_items = page_args(params)
    path_prefix = params.get("PathPrefix") or "/"
    groups, next_marker = group_repo.list_groups(ctx.conn, ctx.account, path_prefix, marker, max_items)
    return page_output("Groups", [group_shape(g) for g in groups], next_marker)


def update_group(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Rename and/or move a group. IAM wants the permission on the group as it is and as it will be."""
    name = params["GroupName"]
    group, arn = _group(ctx, name, lock=True)
    ctx.authorize("iam:UpdateGroup", arn)
    group = _require(group, name)
    new_name, new_path = params.get("NewGroupName") or group.name, params.get("NewPath") or group.path
    new_arn = entity_arn(ctx.account, "group", new_path, new_name)
    if new_arn != group.arn:
        ctx.authorize("iam:UpdateGroup", new_arn)
    try:
        group_repo.rename_group(ctx.conn, group, new_name, new_path)
    except storage_errors.AlreadyExists:
        raise errors.already_exists(f"Group with name {new_name} already exists.") from None
    return {}


def delete_group(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    group, arn = _group(ctx, params["GroupName"], lock=True)
    ctx.authorize("iam:DeleteGroup", arn)
    group = _require(group, params["GroupName"])
    _refuse_if_dependents(ctx, group)
    try:
        group_repo.delete_group(ctx.conn, group)
    except storage_errors.InUse:
        raise errors.delete_conflict(MEMBERS_CONFLICT) from None
    return {}


MEMBERS_CONFLICT = "Cannot delete entity, must remove users from group first."


def _refuse_if_dependents(ctx: Context, group: GroupRecord) -> None:
    found = dependents.group_dependents(ctx.conn, group.id)
    if found.group_memberships:
        raise errors.delete_conflict(MEMBERS_CONFLICT)
    if found.attached_policies:
        raise errors.delete_conflict("Cannot delete entity, must detach all policies first.")
    if found.inline_policies:
        raise errors.delete_conflict("Cannot delete entity, must delete policies first.")


def add_user_to_group(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Idempotent, as in IAM: adding a member again succeeds and changes nothing."""
    group, arn = _group(ctx, params["GroupName"])
    ctx.authorize("iam:AddUserToGroup", arn)
    group = _require(group, params["GroupName"])
    user = require_user(ctx, params["UserName"])
    try:
        group_repo.add_member(ctx.conn, group, user)
    except storage_errors.NotFound:  # deleted concurrently
        raise errors.no_such_user(params["UserName"]) from None
    return {}


def remove_user_from_group(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Removing a user that is not a member succeeds, as in IAM."""
    group, arn = _group(ctx, params["GroupName"])
    ctx.authorize("iam:RemoveUserFromGroup", arn)
    group = _require(group, params["GroupName"])
    group_repo.remove_member(ctx.conn, group, require_user(ctx, params["UserName"]))
    return {}


def list_groups_for_user(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["UserName"]
    user = user_repo.get_user(ctx.conn, ctx.account, name)
    ctx.authorize("iam:ListGroupsForUser", user_arn_for(ctx, name, user))
    if user is None:
        raise errors.no_such_user(name)
    marker, max_items = page_args(params)
    groups, next_marker = group_repo.list_groups_for_user(ctx.conn, user, marker, max_items)
    return page_output("Groups", [group_shape(g) for g in groups], next_marker)
