"""S3 buckets: CreateBucket, DeleteBucket, HeadBucket, ListBuckets, GetBucketLocation.

Bucket names are one namespace for the whole installation, like S3's global one. Re-creating a bucket you
own answers 200 in us-east-1 and BucketAlreadyOwnedByYou elsewhere, as S3 does for legacy compatibility.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from edgeward.services.context import Context, Handler
from edgeward.services.s3 import access, bodies, errors
from edgeward.services.s3.names import bucket_arn, check_bucket_name, owner
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import s3_buckets

US_EAST_1 = "us-east-1"
# LocationConstraint values that name a region by another name (S3's legacy spellings).
_LEGACY_CONSTRAINTS = {"EU": "eu-west-1"}
MAX_BUCKETS_PAGE = 10000


def _region_for(ctx: Context, params: dict[str, Any]) -> str:
    """The bucket's region: its LocationConstraint, which must be the region the request was sent to."""
    configuration = params.get("CreateBucketConfiguration") or {}
    constraint = configuration.get("LocationConstraint") or None
    if constraint is None:
        if ctx.region != US_EAST_1:
            raise errors.illegal_location_constraint(None)
        return US_EAST_1
    region = _LEGACY_CONSTRAINTS.get(constraint, constraint)
    if region != ctx.region:
        raise errors.illegal_location_constraint(constraint)
    return str(region)


def create_bucket(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["Bucket"]
    check_bucket_name(name)
    region = _region_for(ctx, params)
    access.authorize(ctx, "s3:CreateBucket", bucket_arn(name), None, {"s3:LocationConstraint": region})
    try:
        s3_buckets.create_bucket(ctx.conn, ctx.account, name, region)
    except storage_errors.AlreadyExists:
        existing = s3_buckets.get_bucket(ctx.conn, name)
        if existing is None or existing.account != ctx.account:
            raise errors.bucket_already_exists(name) from None
        if not (existing.region == US_EAST_1 and ctx.region == US_EAST_1):
            raise errors.bucket_already_owned_by_you(name) from None
    return {"Location": f"/{name}", "BucketArn": bucket_arn(name)}


def delete_bucket(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["Bucket"]
    bucket = access.require_bucket(ctx, name, "s3:DeleteBucket", lock=True)
    try:
        freed = s3_buckets.delete_bucket(ctx.conn, bucket.id)
    except storage_errors.InUse:
        raise errors.bucket_not_empty(name) from None
    bodies.free_after_commit(ctx, freed)
    return {}


def head_bucket(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    bucket = access.require_bucket(ctx, params["Bucket"], "s3:ListBucket")
    return {"BucketRegion": bucket.region, "AccessPointAlias": False}


def get_bucket_location(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    bucket = access.require_bucket(ctx, params["Bucket"], "s3:GetBucketLocation")
    # us-east-1 is the empty constraint, as S3 reports it.
    return {"LocationConstraint": None if bucket.region == US_EAST_1 else bucket.region}


def list_buckets(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    access.authorize(ctx, "s3:ListAllMyBuckets", "arn:aws:s3:::*", None)
    prefix = params.get("Prefix") or ""
    limit = params.get("MaxBuckets")
    after = _token_value(params.get("ContinuationToken"))
    page = s3_buckets.list_buckets(
        ctx.conn, ctx.account, prefix=prefix, after=after, limit=None if limit is None else limit + 1
    )
    region = params.get("BucketRegion")
    if region:
        page = [bucket for bucket in page if bucket.region == region]
    output: dict[str, Any] = {"Owner": owner(ctx.account)}
    if limit is not None and len(page) > limit:
        page = page[:limit]
        output["ContinuationToken"] = _token(page[-1].name)
    output["Buckets"] = [
        {"Name": bucket.name, "CreationDate": bucket.created_at, "BucketRegion": bucket.region} for bucket in page
    ]
    if prefix:
        output["Prefix"] = prefix
    return output


def _token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode("ascii")


def _token_value(token: str | None) -> str:
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise errors.invalid_argument(
            "The continuation token provided is incorrect", "continuation-token", token
        ) from None


OPERATIONS: dict[str, Handler] = {
    "CreateBucket": create_bucket,
    "DeleteBucket": delete_bucket,
    "HeadBucket": head_bucket,
    "GetBucketLocation": get_bucket_location,
    "ListBuckets": list_buckets,
}
