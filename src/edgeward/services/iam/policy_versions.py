"""Managed policy versions: CreatePolicyVersion, GetPolicyVersion, ListPolicyVersions, DeletePolicyVersion,
SetDefaultPolicyVersion. At most five versions per policy; the default one is in effect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edgeward.core.errors import ServiceError
from edgeward.services.context import Context
from edgeward.services.iam import documents, errors
from edgeward.services.iam.listing import page
from edgeward.services.iam.managed import aws_managed_policy
from edgeward.services.iam.paging import page_args, page_output
from edgeward.services.iam.policies import require_own_policy, require_policy
from edgeward.services.iam.policy_refs import ManagedPolicy
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import policies as policy_repo
from edgeward.storage.repos.policies import PolicyRecord, VersionRecord

VERSION_LIMIT_MESSAGE = (
    "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version."
)


def version_shape(version_id: str, is_default: bool, created_at: datetime, document: str | None) -> dict[str, Any]:
    shape: dict[str, Any] = {"VersionId": version_id, "IsDefaultVersion": is_default, "CreateDate": created_at}
    if document is not None:
        shape["Document"] = documents.encoded(document)
    return shape


def no_such_version(arn: str, version_id: str) -> ServiceError:
    return errors.no_such_entity(f"Policy {arn} version {version_id} does not exist or is not attachable.")


def _versions(ctx: Context, policy: ManagedPolicy) -> list[VersionRecord]:
    """All versions, newest first; an AWS managed policy has just its default one here."""
    if policy.record is not None:
        return policy_repo.list_versions(ctx.conn, policy.record)
    entry = aws_managed_policy(policy.arn)
    assert entry is not None
    return [VersionRecord(entry.version_id, entry.document, True, entry.updated_at)]


def _record(policy: ManagedPolicy) -> PolicyRecord:
    assert policy.record is not None  # require_own_policy refused AWS managed policies
    return policy.record


def create_policy_version(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    policy = require_own_policy(ctx, "iam:CreatePolicyVersion", params["PolicyArn"])
    document = params["PolicyDocument"]
    documents.validate(document)
    documents.check_managed_size(document)
    try:
        version = policy_repo.add_version(
            ctx.conn, _record(policy), document, set_default=bool(params.get("SetAsDefault"))
        )
    except storage_errors.QuotaExceeded:
        raise errors.limit_exceeded(VERSION_LIMIT_MESSAGE) from None
    return {"PolicyVersion": version_shape(version.version_id, version.is_default, version.created_at, None)}


def get_policy_version(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    policy = require_policy(ctx, "iam:GetPolicyVersion", params["PolicyArn"])
    version_id = params["VersionId"]
    found = next((v for v in _versions(ctx, policy) if v.version_id == version_id), None)
    if found is None:
        raise no_such_version(policy.arn, version_id)
    return {"PolicyVersion": version_shape(found.version_id, found.is_default, found.created_at, found.document)}


def list_policy_versions(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    policy = require_policy(ctx, "iam:ListPolicyVersions", params["PolicyArn"])
    marker, max_items = page_args(params)
    found = _versions(ctx, policy)
    # Newest first; the marker counts down from a large number so that it rises along the list.
    items, next_marker = page(
        found, lambda v: f"{10**9 - policy_repo.version_number(v.version_id):010d}", marker, max_items
    )
    return page_output(
        "Versions", [version_shape(v.version_id, v.is_default, v.created_at, None) for v in items], next_marker
    )


def delete_policy_version(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    policy = require_own_policy(ctx, "iam:DeletePolicyVersion", params["PolicyArn"])
    version_id = params["VersionId"]
    record = _record(policy)
    if version_id == record.default_version_id:
        raise errors.delete_conflict("Cannot delete the default version of a policy.")
    if not policy_repo.delete_version(ctx.conn, record, version_id):
        raise no_such_version(policy.arn, version_id)
    return {}


def set_default_policy_version(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    policy = require_own_policy(ctx, "iam:SetDefaultPolicyVersion", params["PolicyArn"])
    version_id = params["VersionId"]
    if not policy_repo.set_default_version(ctx.conn, _record(policy), version_id):
        raise no_such_version(policy.arn, version_id)
    return {}
