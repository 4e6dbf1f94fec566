"""Managed policies: CreatePolicy, GetPolicy, ListPolicies, DeletePolicy, TagPolicy, UntagPolicy,
ListPolicyTags.

AWS managed policies (`arn:aws:iam::aws:policy/...`) are listed, read and attached like customer managed
ones, but they belong to AWS: changing one is refused as IAM refuses a change to another account's policy.
"""

from __future__ import annotations

from typing import Any

from edgeward.core.errors import ServiceError
from edgeward.services.context import Context
from edgeward.services.errors import access_denied
from edgeward.services.iam import documents, errors
from edgeward.services.iam.listing import page
from edgeward.services.iam.managed import AWS_ACCOUNT, aws_managed_policies
from edgeward.services.iam.paging import page_args, page_output
from edgeward.services.iam.policy_refs import ManagedPolicy, check_arn, find, not_found, of_aws, of_record
from edgeward.services.iam.tags import merged, request_tag_keys, tag_list, tags_from_params, without
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import attachments
from edgeward.storage.repos import policies as policy_repo


def policy_shape(
    policy: ManagedPolicy, attached: int, boundaries: int, *, description: bool = True, tags: bool = True
) -> dict[str, Any]:
    """IAM's `Policy`. ListPolicies and CreatePolicy leave out Description; ListPolicies leaves out Tags."""
    shape: dict[str, Any] = {
        "PolicyName": policy.name,
        "PolicyId": policy.policy_id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": policy.default_version_id,
        "AttachmentCount": attached,
        "PermissionsBoundaryUsageCount": boundaries,
        "IsAttachable": True,
        "CreateDate": policy.created_at,
        "UpdateDate": policy.updated_at,
    }
    if description and policy.description:
        shape["Description"] = policy.description
    if tags and policy.tags:
        shape["Tags"] = tag_list(policy.tags)
    return shape


def require_policy(ctx: Context, action: str, arn: str, *, lock: bool = False) -> ManagedPolicy:
    """Check the ARN's form, authorize `action` on it, then find the policy (NoSuchEntity if there is none)."""
    check_arn(arn)
    ctx.authorize(action, arn)
    found = find(ctx.conn, ctx.account, arn, lock=lock)
    if found is None:
        raise not_found(arn)
    return found


def require_own_policy(ctx: Context, action: str, arn: str) -> ManagedPolicy:
    """As `require_policy`, for changes: an AWS managed policy belongs to another account and cannot change."""
    found = require_policy(ctx, action, arn, lock=True)
    if found.aws_managed:
        raise refuse_aws_managed(ctx, action, arn)
    return found


def refuse_aws_managed(ctx: Context, action: str, arn: str) -> ServiceError:
    """IAM's answer to changing a policy of the `aws` account: evaluated as a request on another account's
    resource, which no resource-based policy opens (`... because no resource-based policy allows ...`). The
    decision goes to the decision log like any other."""
    from edgeward.services.authorization import authorize_with  # import cycle: the authorizer loads IAM data

    authorize_with(ctx, action, arn, resource_account=AWS_ACCOUNT)
    return access_denied(ctx.service, f"{action} on {arn}: AWS managed policies cannot be changed.")  # unreachable


def create_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name, path = params["PolicyName"], params.get("Path") or "/"
    arn = policy_repo.policy_arn(ctx.account, path, name)
    tags = tags_from_params(params.get("Tags"))
    ctx.authorize("iam:CreatePolicy", arn, request_tag_keys(tags) if tags else None)
    if tags:
        ctx.authorize("iam:TagPolicy", arn, request_tag_keys(tags))
    document = params["PolicyDocument"]
    documents.validate(document)
    documents.check_managed_size(document)
    try:
        record = policy_repo.create_policy(
            ctx.conn, ctx.account, name, path, document, description=params.get("Description"), tags=tags
        )
    except storage_errors.AlreadyExists:
        raise errors.already_exists(
            f"A policy called {name} already exists. Duplicate names are not allowed."
        ) from None
    return {"Policy": policy_shape(of_record(record), 0, 0, description=False)}


def get_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    policy = require_policy(ctx, "iam:GetPolicy", params["PolicyArn"])
    attached = attachments.attachment_count(ctx.conn, ctx.account, policy.arn)
    boundaries = attachments.boundary_count(ctx.conn, ctx.account, policy.arn)
    return {"Policy": policy_shape(policy, attached, boundaries)}


def list_policies(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:ListPolicies", f"arn:aws:iam::{ctx.account}:policy/")
    scope = params.get("Scope") or "All"
    prefix = params.get("PathPrefix") or "/"
    attached = attachments.attachment_counts(ctx.conn, ctx.account)
    boundaries = attachments.boundary_counts(ctx.conn, ctx.account)
    candidates: list[ManagedPolicy] = []
    if scope in ("All", "AWS"):
        candidates.extend(of_aws(entry) for entry in aws_managed_policies())
    if scope in ("All", "Local"):
        candidates.extend(of_record(record) for record in policy_repo.list_policies(ctx.conn, ctx.account))
    usage = params.get("PolicyUsageFilter")
    chosen = [
        p
        for p in candidates
        if p.path.startswith(prefix)
        and (not params.get("OnlyAttached") or attached.get(p.arn, 0) > 0)
        and (usage != "PermissionsPolicy" or attached.get(p.arn, 0) > 0)
        and (usage != "PermissionsBoundary" or boundaries.get(p.arn, 0) > 0)
    ]
    chosen.sort(key=_listing_key)
    marker, max_items = page_args(params)
    items, next_marker = page(chosen, _listing_key, marker, max_items)
    shapes = [
        policy_shape(p, attached.get(p.arn, 0), boundaries.get(p.arn, 0), description=False, tags=False) for p in items
    ]
    return page_output("Policies", shapes, next_marker)


def _listing_key(policy: ManagedPolicy) -> str:
    return f"{policy.name.lower()}|{policy.arn}"


def delete_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    policy = require_own_policy(ctx, "iam:DeletePolicy", params["PolicyArn"])
    record = policy.record
    assert record is not None
    in_use = attachments.attachment_count(ctx.conn, ctx.account, policy.arn)
    in_use += attachments.boundary_count(ctx.conn, ctx.account, policy.arn)
    if in_use:
        raise errors.delete_conflict("Cannot delete a policy attached to entities.")
    if len(policy_repo.list_versions(ctx.conn, record)) > 1:
        raise errors.delete_conflict(
            "This policy has more than one version. Before you delete a policy, you must delete the policy's "
            "versions. The default version is deleted with the policy."
        )
    try:
        policy_repo.delete_policy(ctx.conn, record)
    except storage_errors.NotFound:
        raise not_found(policy.arn) from None
    return {}


def tag_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    new = tags_from_params(params["Tags"])
    arn = params["PolicyArn"]
    check_arn(arn)
    ctx.authorize("iam:TagPolicy", arn, request_tag_keys(new))
    policy = find(ctx.conn, ctx.account, arn, lock=True)
    if policy is None:
        raise not_found(arn)
    if policy.record is None:
        raise refuse_aws_managed(ctx, "iam:TagPolicy", arn)
    policy_repo.set_tags(ctx.conn, policy.record, merged(policy.tags, new, "Policy"))
    return {}


def untag_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    keys = list(params["TagKeys"])
    arn = params["PolicyArn"]
    check_arn(arn)
    ctx.authorize("iam:UntagPolicy", arn, {"aws:TagKeys": keys})
    policy = find(ctx.conn, ctx.account, arn, lock=True)
    if policy is None:
        raise not_found(arn)
    if policy.record is None:
        raise refuse_aws_managed(ctx, "iam:UntagPolicy", arn)
    policy_repo.set_tags(ctx.conn, policy.record, without(policy.tags, keys))
    return {}


def list_policy_tags(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    policy = require_policy(ctx, "iam:ListPolicyTags", params["PolicyArn"])
    tags = sorted(tag_list(policy.tags), key=lambda tag: tag["Key"])
    marker, max_items = page_args(params)
    items, next_marker = page(tags, lambda tag: tag["Key"], marker, max_items)
    return page_output("Tags", items, next_marker)
