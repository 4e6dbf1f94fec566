"""Conditional requests and byte ranges for GetObject, HeadObject and CopyObject.

Precedence is RFC 9110's, which S3 follows: If-Match (else If-Unmodified-Since) can fail with 412; then
If-None-Match (else If-Modified-Since) can answer 304 (412 for CopyObject's copy-source conditions). Dates
compare at one-second resolution, the resolution of Last-Modified.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from edgeward.services.s3 import errors
from edgeward.storage.repos.s3_objects import ObjectRecord

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def check(params: Mapping[str, Any], obj: ObjectRecord, *, prefix: str = "") -> None:
    """Raise PreconditionFailed (412) or NotModified (304) as the request's conditions demand.

    `prefix` names the members (`CopySource` for CopyObject's x-amz-copy-source-if-* headers, whose
    "not modified" outcomes are 412 too).
    """
    if_match = params.get(f"{prefix}IfMatch")
    unmodified_since = params.get(f"{prefix}IfUnmodifiedSince")
    if if_match is not None:
        if not _etag_matches(str(if_match), obj.etag):
            raise errors.precondition_failed(_header(prefix, "If-Match"))
    elif unmodified_since is not None and _seconds(obj.last_modified) > _seconds(unmodified_since):
        raise errors.precondition_failed(_header(prefix, "If-Unmodified-Since"))
    if_none_match = params.get(f"{prefix}IfNoneMatch")
    modified_since = params.get(f"{prefix}IfModifiedSince")
    if if_none_match is not None:
        if _etag_matches(str(if_none_match), obj.etag):
            _not_modified(obj, bool(prefix), _header(prefix, "If-None-Match"))
    elif modified_since is not None and _seconds(obj.last_modified) <= _seconds(modified_since):
        _not_modified(obj, bool(prefix), _header(prefix, "If-Modified-Since"))


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (start, end-exclusive) a Range header asks for; None for no range or one S3 ignores (syntax it
    does not understand, several ranges); InvalidRange (416) when it starts beyond the object."""
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:  # the last n bytes
        count = int(last)
        if count == 0 or size == 0:
            raise errors.invalid_range(header, size)
        return max(0, size - count), size
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise errors.invalid_range(header, size)
    end = size if not last else min(int(last) + 1, size)
    return start, end


def _not_modified(obj: ObjectRecord, copy: bool, condition: str) -> None:
    if copy:
        raise errors.precondition_failed(condition)
    raise errors.not_modified(obj.etag, http_date(obj.last_modified))


def _etag_matches(header: str, etag: str) -> bool:
    bare = etag.strip('"')
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        candidate = candidate.removeprefix("W/").strip('"')
        if candidate == bare:
            return True
    return False


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _header(prefix: str, name: str) -> str:
    return f"x-amz-copy-source-{name.lower()}" if prefix else name
