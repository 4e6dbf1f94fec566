"""IAM roles: CreateRole, GetRole, ListRoles, UpdateRole, UpdateRoleDescription, UpdateAssumeRolePolicy,
DeleteRole. (Role tags are in `tags.py`, role policies in the policies area.)

Role names are unique case-insensitively: `AWSDeepLensSagemakerRole` and `AWSDeepLensSageMakerRole` are one
role, and the spelling it was created with is the one IAM returns.
"""

from __future__ import annotations

from typing import Any

from edgeward.policy import PolicyKind
from edgeward.services.context import Context
from edgeward.services.iam import documents, errors
from edgeward.services.iam.boundaries import check_boundary_arn
from edgeward.services.iam.names import entity_arn
from edgeward.services.iam.paging import page_args, page_output
from edgeward.services.iam.tags import request_tag_keys, resource_tag_keys, tag_list, tags_from_params
from edgeward.services.iam.users import boundary_shape, creation_condition
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import dependents
from edgeward.storage.repos import roles as role_repo
from edgeward.storage.repos.roles import DEFAULT_MAX_SESSION_DURATION, RoleRecord

# IAM's default quota on a trust policy's size, counted without whitespace.
TRUST_POLICY_MAX_CHARS = 2048


def role_shape(role: RoleRecord, *, listing: bool = False, last_used: bool = False) -> dict[str, Any]:
    """The `Role` structure. Listings leave tags and the boundary out; GetRole adds RoleLastUsed."""
    shape: dict[str, Any] = {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.unique_id,
        "Arn": role.arn,
        "CreateDate": role.created_at,
        "AssumeRolePolicyDocument": documents.encoded(role.trust_policy),
        "MaxSessionDuration": role.max_session_duration,
    }
    if role.description:
        shape["Description"] = role.description
    if not listing:
        if role.permissions_boundary:
            shape["PermissionsBoundary"] = boundary_shape(role.permissions_boundary)
        if role.tags:
            shape["Tags"] = tag_list(role.tags)
    if last_used:
        used: dict[str, Any] = {}
        if role.last_used_at is not None:
            used["LastUsedDate"] = role.last_used_at
            used["Region"] = role.last_used_region
        shape["RoleLastUsed"] = used
    return shape


def valid_trust_policy(document: str) -> str:
    """The document if it can serve as a role trust policy; MalformedPolicyDocument or LimitExceeded if not."""
    documents.validate(document, PolicyKind.TRUST)
    if documents.size(document) > TRUST_POLICY_MAX_CHARS:
        raise errors.limit_exceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_MAX_CHARS}")
    return document


def _role(ctx: Context, name: str, *, lock: bool = False) -> tuple[RoleRecord | None, str]:
    """The role (or None) and the ARN to authorize against: the role's, or `role/<name>` when missing."""
    role = role_repo.get_role(ctx.conn, ctx.account, name, lock=lock)
    return role, role.arn if role else entity_arn(ctx.account, "role", "/", name)


def _require(role: RoleRecord | None, name: str) -> RoleRecord:
    if role is None:
        raise errors.no_such_entity(f"The role with name {name} cannot be found.")
    return role


def _authorize_on(ctx: Context, action: str, role: RoleRecord | None, arn: str) -> None:
    ctx.authorize(action, arn, resource_tag_keys(role.tags) if role else {})


def create_role(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name, path = params["RoleName"], params.get("Path") or "/"
    arn = entity_arn(ctx.account, "role", path, name)
    tags = tags_from_params(params.get("Tags"))
    boundary = params.get("PermissionsBoundary")
    ctx.authorize("iam:CreateRole", arn, creation_condition(tags, boundary))
    if tags:
        ctx.authorize("iam:TagRole", arn, request_tag_keys(tags))
    trust_policy = valid_trust_policy(params["AssumeRolePolicyDocument"])
    if boundary:
        check_boundary_arn(ctx, boundary)
    try:
        role = role_repo.create_role(
            ctx.conn,
            ctx.account,
            name,
            trust_policy,
            path=path,
            description=params.get("Description") or None,
            max_session_duration=params.get("MaxSessionDuration") or DEFAULT_MAX_SESSION_DURATION,
            permissions_boundary=boundary,
            tags=tags,
        )
    except storage_errors.AlreadyExists:
        raise errors.already_exists(f"Role with name {name} already exists.") from None
    return {"Role": role_shape(role)}


def get_role(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    role, arn = _role(ctx, params["RoleName"])
    _authorize_on(ctx, "iam:GetRole", role, arn)
    return {"Role": role_shape(_require(role, params["RoleName"]), last_used=True)}


def list_roles(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:ListRoles", entity_arn(ctx.account, "role", "/", ""))
    marker, max_items = page_args(params)
    roles, next_marker = role_repo.list_roles(ctx.conn, ctx.account, params.get("PathPrefix") or "/", marker, max_items)
    return page_output("Roles", [role_shape(r, listing=True) for r in roles], next_marker)


def update_role(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    role, arn = _role(ctx, params["RoleName"], lock=True)
    _authorize_on(ctx, "iam:UpdateRole", role, arn)
    role_repo.update_role(
        ctx.conn,
        _require(role, params["RoleName"]),
        description=params.get("Description"),
        max_session_duration=params.get("MaxSessionDuration"),
    )
    return {}


def update_role_description(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    role, arn = _role(ctx, params["RoleName"], lock=True)
    _authorize_on(ctx, "iam:UpdateRoleDescription", role, arn)
    updated = role_repo.update_role(ctx.conn, _require(role, params["RoleName"]), description=params["Description"])
    return {"Role": role_shape(updated, last_used=True)}


def update_assume_role_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    role, arn = _role(ctx, params["RoleName"], lock=True)
    _authorize_on(ctx, "iam:UpdateAssumeRolePolicy", role, arn)
    existing = _require(role, params["RoleName"])
    role_repo.update_role(ctx.conn, existing, trust_policy=valid_trust_policy(params["PolicyDocument"]))
    return {}


def delete_role(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    role, arn = _role(ctx, params["RoleName"], lock=True)
    _authorize_on(ctx, "iam:DeleteRole", role, arn)
    existing = _require(role, params["RoleName"])
    found = dependents.role_dependents(ctx.conn, existing.id)
    if found.attached_policies:
        raise errors.delete_conflict("Cannot delete entity, must detach all policies first.")
    if found.inline_policies:
        raise errors.delete_conflict("Cannot delete entity, must delete policies first.")
    role_repo.delete_role(ctx.conn, existing)
    return {}
