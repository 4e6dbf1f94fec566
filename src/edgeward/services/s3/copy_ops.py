"""CopyObject: a new object from an existing one's bytes, with its metadata copied or replaced.

The bytes are copied into a new blob (each blob belongs to exactly one object, so deleting either object
later frees only its own). The caller needs s3:GetObject on the source and s3:PutObject on the target.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from edgeward.core import clock
from edgeward.services.context import Context, Handler
from edgeward.services.s3 import access, bodies, conditions, content, errors
from edgeward.services.s3.names import check_key, object_arn
from edgeward.services.s3.objects_ops import etag_of, existing_object
from edgeward.storage.repos import s3_objects
from edgeward.storage.repos.s3_objects import ObjectRecord, Segment

_SELF_COPY = (
    "This copy request is illegal because it is trying to copy an object to itself without changing the object's"
    " metadata, storage class, website redirect location or encryption attributes."
)


def copy_source(text: str) -> tuple[str, str]:
    """(bucket, key) from `x-amz-copy-source`: `bucket/key` or `/bucket/key`, URL-encoded, maybe `?versionId=`."""
    path = unquote(text.partition("?")[0]).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise errors.invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey", "x-amz-copy-source", text
        )
    return bucket, key


def copy_object(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name, key = params["Bucket"], params["Key"]
    check_key(key)
    source_bucket_name, source_key = copy_source(params["CopySource"])
    target = access.require_bucket(ctx, name, "s3:PutObject", object_arn(name, key))
    source_bucket = access.require_bucket(
        ctx, source_bucket_name, "s3:GetObject", object_arn(source_bucket_name, source_key)
    )
    source = existing_object(ctx, source_bucket, source_key)
    conditions.check(params, source, prefix="CopySource")
    record = _target_record(params, source, key)
    if (source_bucket.id, source_key) == (target.id, key) and not _changes_something(params, source):
        raise errors.invalid_request(_SELF_COPY)
    segments = s3_objects.segments(ctx.conn, source.id)
    blobs = bodies.store(ctx)
    blob_id, size, md5_hex = bodies.copy_into(blobs, bodies.SegmentStream(blobs, segments, 0, source.size))
    bodies.written(ctx, blob_id)
    with bodies.released_on_error(ctx, blob_id):
        record = replace(record, size=size, etag=etag_of(md5_hex))
        freed = s3_objects.put_object(ctx.conn, target.id, record, [Segment(blob_id, size)])
    bodies.free_after_commit(ctx, freed)
    result: dict[str, Any] = {"ETag": record.etag, "LastModified": record.last_modified}
    for algorithm, value in record.checksums.items():
        result[f"Checksum{algorithm}"] = value
    if record.checksum_type:
        result["ChecksumType"] = record.checksum_type
    return {"CopyObjectResult": result}


def _changes_something(params: dict[str, Any], source: ObjectRecord) -> bool:
    return (
        params.get("MetadataDirective") == "REPLACE"
        or content.storage_class_from(params) != source.storage_class
        or bool(params.get("WebsiteRedirectLocation"))
        or bool(params.get("ServerSideEncryption"))
    )


def _target_record(params: dict[str, Any], source: ObjectRecord, key: str) -> ObjectRecord:
    replacing = params.get("MetadataDirective") == "REPLACE"
    # A multipart source becomes a single-part copy: its composite checksum no longer describes it.
    keep_checksum = source.checksum_type == "FULL_OBJECT"
    return ObjectRecord(
        key=key,
        size=source.size,
        etag=source.etag,
        last_modified=clock.now(),
        storage_class=content.storage_class_from(params),
        headers=content.headers_from(params) if replacing else dict(source.headers),
        metadata=content.metadata_from(params) if replacing else dict(source.metadata),
        checksums=dict(source.checksums) if keep_checksum else {},
        checksum_type=source.checksum_type if keep_checksum else None,
    )


OPERATIONS: dict[str, Handler] = {"CopyObject": copy_object}
