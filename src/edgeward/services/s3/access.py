"""Finding a bucket and authorizing an S3 action on it: the caller's IAM policies together with the bucket
policy (a resource-based policy), evaluated by the IAM engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgeward.core.errors import ServiceError
from edgeward.policy import Policy, PolicyKind, cached_policy
from edgeward.services.authorization import authorize_with
from edgeward.services.context import Context
from edgeward.services.s3 import errors
from edgeward.services.s3.names import bucket_arn
from edgeward.storage.repos import s3_buckets
from edgeward.storage.repos.s3_buckets import BucketRecord


def bucket_policy(bucket: BucketRecord | None) -> Policy | None:
    if bucket is None or not bucket.policy:
        return None
    return cached_policy(bucket.policy, PolicyKind.RESOURCE)


def authorize(
    ctx: Context,
    action: str,
    resource: str,
    bucket: BucketRecord | None,
    condition: Mapping[str, Any] | None = None,
    *,
    with_policy: bool = True,
) -> None:
    """Allow `action` on `resource` or raise AccessDenied; the bucket's policy takes part when it has one."""
    authorize_with(
        ctx,
        action,
        resource,
        condition=condition,
        resource_policy=bucket_policy(bucket) if with_policy else None,
        resource_account=bucket.account if bucket is not None else None,
    )


def require_bucket(
    ctx: Context,
    name: str,
    action: str,
    resource: str | None = None,
    condition: Mapping[str, Any] | None = None,
    *,
    lock: bool = False,
    with_policy: bool = True,
) -> BucketRecord:
    """The bucket `name` once `action` on `resource` (default: the bucket) is allowed; NoSuchBucket when it
    does not exist (checked after authorization, so a caller without the permission learns nothing)."""
    bucket = s3_buckets.get_bucket(ctx.conn, name, lock=lock)
    authorize(ctx, action, resource or bucket_arn(name), bucket, condition, with_policy=with_policy)
    if bucket is None:
        raise errors.no_such_bucket(name)
    return bucket


def may(ctx: Context, action: str, resource: str, bucket: BucketRecord) -> bool:
    """Whether `action` is allowed, without failing the request (S3 answers a missing key with NoSuchKey
    only to callers allowed s3:ListBucket, AccessDenied to others)."""
    try:
        authorize(ctx, action, resource, bucket)
    except ServiceError as exc:
        if exc.status == 403:
            return False
        raise
    return True


def access_denied() -> ServiceError:
    return ServiceError("AccessDenied", "Access Denied", 403)
