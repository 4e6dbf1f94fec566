"""AWS Signature Version 4, checked on the server side.

Two steps, so that no secret is looked up for a request that could never verify:

1. `read_signature(request)` reads what the request claims (key, scope, date, signed headers, signature)
   from the `Authorization` header or the presigned query parameters. It raises `AuthFailure(MALFORMED)` for
   a garbled claim and returns None when the request carries no authentication at all.
2. `verify(request, signed, secret, now)` checks the clock, rebuilds the canonical request the way botocore
   builds it, and compares signatures in constant time.

`authenticate()` chains both around a secret lookup. Which error each failure becomes on the wire is decided
in `auth_errors`, per protocol.

This module is the public face: reading the claim lives in `sigv4_read`, the canonical request forms in
`sigv4_canonical`, the failures in `sigv4_failure`; everything callers use is importable from here.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from enum import Enum
from functools import lru_cache

from edgeward.protocol import sigv2
from edgeward.protocol.http import HttpRequest
from edgeward.protocol.sigv4_canonical import (
    canonical_headers,
    canonical_path,
    canonical_query,
    canonical_request,
    curl_canonical_request,
    string_to_sign,
)
from edgeward.protocol.sigv4_failure import (
    AuthFailure,
    AuthFailureKind,
    content_sha256_mismatch,
    expired_token,
    malformed,
    missing,
    unknown_key,
)
from edgeward.protocol.sigv4_read import (
    ALGORITHM,
    HEX_DIGITS,
    MAX_PRESIGN_EXPIRES,
    TERMINATOR,
    SignedRequest,
    amz_epoch,
    format_amz_date,
)
from edgeward.protocol.sigv4_read import read_signature as read_signature_v4

__all__ = [
    "ALGORITHM",
    "EMPTY_SHA256",
    "MAX_PRESIGN_EXPIRES",
    "MAX_SKEW_SECONDS",
    "STREAMING_PREFIX",
    "TERMINATOR",
    "UNSIGNED_PAYLOAD",
    "AuthFailure",
    "AuthFailureKind",
    "SecretLookup",
    "SignedRequest",
    "amz_epoch",
    "authenticate",
    "canonical_headers",
    "canonical_path",
    "canonical_query",
    "check_time",
    "clear_signing_key_cache",
    "content_sha256_mismatch",
    "defer_payload_check",
    "expired_token",
    "format_amz_date",
    "malformed",
    "missing",
    "read_signature",
    "signing_key",
    "unknown_key",
    "verified_signing_key",
    "verify",
]

MAX_SKEW_SECONDS = 15 * 60
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_PREFIX = "STREAMING-"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

# Per-request facts `verify` leaves in `HttpRequest._cache` for the streaming upload path.
_DEFERRED = "sigv4.payload_check_deferred"
_SIGNING_KEY = "sigv4.verified_secret"

SecretLookup = Callable[[SignedRequest], str]
"""Returns the secret access key for `signed.access_key_id`; raises `unknown_key()` / `expired_token()`."""


def read_signature(request: HttpRequest) -> SignedRequest | None:
    """The signature the request claims (SigV4, or S3's SigV2), or None if it carries no authentication."""
    v2 = sigv2.read_signature(request)
    return v2 if v2 is not None else read_signature_v4(request)


def authenticate(request: HttpRequest, lookup: SecretLookup, now: float) -> SignedRequest:
    """Read, check the clock (before any lookup), look the secret up, verify. Raises `AuthFailure`."""
    signed = read_signature(request)
    if signed is None:
        raise missing()
    check_time(signed, now)
    verify(request, signed, lookup(signed), now)
    return signed


def verify(
    request: HttpRequest,
    signed: SignedRequest,
    secret_access_key: str,
    now: float,
    *,
    check_content_sha256: bool = True,
) -> None:
    """Raise `AuthFailure` unless `signed` is a valid, current SigV4 signature of `request` with this secret.

    With `check_content_sha256=False` a 64-hex `x-amz-content-sha256` is trusted for the signature and the
    caller must hash the (streamed) body itself, raising `content_sha256_mismatch()` on a difference.
    """
    if signed.version == 2:
        check_time(signed, now)
        sigv2.verify(request, signed, secret_access_key)
        return
    if signed.version != 4:
        raise malformed("Only AWS Signature Versions 2 and 4 are supported.", presigned=signed.presigned)
    check_time(signed, now)
    payload_hash, source = _payload_hash(request, signed)
    _check_signature(request, signed, secret_access_key, payload_hash)
    request._cache[_SIGNING_KEY] = (secret_access_key, signed.scope)
    if source is _Payload.CLAIMED and check_content_sha256 and _DEFERRED not in request._cache:
        _check_claimed_hash(request, payload_hash)
    elif source is _Payload.LITERAL and not _unsigned_body_allowed(signed.service, payload_hash):
        raise AuthFailure(
            AuthFailureKind.CONTENT_SHA256_MISMATCH,
            f"x-amz-content-sha256 '{payload_hash}' is not accepted for service '{signed.service}'.",
            access_key_id=signed.access_key_id,
            presigned=signed.presigned,
            client_sha256=payload_hash,
        )


def defer_payload_check(request: HttpRequest) -> None:
    """The body of `request` streams past authentication (S3 uploads): `verify` checks the signature over the
    claimed `x-amz-content-sha256` and leaves comparing it with the body to whoever reads the body."""
    request._cache[_DEFERRED] = True


def verified_signing_key(request: HttpRequest, signed: SignedRequest) -> bytes | None:
    """The SigV4 signing key `verify` accepted `request` with (what chains aws-chunked chunk signatures), or
    None when it has not verified one for this scope."""
    found = request._cache.get(_SIGNING_KEY)
    if not isinstance(found, tuple) or found[1] != signed.scope:
        return None
    return signing_key(found[0], signed.date, signed.region, signed.service)


def _unsigned_body_allowed(service: str, payload_hash: str) -> bool:
    """Only S3 takes a body the signature does not cover (presigned URLs, TLS uploads, aws-chunked streams).

    Elsewhere UNSIGNED-PAYLOAD would leave a query-protocol request's parameters, its whole form body, open
    to tampering.
    """
    return service == "s3" and (payload_hash == UNSIGNED_PAYLOAD or payload_hash.startswith(STREAMING_PREFIX))


def check_time(signed: SignedRequest, now: float) -> None:
    """The ±15-minute window for header signatures; X-Amz-Date + X-Amz-Expires for presigned ones."""
    if signed.version == 2 and signed.presigned:
        if now > signed.issued_at:  # a SigV2 URL carries only its expiry (see SignedRequest.amz_date)
            raise _skew(signed, now, AuthFailureKind.PRESIGN_EXPIRED, "Request has expired")
        return
    issued = signed.issued_at
    if issued > now + MAX_SKEW_SECONDS:
        raise _skew(
            signed,
            now,
            AuthFailureKind.NOT_YET_VALID,
            f"Signature not yet current: {signed.amz_date} is still later than "
            f"{format_amz_date(now + MAX_SKEW_SECONDS)} ({format_amz_date(now)} + 15 min.)",
        )
    if signed.presigned:
        expires = signed.expires or 0
        if now > issued + expires:
            raise _skew(
                signed,
                now,
                AuthFailureKind.PRESIGN_EXPIRED,
                f"Request has expired: the presigned request was valid until "
                f"{format_amz_date(issued + expires)} and it is now {format_amz_date(now)}.",
            )
    elif issued < now - MAX_SKEW_SECONDS:
        raise _skew(
            signed,
            now,
            AuthFailureKind.EXPIRED_SIGNATURE,
            f"Signature expired: {signed.amz_date} is now earlier than "
            f"{format_amz_date(now - MAX_SKEW_SECONDS)} ({format_amz_date(now)} - 15 min.)",
        )


def _skew(signed: SignedRequest, now: float, kind: AuthFailureKind, detail: str) -> AuthFailure:
    return AuthFailure(
        kind,
        detail,
        access_key_id=signed.access_key_id,
        presigned=signed.presigned,
        request_time=signed.amz_date,
        server_time=now,
        expires=signed.expires,
    )


class _Payload(Enum):
    BODY = "body"  # hashed here from the body
    CLAIMED = "claimed"  # a 64-hex x-amz-content-sha256, still to be checked against the body
    LITERAL = "literal"  # UNSIGNED-PAYLOAD, STREAMING-...: the body is not covered by the signature


def _payload_hash(request: HttpRequest, signed: SignedRequest) -> tuple[str, _Payload]:
    """The payload hash the signer put in the canonical request, and where it came from."""
    declared = request.headers.get("x-amz-content-sha256")
    if declared is not None and (not signed.presigned or "x-amz-content-sha256" in signed.signed_headers):
        if len(declared) == 64 and HEX_DIGITS.issuperset(declared):
            return declared, _Payload.CLAIMED
        return declared, _Payload.LITERAL
    if signed.presigned and signed.service == "s3":
        return UNSIGNED_PAYLOAD, _Payload.LITERAL
    return _body_sha256(request), _Payload.BODY


def _body_sha256(request: HttpRequest) -> str:
    body = request.body
    return hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256


def _check_claimed_hash(request: HttpRequest, claimed: str) -> None:
    computed = _body_sha256(request)
    if computed != claimed.lower():
        raise content_sha256_mismatch(claimed, computed)


def _check_signature(request: HttpRequest, signed: SignedRequest, secret: str, payload_hash: str) -> None:
    signer = _signer(secret, signed.date, signed.region, signed.service)
    headers = canonical_headers(request, signed.signed_headers)
    path = canonical_path(request.raw_path, signed.service)
    query = canonical_query(request.query_pairs, signed.presigned) if request.query_string else ""
    canonical = canonical_request(request.method, path, query, headers, signed, payload_hash)
    to_sign = string_to_sign(signed, canonical)
    if _matches(signer, to_sign, signed.signature):
        return
    alternative = curl_canonical_request(request, signed, headers, payload_hash)
    if alternative not in (None, canonical) and _matches(signer, string_to_sign(signed, alternative), signed.signature):
        return
    raise AuthFailure(
        AuthFailureKind.BAD_SIGNATURE,
        "The request signature we calculated does not match the signature you provided.",
        access_key_id=signed.access_key_id,
        presigned=signed.presigned,
        string_to_sign=to_sign,
        canonical_request=canonical,
        signature_provided=signed.signature,
    )


def _matches(signer: hmac.HMAC, to_sign: str, signature: str) -> bool:
    # (Not named like the imported `string_to_sign`: CPython 3.11 would then compile `.encode()` without
    # LOAD_METHOD, a measurable cost on this path.)
    mac = signer.copy()
    mac.update(to_sign.encode("utf-8"))
    return hmac.compare_digest(mac.hexdigest(), signature)


def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    """kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")."""
    key = hmac.digest(f"AWS4{secret_access_key}".encode(), date.encode(), "sha256")
    for part in (region, service, TERMINATOR):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


@lru_cache(maxsize=4096)
def _signer(secret_access_key: str, date: str, region: str, service: str) -> hmac.HMAC:
    """An HMAC keyed with the signing key, copied for each use: derivation and key setup happen once a day."""
    return hmac.new(signing_key(secret_access_key, date, region, service), digestmod="sha256")


def clear_signing_key_cache() -> None:
    """Forget cached signing keys (e.g. after a secret is rotated out, or in tests)."""
    _signer.cache_clear()
