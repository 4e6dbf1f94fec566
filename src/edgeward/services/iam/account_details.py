"""GetAccountAuthorizationDetails: every user, group and role with its policies, and the managed policies
(customer managed ones, and the AWS managed ones in use) with all their versions. One listing, paginated
across the four sections in that order; `Filter` picks sections.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from edgeward.services.context import Context
from edgeward.services.iam import documents
from edgeward.services.iam.attach import attached_shapes
from edgeward.services.iam.listing import page
from edgeward.services.iam.managed import aws_managed_policies
from edgeward.services.iam.owners import groups_of
from edgeward.services.iam.paging import page_args
from edgeward.services.iam.policies import policy_shape
from edgeward.services.iam.policy_refs import ManagedPolicy, of_aws, of_record
from edgeward.services.iam.policy_versions import version_shape
from edgeward.services.iam.tags import tag_list
from edgeward.services.iam.users import boundary_shape
from edgeward.storage.repos import attachments
from edgeward.storage.repos import groups as group_repo
from edgeward.storage.repos import inline_policies as inline_repo
from edgeward.storage.repos import policies as policy_repo
from edgeward.storage.repos import roles as role_repo
from edgeward.storage.repos import users as user_repo
from edgeward.storage.repos.groups import GroupRecord
from edgeward.storage.repos.roles import RoleRecord
from edgeward.storage.repos.users import UserRecord

T = TypeVar("T")
Item = tuple[str, Any]  # (section, record)
_SECTIONS = ("User", "Group", "Role", "Policy")


def _all(fetch: Callable[[str | None], tuple[list[T], str | None]]) -> list[T]:
    found: list[T] = []
    marker: str | None = None
    while True:
        batch, marker = fetch(marker)
        found.extend(batch)
        if marker is None:
            return found


def _items(ctx: Context, wanted: set[str]) -> list[Item]:
    conn, account = ctx.conn, ctx.account
    items: list[Item] = []
    if "User" in wanted:
        items += [("User", u) for u in _all(lambda m: user_repo.list_users(conn, account, "/", m, 1000))]
    if "Group" in wanted:
        items += [("Group", g) for g in _all(lambda m: group_repo.list_groups(conn, account, "/", m, 1000))]
    if "Role" in wanted:
        items += [("Role", r) for r in _all(lambda m: role_repo.list_roles(conn, account, "/", m, 1000))]
    policies: list[ManagedPolicy] = []
    if "AWSManagedPolicy" in wanted:
        in_use = {**attachments.attachment_counts(conn, account), **attachments.boundary_counts(conn, account)}
        policies += [of_aws(entry) for entry in aws_managed_policies() if in_use.get(entry.arn)]
    if "LocalManagedPolicy" in wanted:
        policies += [of_record(record) for record in policy_repo.list_policies(conn, account)]
    items += [("Policy", p) for p in policies]
    items.sort(key=_key)  # the markers' order, whatever order the repositories answer in
    return items


def _key(item: Item) -> str:
    section, record = item
    suffix = f"|{record.arn}" if section == "Policy" else ""
    return f"{_SECTIONS.index(section)}|{record.name.lower()}{suffix}"


def _inline_list(ctx: Context, kind: str, ids: Sequence[int]) -> dict[int, list[dict[str, str]]]:
    found = inline_repo.list_for_many(ctx.conn, kind, ids)
    return {
        owner_id: [{"PolicyName": p.name, "PolicyDocument": documents.encoded(p.document)} for p in policies]
        for owner_id, policies in found.items()
    }


def _attached(ctx: Context, kind: str, ids: Sequence[int]) -> dict[int, list[dict[str, str]]]:
    found = attachments.attached_for_many(ctx.conn, kind, ids)
    return {owner_id: attached_shapes(ctx, arns) for owner_id, arns in found.items()}


def _users(ctx: Context, users: list[UserRecord]) -> list[dict[str, Any]]:
    ids = [u.id for u in users]
    inline, attached = _inline_list(ctx, "user", ids), _attached(ctx, "user", ids)
    details = []
    for user in users:
        detail: dict[str, Any] = {
            "Path": user.path,
            "UserName": user.name,
            "UserId": user.unique_id,
            "Arn": user.arn,
            "CreateDate": user.created_at,
            "UserPolicyList": inline[user.id],
            "GroupList": [group.name for group in groups_of(ctx.conn, user.id)],
            "AttachedManagedPolicies": attached[user.id],
        }
        if user.permissions_boundary:
            detail["PermissionsBoundary"] = boundary_shape(user.permissions_boundary)
        if user.tags:
            detail["Tags"] = tag_list(user.tags)
        details.append(detail)
    return details


def _groups(ctx: Context, groups: list[GroupRecord]) -> list[dict[str, Any]]:
    ids = [g.id for g in groups]
    inline, attached = _inline_list(ctx, "group", ids), _attached(ctx, "group", ids)
    return [
        {
            "Path": group.path,
            "GroupName": group.name,
            "GroupId": group.unique_id,
            "Arn": group.arn,
            "CreateDate": group.created_at,
            "GroupPolicyList": inline[group.id],
            "AttachedManagedPolicies": attached[group.id],
        }
        for group in groups
    ]


def _roles(ctx: Context, roles: list[RoleRecord]) -> list[dict[str, Any]]:
    ids = [r.id for r in roles]
    inline, attached = _inline_list(ctx, "role", ids), _attached(ctx, "role", ids)
    details = []
    for role in roles:
        detail: dict[str, Any] = {
            "Path": role.path,
            "RoleName": role.name,
            "RoleId": role.unique_id,
            "Arn": role.arn,
            "CreateDate": role.created_at,
            "AssumeRolePolicyDocument": documents.encoded(role.trust_policy),
            "InstanceProfileList": [],
            "RolePolicyList": inline[role.id],
            "AttachedManagedPolicies": attached[role.id],
            "RoleLastUsed": _last_used(role),
        }
        if role.permissions_boundary:
            detail["PermissionsBoundary"] = boundary_shape(role.permissions_boundary)
        if role.tags:
            detail["Tags"] = tag_list(role.tags)
        details.append(detail)
    return details


def _last_used(role: RoleRecord) -> dict[str, Any]:
    if role.last_used_at is None:
        return {}
    used: dict[str, Any] = {"LastUsedDate": role.last_used_at}
    if role.last_used_region:
        used["Region"] = role.last_used_region
    return used


def _policies(ctx: Context, policies: list[ManagedPolicy]) -> list[dict[str, Any]]:
    attached = attachments.attachment_counts(ctx.conn, ctx.account)
    boundaries = attachments.boundary_counts(ctx.conn, ctx.account)
    details = []
    for policy in policies:
        detail = policy_shape(policy, attached.get(policy.arn, 0), boundaries.get(policy.arn, 0), tags=False)
        detail["PolicyVersionList"] = [
            version_shape(v.version_id, v.is_default, v.created_at, v.document) for v in _versions(ctx, policy)
        ]
        details.append(detail)
    return details


def _versions(ctx: Context, policy: ManagedPolicy) -> list[policy_repo.VersionRecord]:
    if policy.record is not None:
        return policy_repo.list_versions(ctx.conn, policy.record)
    entry = next(e for e in aws_managed_policies() if e.arn == policy.arn)
    return [policy_repo.VersionRecord(entry.version_id, entry.document, True, entry.updated_at)]


def get_account_authorization_details(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:GetAccountAuthorizationDetails", "*")
    wanted = set(params.get("Filter") or ("User", "Group", "Role", "LocalManagedPolicy", "AWSManagedPolicy"))
    marker, max_items = page_args(params)
    chosen, next_marker = page(_items(ctx, wanted), _key, marker, max_items)

    def section(name: str) -> list[Any]:
        return [record for kind, record in chosen if kind == name]

    output: dict[str, Any] = {
        "UserDetailList": _users(ctx, section("User")),
        "GroupDetailList": _groups(ctx, section("Group")),
        "RoleDetailList": _roles(ctx, section("Role")),
        "Policies": _policies(ctx, section("Policy")),
        "IsTruncated": next_marker is not None,
    }
    if next_marker is not None:
        output["Marker"] = next_marker
    return output
