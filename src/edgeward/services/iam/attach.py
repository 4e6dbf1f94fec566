"""Managed policy attachments: Attach/Detach User/Group/Role Policy, ListAttached User/Group/Role Policies,
ListEntitiesForPolicy.

Attaching happens under the row locks of the user/group/role (its delete checks attachments under the same
lock) and of a customer managed policy (DeletePolicy counts attachments under it), so neither delete can
slip between the check and the insert.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from edgeward.services.context import Context, Handler
from edgeward.services.iam import errors, owners
from edgeward.services.iam.listing import page
from edgeward.services.iam.managed import aws_managed_policy
from edgeward.services.iam.owners import Owner
from edgeward.services.iam.paging import page_args, page_output
from edgeward.services.iam.policies import require_policy
from edgeward.services.iam.policy_refs import check_arn, find, not_attachable, not_found
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import attachments
from edgeward.storage.repos import policies as policy_repo

MAX_ATTACHED = 10  # AWS's default quota of managed policies per user, group or role
_NAME_PARAM = {"user": "UserName", "group": "GroupName", "role": "RoleName"}
_QUOTA = {"user": "PoliciesPerUser", "group": "PoliciesPerGroup", "role": "PoliciesPerRole"}
_ENTITY_FILTER = {"User": "user", "Group": "group", "Role": "role"}


def _title(kind: str) -> str:
    return kind.capitalize()


def _attach(ctx: Context, params: dict[str, Any], kind: str) -> dict[str, Any]:
    policy_arn = params["PolicyArn"]
    action = f"iam:Attach{_title(kind)}Policy"
    owner = owners.require(ctx, kind, params[_NAME_PARAM[kind]], action, {"iam:PolicyARN": policy_arn}, lock=True)
    check_arn(policy_arn)
    if find(ctx.conn, ctx.account, policy_arn, lock=True) is None:
        raise not_attachable(policy_arn)
    current = attachments.attached_policy_arns(ctx.conn, kind, owner.id)
    if policy_arn in current:
        return {}  # attaching again changes nothing, as in IAM
    if len(current) >= MAX_ATTACHED:
        raise errors.limit_exceeded(f"Cannot exceed quota for {_QUOTA[kind]}: {MAX_ATTACHED}")
    with contextlib.suppress(storage_errors.AlreadyExists):  # a concurrent attach of it: same outcome
        attachments.attach_policy(ctx.conn, ctx.account, kind, owner.id, policy_arn)
    return {}


def _detach(ctx: Context, params: dict[str, Any], kind: str) -> dict[str, Any]:
    policy_arn = params["PolicyArn"]
    action = f"iam:Detach{_title(kind)}Policy"
    owner = owners.require(ctx, kind, params[_NAME_PARAM[kind]], action, {"iam:PolicyARN": policy_arn}, lock=True)
    check_arn(policy_arn)
    if not attachments.detach_policy(ctx.conn, kind, owner.id, policy_arn):
        raise not_found(policy_arn)
    return {}


def _list_attached(ctx: Context, params: dict[str, Any], kind: str) -> dict[str, Any]:
    action = f"iam:ListAttached{_title(kind)}Policies"
    owner = owners.require(ctx, kind, params[_NAME_PARAM[kind]], action)
    prefix = params.get("PathPrefix") or "/"
    named: list[tuple[str, str]] = []
    for policy_arn in attachments.attached_policy_arns(ctx.conn, kind, owner.id):
        name, path = _name_and_path(ctx, policy_arn)
        if path.startswith(prefix):
            named.append((name, policy_arn))
    named.sort(key=_pair_key)
    marker, max_items = page_args(params)
    items, next_marker = page(named, _pair_key, marker, max_items)
    shapes = [{"PolicyName": name, "PolicyArn": arn} for name, arn in items]
    return page_output("AttachedPolicies", shapes, next_marker)


def _pair_key(pair: tuple[str, str]) -> str:
    return f"{pair[0].lower()}|{pair[1]}"


def _name_and_path(ctx: Context, policy_arn: str) -> tuple[str, str]:
    entry = aws_managed_policy(policy_arn)
    if entry is not None:
        return entry.name, entry.path
    record = policy_repo.get_policy(ctx.conn, ctx.account, policy_arn)
    if record is not None:
        return record.name, record.path
    resource = policy_arn.split(":", 5)[-1]
    path, _, name = resource[len("policy") :].rpartition("/")
    return name, f"{path}/"


def attached_shapes(ctx: Context, policy_arns: list[str]) -> list[dict[str, str]]:
    """`AttachedPolicies`-style entries (name and ARN) for some attached policy ARNs."""
    return [{"PolicyName": _name_and_path(ctx, arn)[0], "PolicyArn": arn} for arn in policy_arns]


def list_entities_for_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    policy = require_policy(ctx, "iam:ListEntitiesForPolicy", params["PolicyArn"])
    usage = params.get("PolicyUsageFilter")
    holders: list[tuple[str, int]] = []
    if usage in (None, "PermissionsPolicy"):
        holders.extend(attachments.entities_for_policy(ctx.conn, ctx.account, policy.arn))
    if usage in (None, "PermissionsBoundary"):
        holders.extend(attachments.boundary_holders(ctx.conn, ctx.account, policy.arn))
    wanted = _ENTITY_FILTER.get(params["EntityFilter"]) if params.get("EntityFilter") else None
    prefix = params.get("PathPrefix") or "/"
    found: list[Owner] = []
    for kind, owner_id in dict.fromkeys(holders):
        owner = owners.by_id(ctx.conn, kind, owner_id)
        if owner is not None and (wanted is None or kind == wanted) and owner.path.startswith(prefix):
            found.append(owner)
    if params.get("EntityFilter") and wanted is None:
        found = []  # LocalManagedPolicy / AWSManagedPolicy: no policy is attached to a policy
    order = {"group": 0, "user": 1, "role": 2}
    found.sort(key=lambda o: f"{order[o.kind]}|{o.name.lower()}")
    marker, max_items = page_args(params)
    items, next_marker = page(found, lambda o: f"{order[o.kind]}|{o.name.lower()}", marker, max_items)
    output: dict[str, Any] = {
        "PolicyGroups": [{"GroupName": o.name, "GroupId": o.unique_id} for o in items if o.kind == "group"],
        "PolicyUsers": [{"UserName": o.name, "UserId": o.unique_id} for o in items if o.kind == "user"],
        "PolicyRoles": [{"RoleName": o.name, "RoleId": o.unique_id} for o in items if o.kind == "role"],
        "IsTruncated": next_marker is not None,
    }
    if next_marker is not None:
        output["Marker"] = next_marker
    return output


def _for(kind: str, operation: Callable[[Context, dict[str, Any], str], dict[str, Any]]) -> Handler:
    def handler(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        return operation(ctx, params, kind)

    handler.__name__ = f"{operation.__name__.strip('_')}_{kind}"
    return handler


OPERATIONS: dict[str, Handler] = {
    "AttachUserPolicy": _for("user", _attach),
    "AttachGroupPolicy": _for("group", _attach),
    "AttachRolePolicy": _for("role", _attach),
    "DetachUserPolicy": _for("user", _detach),
    "DetachGroupPolicy": _for("group", _detach),
    "DetachRolePolicy": _for("role", _detach),
    "ListAttachedUserPolicies": _for("user", _list_attached),
    "ListAttachedGroupPolicies": _for("group", _list_attached),
    "ListAttachedRolePolicies": _for("role", _list_attached),
    "ListEntitiesForPolicy": list_entities_for_policy,
}
