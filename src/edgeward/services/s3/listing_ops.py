"""ListObjectsV2 and ListObjects: prefixes, delimiters, pagination, and `encoding-type=url`.

With `encoding-type=url` every key and prefix in the response is URL-encoded (botocore decodes them), so
keys with characters XML 1.0 cannot carry still list. V2 continuation tokens are opaque (base64 of where the
page ended); V1 pages by marker, with NextMarker only when a delimiter was given, as in S3.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from edgeward.services.context import Context, Handler
from edgeward.services.s3 import access, errors
from edgeward.services.s3.listing import Page, list_page
from edgeward.services.s3.names import owner
from edgeward.storage.repos.s3_buckets import BucketRecord
from edgeward.storage.repos.s3_objects import ObjectRecord

MAX_KEYS = 1000


def _encoder(params: dict[str, Any]) -> Callable[[str], str]:
    if params.get("EncodingType") == "url":
        return lambda text: quote(text, safe="/")
    return lambda text: text


def _max_keys(params: dict[str, Any]) -> int:
    value = params.get("MaxKeys")
    return MAX_KEYS if value is None else max(0, min(int(value), MAX_KEYS))


def _listable(ctx: Context, params: dict[str, Any]) -> BucketRecord:
    condition = {"s3:prefix": params.get("Prefix") or "", "s3:max-keys": str(_max_keys(params))}
    if params.get("Delimiter"):
        condition["s3:delimiter"] = params["Delimiter"]
    return access.require_bucket(ctx, params["Bucket"], "s3:ListBucket", condition=condition)


def _entry(obj: ObjectRecord, encode: Callable[[str], str], with_owner: bool, account: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Key": encode(obj.key),
        "LastModified": obj.last_modified,
        "ETag": obj.etag,
        "Size": obj.size,
        "StorageClass": obj.storage_class,
    }
    if obj.checksums:
        entry["ChecksumAlgorithm"] = list(obj.checksums)
        if obj.checksum_type:
            entry["ChecksumType"] = obj.checksum_type
    if with_owner:
        entry["Owner"] = owner(account)
    return entry


def _common(
    bucket: BucketRecord, params: dict[str, Any], page: Page, encode: Callable[[str], str], with_owner: bool
) -> dict[str, Any]:
    output: dict[str, Any] = {
        "Name": bucket.name,
        "Prefix": encode(params.get("Prefix") or ""),
        "MaxKeys": _max_keys(params),
        "IsTruncated": page.truncated,
        "Contents": [_entry(obj, encode, with_owner, bucket.account) for obj in page.objects],
        "CommonPrefixes": [{"Prefix": encode(prefix)} for prefix in page.prefixes],
    }
    if params.get("Delimiter"):
        output["Delimiter"] = encode(params["Delimiter"])
    if params.get("EncodingType"):
        output["EncodingType"] = params["EncodingType"]
    return output


def list_objects_v2(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    bucket = _listable(ctx, params)
    token = params.get("ContinuationToken")
    after = _token_value(token) if token else params.get("StartAfter") or ""
    page = _page(ctx, bucket, params, after)
    encode = _encoder(params)
    output = _common(bucket, params, page, encode, bool(params.get("FetchOwner")))
    output["KeyCount"] = page.count
    if token:
        output["ContinuationToken"] = token
    if params.get("StartAfter"):
        output["StartAfter"] = encode(params["StartAfter"])
    if page.truncated:
        output["NextContinuationToken"] = _token(page.last)
    return output


def list_objects(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    bucket = _listable(ctx, params)
    marker = params.get("Marker") or ""
    page = _page(ctx, bucket, params, marker)
    encode = _encoder(params)
    output = _common(bucket, params, page, encode, True)
    output["Marker"] = encode(marker)
    if page.truncated and params.get("Delimiter"):
        output["NextMarker"] = encode(page.last)
    return output


def _page(ctx: Context, bucket: BucketRecord, params: dict[str, Any], after: str) -> Page:
    return list_page(
        ctx.conn,
        bucket.id,
        prefix=params.get("Prefix") or "",
        delimiter=params.get("Delimiter") or "",
        after=after,
        max_keys=_max_keys(params),
    )


def _token(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode("utf-8", "surrogatepass")).decode("ascii")


def _token_value(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise errors.invalid_argument(
            "The continuation token provided is incorrect", "continuation-token", token
        ) from None


OPERATIONS: dict[str, Handler] = {
    "ListObjectsV2": list_objects_v2,
    "ListObjects": list_objects,
}
