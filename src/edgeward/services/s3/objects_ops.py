"""S3 objects: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects.

Bytes live in the blob store, metadata in the database. A write records its staged blob and frees the blobs
of the object it replaced only after its transaction commits; a read returns a stream over the object's
segments, cut to the requested range.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgeward.core import clock
from edgeward.core.errors import ServiceError
from edgeward.services.context import Context, Handler
from edgeward.services.s3 import access, bodies, checksums, conditions, content, errors
from edgeward.services.s3.names import bucket_arn, check_key, object_arn
from edgeward.storage.repos import s3_buckets, s3_objects
from edgeward.storage.repos.s3_buckets import BucketRecord
from edgeward.storage.repos.s3_objects import ObjectRecord, Segment

MAX_DELETE_KEYS = 1000


def etag_of(md5_hex: str) -> str:
    return f'"{md5_hex}"'


def write_check(params: dict[str, Any]) -> Callable[[ObjectRecord | None], None] | None:
    """PutObject's conditional write (If-None-Match: * / If-Match), run under the key's row lock."""
    if_none_match, if_match = params.get("IfNoneMatch"), params.get("IfMatch")
    if if_none_match is None and if_match is None:
        return None

    def check(existing: ObjectRecord | None) -> None:
        if if_none_match is not None and existing is not None:
            raise errors.precondition_failed("If-None-Match")
        if if_match is not None:
            if existing is None:
                raise errors.no_such_key(str(params["Key"]))
            conditions.check({"IfMatch": if_match}, existing)

    return check


def put_object(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    key = params["Key"]
    check_key(key)
    bucket = access.require_bucket(ctx, params["Bucket"], "s3:PutObject", object_arn(params["Bucket"], key))
    headers, metadata = content.headers_from(params), content.metadata_from(params)
    body = bodies.stage(ctx, params)
    with bodies.released_on_error(ctx, body.blob_id):
        checksum = checksums.chosen(params, body.checksums)
        record = ObjectRecord(
            key=key,
            size=body.size,
            etag=etag_of(body.md5_hex),
            last_modified=clock.now(),
            storage_class=content.storage_class_from(params),
            headers=headers,
            metadata=metadata,
            checksums=dict([checksum]) if checksum else {},
            checksum_type="FULL_OBJECT" if checksum else None,
        )
        freed = s3_objects.put_object(
            ctx.conn, bucket.id, record, [Segment(body.blob_id, body.size)], check=write_check(params)
        )
    bodies.free_after_commit(ctx, freed)
    output: dict[str, Any] = {"ETag": record.etag}
    if checksum:
        output.update(checksums.output(*checksum))
        output["ChecksumType"] = "FULL_OBJECT"
    return output


def existing_object(ctx: Context, bucket: BucketRecord, key: str) -> ObjectRecord:
    obj = s3_objects.get_object(ctx.conn, bucket.id, key)
    if obj is not None:
        return obj
    # S3 tells only callers who may list the bucket that a key does not exist.
    if not access.may(ctx, "s3:ListBucket", bucket_arn(bucket.name), bucket):
        raise access.access_denied()
    raise errors.no_such_key(key)


def _readable(ctx: Context, params: dict[str, Any]) -> ObjectRecord:
    key = params["Key"]
    bucket = access.require_bucket(ctx, params["Bucket"], "s3:GetObject", object_arn(params["Bucket"], key))
    obj = existing_object(ctx, bucket, key)
    conditions.check(params, obj)
    return obj


def get_object(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    obj = _readable(ctx, params)
    span = conditions.byte_range(params.get("Range"), obj.size)
    start, end = span or (0, obj.size)
    output = content.described(obj, params)
    output["ContentLength"] = end - start
    if span is not None:
        output["ContentRange"] = f"bytes {start}-{end - 1}/{obj.size}"
    elif params.get("ChecksumMode") == "ENABLED":
        output.update(content.checksum_output(obj))
    segments = s3_objects.segments(ctx.conn, obj.id)
    output["Body"] = bodies.SegmentStream(bodies.store(ctx), segments, start, end)
    return output


def head_object(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    obj = _readable(ctx, params)
    output = content.described(obj, params)
    if params.get("ChecksumMode") == "ENABLED":
        output.update(content.checksum_output(obj))
    return output


def delete_object(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    key = params["Key"]
    bucket = access.require_bucket(ctx, params["Bucket"], "s3:DeleteObject", object_arn(params["Bucket"], key))
    bodies.free_after_commit(ctx, s3_objects.delete_object(ctx.conn, bucket.id, key) or [])
    return {}


def delete_objects(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["Bucket"]
    request = params.get("Delete") or {}
    keys = [str(item.get("Key", "")) for item in request.get("Objects") or []]
    if not keys or len(keys) > MAX_DELETE_KEYS:
        raise errors.malformed_xml()
    bucket = s3_buckets.get_bucket(ctx.conn, name)
    if bucket is None:
        access.require_bucket(ctx, name, "s3:DeleteObject", object_arn(name, keys[0]))  # raises
        raise errors.no_such_bucket(name)
    deleted: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for key in keys:
        try:
            access.authorize(ctx, "s3:DeleteObject", object_arn(name, key), bucket)
            bodies.free_after_commit(ctx, s3_objects.delete_object(ctx.conn, bucket.id, key) or [])
        except ServiceError as exc:
            if exc.status >= 500:
                raise
            failed.append({"Key": key, "Code": exc.code, "Message": exc.message})
            continue
        deleted.append({"Key": key})
    # Each key was authorized on its own; denials are answered per key, inside a 200 (as S3 does).
    ctx.authorized = True
    output: dict[str, Any] = {"Errors": failed} if failed else {}
    if not request.get("Quiet") and deleted:
        output["Deleted"] = deleted
    return output


OPERATIONS: dict[str, Handler] = {
    "PutObject": put_object,
    "GetObject": get_object,
    "HeadObject": head_object,
    "DeleteObject": delete_object,
    "DeleteObjects": delete_objects,
}
