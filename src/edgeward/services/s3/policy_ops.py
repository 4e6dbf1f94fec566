"""Bucket policies: PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy.

A bucket policy is a resource-based policy: `access.authorize` hands it to the IAM engine with every S3
request on the bucket. As in S3, the owning account's root user may always read, replace or delete the
policy, even one that denies everyone, so a bad policy cannot lock the owner out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from edgeward.policy import PolicyError, PolicyKind, Reason, parse_policy
from edgeward.services.context import Context, Handler
from edgeward.services.s3 import access, errors
from edgeward.services.s3.names import bucket_arn
from edgeward.storage.repos import s3_buckets
from edgeward.storage.repos.s3_buckets import BucketRecord

MAX_POLICY_BYTES = 20 * 1024

# S3's wording for policy refusals, by the policy engine's reason (IAM's wording otherwise).
_MESSAGES = {
    Reason.SYNTAX: "Policies must be valid JSON and the first byte must be '{'",
    Reason.PRINCIPAL_MISSING: "Missing required field Principal",
    Reason.PRINCIPAL_INVALID: "Invalid principal in policy",
    Reason.ACTION_MISSING: "Missing required field Action",
    Reason.ACTION_INVALID: "Policy has invalid action",
    Reason.RESOURCE_MISSING: "Missing required field Resource",
    Reason.RESOURCE_INVALID: "Policy has invalid resource",
    Reason.CONDITION_INVALID: "Policy has an invalid condition key",
}


def _bucket(ctx: Context, params: dict[str, Any], action: str) -> BucketRecord:
    owner_root = ctx.principal.is_root
    return access.require_bucket(ctx, params["Bucket"], action, lock=True, with_policy=not owner_root)


def checked_policy(bucket: str, document: str) -> str:
    """The document if S3 would take it as this bucket's policy; MalformedPolicy otherwise."""
    if len(document.encode()) > MAX_POLICY_BYTES:
        raise errors.malformed_policy("Policies must be less than 20 KB")
    try:
        parse_policy(document, PolicyKind.RESOURCE)
    except PolicyError as exc:
        raise errors.malformed_policy(_MESSAGES.get(exc.reason, exc.message)) from None
    for resource in _resources(json.loads(document)):
        if not _names_bucket(resource, bucket):
            raise errors.malformed_policy("Policy has invalid resource")
    return document


def put_bucket_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    bucket = _bucket(ctx, params, "s3:PutBucketPolicy")
    s3_buckets.set_policy(ctx.conn, bucket.id, checked_policy(bucket.name, params["Policy"]))
    return {}


def get_bucket_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    bucket = access.require_bucket(ctx, params["Bucket"], "s3:GetBucketPolicy", with_policy=not ctx.principal.is_root)
    if not bucket.policy:
        raise errors.no_such_bucket_policy(bucket.name)
    return {"Policy": bucket.policy}


def delete_bucket_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    bucket = _bucket(ctx, params, "s3:DeleteBucketPolicy")
    s3_buckets.set_policy(ctx.conn, bucket.id, None)
    return {}


def _resources(document: Any) -> Iterator[str]:
    statements = document.get("Statement") if isinstance(document, dict) else None
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict):
            continue
        for member in ("Resource", "NotResource"):
            value = statement.get(member)
            yield from [value] if isinstance(value, str) else value or []


def _names_bucket(resource: str, bucket: str) -> bool:
    """A policy on a bucket may only name that bucket and its objects."""
    arn = bucket_arn(bucket)
    return resource == arn or resource.startswith(arn + "/")


OPERATIONS: dict[str, Handler] = {
    "PutBucketPolicy": put_bucket_policy,
    "GetBucketPolicy": get_bucket_policy,
    "DeleteBucketPolicy": delete_bucket_policy,
}
