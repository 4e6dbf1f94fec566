"""S3 multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload,
ListParts, ListMultipartUploads.

Parts arrive in any order and in parallel; each is a blob of its own. Completing an upload makes the chosen
parts the object's segments (no bytes are copied) and frees the parts left out. The object's ETag is S3's:
the MD5 of the parts' binary MD5s, then `-<number of parts>`; its checksum, when the upload named an
algorithm, is the COMPOSITE one (the checksum of the parts' checksums, `-<parts>`).
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
from typing import Any
from urllib.parse import quote

from edgeward.core import clock
from edgeward.services.context import Context, Handler
from edgeward.services.s3 import access, bodies, checksums, content, errors
from edgeward.services.s3.names import bucket_arn, check_key, object_arn, owner
from edgeward.services.s3.objects_ops import etag_of
from edgeward.storage.repos import s3_objects, s3_uploads
from edgeward.storage.repos.s3_buckets import BucketRecord
from edgeward.storage.repos.s3_objects import ObjectRecord, Segment
from edgeward.storage.repos.s3_uploads import PartRecord, UploadRecord

MAX_PART_NUMBER = 10000
MAX_LISTED = 1000


def new_upload_id() -> str:
    """Random, and starting with the creation time, so that ids in key order list uploads by initiation."""
    return f"{time.time_ns():016x}{secrets.token_hex(24)}"


def _bucket(ctx: Context, params: dict[str, Any], action: str) -> BucketRecord:
    resource = object_arn(params["Bucket"], params["Key"])
    return access.require_bucket(ctx, params["Bucket"], action, resource)


def _upload(ctx: Context, bucket: BucketRecord, params: dict[str, Any], lock: str | None = None) -> UploadRecord:
    upload = s3_uploads.get_upload(ctx.conn, params["UploadId"], lock=lock)
    if upload is None or upload.bucket_id != bucket.id or upload.key != params["Key"]:
        raise errors.no_such_upload(params["UploadId"])
    return upload


def create_multipart_upload(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    check_key(params["Key"])
    bucket = _bucket(ctx, params, "s3:PutObject")
    algorithm = str(params.get("ChecksumAlgorithm") or "").upper() or None
    upload = UploadRecord(
        upload_id=new_upload_id(),
        bucket_id=bucket.id,
        key=params["Key"],
        initiated_at=clock.now(),
        initiator_arn=ctx.principal.arn,
        initiator_id=ctx.principal.user_id,
        storage_class=content.storage_class_from(params),
        headers=content.headers_from(params),
        metadata=content.metadata_from(params),
        checksum_algorithm=algorithm,
        checksum_type=(params.get("ChecksumType") or "COMPOSITE") if algorithm else None,
    )
    s3_uploads.create_upload(ctx.conn, upload)
    output: dict[str, Any] = {"Bucket": bucket.name, "Key": upload.key, "UploadId": upload.upload_id}
    if algorithm:
        output.update(ChecksumAlgorithm=algorithm, ChecksumType=upload.checksum_type)
    return output


def upload_part(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    bucket = _bucket(ctx, params, "s3:PutObject")
    number = int(params["PartNumber"])
    if not 1 <= number <= MAX_PART_NUMBER:
        raise errors.invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive", "partNumber", str(number)
        )
    body = bodies.stage(ctx, params)
    with bodies.released_on_error(ctx, body.blob_id):
        upload = _upload(ctx, bucket, params, lock="share")
        checksum = checksums.chosen(params, body.checksums)
        algorithm = upload.checksum_algorithm
        if checksum is None and algorithm and algorithm in body.checksums:
            checksum = (algorithm, body.checksums[algorithm])
        part = PartRecord(
            part_number=number,
            blob_id=body.blob_id,
            size=body.size,
            etag=etag_of(body.md5_hex),
            last_modified=clock.now(),
            checksums=dict([checksum]) if checksum else {},
        )
        replaced = s3_uploads.put_part(ctx.conn, upload.upload_id, part)
    bodies.free_after_commit(ctx, [replaced] if replaced else [])
    output: dict[str, Any] = {"ETag": part.etag}
    if checksum:
        output.update(checksums.output(*checksum))
    return output


def _chosen_parts(stored: dict[int, PartRecord], requested: list[dict[str, Any]]) -> list[PartRecord]:
    """The parts CompleteMultipartUpload names, checked as S3 checks them."""
    if not requested:
        raise errors.malformed_xml()
    numbers = [int(item.get("PartNumber") or 0) for item in requested]
    if any(later <= earlier for earlier, later in itertools.pairwise(numbers)):
        raise errors.invalid_part_order()
    chosen: list[PartRecord] = []
    for item, number in zip(requested, numbers, strict=True):
        part = stored.get(number)
        if part is None or str(item.get("ETag") or "").strip('"') != part.etag.strip('"'):
            raise errors.invalid_part()
        for algorithm, value in checksums.supplied(item).items():
            if part.checksums.get(algorithm, value) != value:
                raise errors.invalid_part()
        chosen.append(part)
    for part in chosen[:-1]:
        if part.size < errors.MIN_PART_SIZE:
            raise errors.entity_too_small(part.size, part.part_number, part.etag)
    return chosen


def _completed_checksum(upload: UploadRecord, parts: list[PartRecord]) -> dict[str, str]:
    algorithm = upload.checksum_algorithm
    if algorithm not in checksums.ALGORITHMS or not all(algorithm in part.checksums for part in parts):
        return {}
    assert algorithm is not None
    return {algorithm: checksums.composite(algorithm, [part.checksums[algorithm] for part in parts])}


def complete_multipart_upload(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    bucket = _bucket(ctx, params, "s3:PutObject")
    upload = _upload(ctx, bucket, params, lock="update")
    stored = {part.part_number: part for part in s3_uploads.parts(ctx.conn, upload.upload_id)}
    requested = (params.get("MultipartUpload") or {}).get("Parts") or []
    parts = _chosen_parts(stored, requested)
    digest = hashlib.md5(b"".join(bytes.fromhex(part.etag.strip('"')) for part in parts)).hexdigest()
    checksum = _completed_checksum(upload, parts)
    record = ObjectRecord(
        key=upload.key,
        size=sum(part.size for part in parts),
        etag=f'"{digest}-{len(parts)}"',
        last_modified=clock.now(),
        storage_class=upload.storage_class,
        headers=upload.headers,
        metadata=upload.metadata,
        checksums=checksum,
        checksum_type="COMPOSITE" if checksum else None,
        parts_count=len(parts),
    )
    replaced = s3_objects.put_object(ctx.conn, bucket.id, record, [Segment(p.blob_id, p.size) for p in parts])
    used = {part.blob_id for part in parts}
    unused = [blob_id for blob_id in s3_uploads.delete_upload(ctx.conn, upload.upload_id) if blob_id not in used]
    bodies.free_after_commit(ctx, replaced + unused)
    output: dict[str, Any] = {
        "Location": f"/{quote(bucket.name)}/{quote(upload.key)}",
        "Bucket": bucket.name,
        "Key": upload.key,
        "ETag": record.etag,
    }
    for algorithm, value in checksum.items():
        output.update(checksums.output(algorithm, value), ChecksumType="COMPOSITE")
    return output


def abort_multipart_upload(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    bucket = _bucket(ctx, params, "s3:AbortMultipartUpload")
    upload = _upload(ctx, bucket, params, lock="update")
    bodies.free_after_commit(ctx, s3_uploads.delete_upload(ctx.conn, upload.upload_id))
    return {}


def list_parts(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    bucket = _bucket(ctx, params, "s3:ListMultipartUploadParts")
    upload = _upload(ctx, bucket, params)
    limit = _page_size(params, "MaxParts", "max-parts")
    marker = int(params.get("PartNumberMarker") or 0)
    page = s3_uploads.parts(ctx.conn, upload.upload_id, after=marker, limit=limit + 1)
    truncated = len(page) > limit
    page = page[:limit]
    output: dict[str, Any] = {
        "Bucket": bucket.name,
        "Key": upload.key,
        "UploadId": upload.upload_id,
        "PartNumberMarker": marker,
        "MaxParts": limit,
        "IsTruncated": truncated,
        "Parts": [_part_shape(part) for part in page],
        "Initiator": {"ID": upload.initiator_arn, "DisplayName": upload.initiator_id},
        "Owner": owner(bucket.account),
        "StorageClass": upload.storage_class,
    }
    if page:
        output["NextPartNumberMarker"] = page[-1].part_number
    if upload.checksum_algorithm:
        output.update(ChecksumAlgorithm=upload.checksum_algorithm, ChecksumType=upload.checksum_type)
    return output


def _part_shape(part: PartRecord) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "PartNumber": part.part_number,
        "LastModified": part.last_modified,
        "ETag": part.etag,
        "Size": part.size,
    }
    for algorithm, value in part.checksums.items():
        shape.update(checksums.output(algorithm, value))
    return shape


def list_multipart_uploads(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    bucket = access.require_bucket(ctx, params["Bucket"], "s3:ListBucketMultipartUploads", bucket_arn(params["Bucket"]))
    prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or ""
    limit = _page_size(params, "MaxUploads", "max-uploads")
    key_marker, id_marker = params.get("KeyMarker") or "", params.get("UploadIdMarker") or ""
    rows = s3_uploads.list_uploads(
        ctx.conn, bucket.id, prefix=prefix, key_marker=key_marker, upload_id_marker=id_marker, limit=limit + 1
    )
    encode = (lambda text: quote(text, safe="/")) if params.get("EncodingType") == "url" else (lambda text: text)
    uploads, prefixes = _rolled_up(rows[:limit], prefix, delimiter)
    output: dict[str, Any] = {
        "Bucket": bucket.name,
        "KeyMarker": encode(key_marker),
        "UploadIdMarker": id_marker,
        "Prefix": encode(prefix),
        "MaxUploads": limit,
        "IsTruncated": len(rows) > limit,
        "Uploads": [_upload_shape(upload, bucket, encode) for upload in uploads],
        "CommonPrefixes": [{"Prefix": encode(common)} for common in prefixes],
    }
    if delimiter:
        output["Delimiter"] = encode(delimiter)
    if params.get("EncodingType"):
        output["EncodingType"] = params["EncodingType"]
    if len(rows) > limit > 0:
        last = rows[limit - 1]
        output.update(NextKeyMarker=encode(last.key), NextUploadIdMarker=last.upload_id)
    return output


def _page_size(params: dict[str, Any], member: str, argument: str) -> int:
    """The page size asked for, at most MAX_LISTED; S3's InvalidArgument for a negative one."""
    value = params.get(member)
    if value is None:
        return MAX_LISTED
    if int(value) < 0:
        message = f"Argument {argument} must be an integer between 0 and 2147483647"
        raise errors.invalid_argument(message, argument, str(value))
    return min(int(value), MAX_LISTED)


def _rolled_up(uploads: list[UploadRecord], prefix: str, delimiter: str) -> tuple[list[UploadRecord], list[str]]:
    if not delimiter:
        return uploads, []
    kept: list[UploadRecord] = []
    prefixes: list[str] = []
    for upload in uploads:
        at = upload.key.find(delimiter, len(prefix))
        if at < 0:
            kept.append(upload)
        elif (common := upload.key[: at + len(delimiter)]) not in prefixes:
            prefixes.append(common)
    return kept, prefixes


def _upload_shape(upload: UploadRecord, bucket: BucketRecord, encode: Any) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "UploadId": upload.upload_id,
        "Key": encode(upload.key),
        "Initiated": upload.initiated_at,
        "StorageClass": upload.storage_class,
        "Owner": owner(bucket.account),
        "Initiator": {"ID": upload.initiator_arn, "DisplayName": upload.initiator_id},
    }
    if upload.checksum_algorithm:
        shape.update(ChecksumAlgorithm=upload.checksum_algorithm, ChecksumType=upload.checksum_type)
    return shape


OPERATIONS: dict[str, Handler] = {
    "CreateMultipartUpload": create_multipart_upload,
    "UploadPart": upload_part,
    "CompleteMultipartUpload": complete_multipart_upload,
    "AbortMultipartUpload": abort_multipart_upload,
    "ListParts": list_parts,
    "ListMultipartUploads": list_multipart_uploads,
}
