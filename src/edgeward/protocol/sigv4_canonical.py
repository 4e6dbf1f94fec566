"""The canonical request and string to sign, built the way botocore builds them (and the raw form curl builds).

`canonical_path`, `canonical_query` and `canonical_headers` are the three normalized parts;
`canonical_request` joins them, `string_to_sign` hashes that under the claim's date and scope.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import quote, unquote

from edgeward.protocol.http import HttpRequest
from edgeward.protocol.sigv4_read import ALGORITHM, SignedRequest


def canonical_request(
    method: str, path: str, query: str, headers: str, signed: SignedRequest, payload_hash: str
) -> str:
    return f"{method}\n{path}\n{query}\n{headers}\n{';'.join(signed.signed_headers)}\n{payload_hash}"


def string_to_sign(signed: SignedRequest, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{signed.amz_date}\n{signed.scope}\n{digest}"


def curl_canonical_request(request: HttpRequest, signed: SignedRequest, headers: str, payload_hash: str) -> str | None:
    """The canonical request as curl 7.x's `--aws-sigv4` builds it: path and query exactly as sent.

    curl 7.x (Debian 12 ships 7.88) neither double-encodes the path for non-S3 services nor sorts and
    re-encodes the query, so a curl-signed request with `?b=1&a=2`, `?x=a+b` or `/a%20b` only verifies against
    its raw form. Accepting a second form must not let a signature made for one request be replayed onto
    another that means something else; see `_raw_path_is_unambiguous`. The raw query is the exact wire text,
    which binds at least as tightly as the normalized one.
    """
    raw_path = request.raw_path or "/"
    if signed.presigned:
        return None
    if signed.service != "s3" and not _raw_path_is_unambiguous(raw_path):
        return None  # S3's own form is the raw path already
    return canonical_request(request.method, raw_path, request.query_string, headers, signed, payload_hash)


def _raw_path_is_unambiguous(raw_path: str) -> bool:
    """Whether signing `raw_path` as sent cannot collide with botocore's form of a different path.

    botocore's form of a path P is quote(P'): a fixed point of quote(unquote(.)). A raw path S that is such a
    fixed point is also botocore's form of the path unquote(S), which means unquote(unquote(S)), while S
    itself means unquote(S). The raw form is refused only when those two differ (S holds an encoded '%', as
    in `/a%2520b`); every other raw path either is no botocore form at all or names the same resource.
    """
    if "%" not in raw_path:
        return True
    once = unquote(raw_path)
    return once == unquote(once) or quote(once, safe="/~") != raw_path


# ----------------------------------------------------------------------------------------- the parts


def canonical_path(raw_path: str, service: str) -> str:
    """S3 signs the path as sent; every other service signs it dot-normalized and encoded once more."""
    if service == "s3":
        return raw_path or "/"
    if raw_path == "/" or not raw_path:
        return "/"
    return _double_encoded(raw_path)


@lru_cache(maxsize=1024)
def _double_encoded(raw_path: str) -> str:
    return quote(_remove_dot_segments(raw_path) or "/", safe="/~")


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4 plus AWS's collapsing of empty segments, as botocore's `remove_dot_segments` does."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    leading = "/" if path.startswith("/") else ""
    trailing = "/" if path.endswith("/") and kept else ""
    return leading + "/".join(kept) + trailing


def canonical_query(pairs: Sequence[tuple[str, str]], presigned: bool) -> str:
    """Decoded pairs ('+' is a space, as the handlers read it), RFC 3986-encoded, sorted by key then value."""
    if not pairs:
        return ""
    encoded = sorted(
        (_encode(key), _encode(value)) for key, value in pairs if not (presigned and key == "X-Amz-Signature")
    )
    return "&".join(f"{key}={value}" for key, value in encoded)


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_headers(request: HttpRequest, signed_headers: tuple[str, ...]) -> str:
    """`name:value\\n` per signed header, values trimmed with inner whitespace runs collapsed."""
    headers = request.headers
    return "".join(f"{name}:{_trimmed(headers.get(name, ''))}\n" for name in signed_headers)


def _trimmed(value: str) -> str:
    """botocore's `' '.join(value.split())`, without the split for the usual already-clean value."""
    # Every character str.split() treats as whitespace, except the plain space, is not printable.
    trimmed = value.strip()
    if trimmed.isprintable() and "  " not in trimmed:
        return trimmed
    return " ".join(value.split())
