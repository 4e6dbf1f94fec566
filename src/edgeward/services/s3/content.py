"""What an object carries besides its bytes: content headers, user metadata (x-amz-meta-*), storage class,
checksums; read from a request, and described back in GetObject/HeadObject responses."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from edgeward.services.s3 import checksums, errors
from edgeward.storage.repos.s3_objects import ObjectRecord

DEFAULT_CONTENT_TYPE = "binary/octet-stream"
MAX_METADATA_BYTES = 2048
STANDARD = "STANDARD"
_CONTENT_MEMBERS = (
    "ContentType",
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "WebsiteRedirectLocation",
)
# GetObject's response-* query parameters (presigned downloads) and the header each one overrides.
_OVERRIDES = {
    "ResponseContentType": "ContentType",
    "ResponseCacheControl": "CacheControl",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentLanguage": "ContentLanguage",
}


def headers_from(params: Mapping[str, Any]) -> dict[str, str]:
    """The content headers to store from a PutObject/CreateMultipartUpload/CopyObject request."""
    headers = {member: str(params[member]) for member in _CONTENT_MEMBERS if params.get(member)}
    encoding = _without_aws_chunked(headers.pop("ContentEncoding", ""))
    if encoding:
        headers["ContentEncoding"] = encoding
    headers.setdefault("ContentType", DEFAULT_CONTENT_TYPE)
    expires = params.get("Expires")
    if isinstance(expires, datetime):
        headers["Expires"] = expires.isoformat()
    return headers


def metadata_from(params: Mapping[str, Any]) -> dict[str, str]:
    """User metadata (lower-case names, as S3 returns them); MetadataTooLarge beyond 2 KB."""
    metadata = {str(name).lower(): str(value) for name, value in (params.get("Metadata") or {}).items()}
    size = sum(len(name.encode()) + len(value.encode()) for name, value in metadata.items())
    if size > MAX_METADATA_BYTES:
        raise errors.metadata_too_large(size, MAX_METADATA_BYTES)
    return metadata


def storage_class_from(params: Mapping[str, Any]) -> str:
    return str(params.get("StorageClass") or STANDARD)


def described(obj: ObjectRecord, params: Mapping[str, Any]) -> dict[str, Any]:
    """GetObject/HeadObject's headers for `obj` (the body and its length are the caller's)."""
    output: dict[str, Any] = {
        "LastModified": obj.last_modified,
        "ContentLength": obj.size,
        "ETag": obj.etag,
        "AcceptRanges": "bytes",
    }
    for member in _CONTENT_MEMBERS:
        if obj.headers.get(member):
            output[member] = obj.headers[member]
    if obj.headers.get("Expires"):
        output["Expires"] = datetime.fromisoformat(obj.headers["Expires"])
    if obj.metadata:
        output["Metadata"] = dict(obj.metadata)
    if obj.storage_class != STANDARD:
        output["StorageClass"] = obj.storage_class
    for parameter, member in _OVERRIDES.items():
        if params.get(parameter):
            output[member] = params[parameter]
    if isinstance(params.get("ResponseExpires"), datetime):
        output["Expires"] = params["ResponseExpires"]
    return output


def checksum_output(obj: ObjectRecord) -> dict[str, Any]:
    """The stored checksum as response members (GetObject/HeadObject with x-amz-checksum-mode: ENABLED)."""
    output: dict[str, Any] = {}
    for algorithm, value in obj.checksums.items():
        output.update(checksums.output(algorithm, value))
    if output and obj.checksum_type:
        output["ChecksumType"] = obj.checksum_type
    return output


def _without_aws_chunked(encoding: str) -> str:
    # `aws-chunked` describes the upload's framing, not the object: S3 does not store it.
    tokens = [token.strip() for token in encoding.split(",")]
    return ",".join(token for token in tokens if token and token.lower() != "aws-chunked")
