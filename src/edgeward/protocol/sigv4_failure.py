"""Why a SigV4 request is not authenticated: the failure kinds and the constructors for each.

Which error each failure becomes on the wire is decided in `auth_errors`, per protocol.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edgeward.protocol.sigv4_read import SignedRequest


class AuthFailureKind(Enum):
    MISSING = "missing"
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED_SIGNATURE = "expired_signature"
    EXPIRED_TOKEN = "expired_token"
    PRESIGN_EXPIRED = "presign_expired"
    CONTENT_SHA256_MISMATCH = "content_sha256_mismatch"


class AuthFailure(Exception):
    """Why a request is not authenticated, with the facts S3 echoes in its error bodies.

    `request_time` is the request's `yyyymmddThhmmssZ` date, `server_time` the epoch seconds it was judged
    at, `expires` the presigned lifetime in seconds. For BAD_SIGNATURE, `string_to_sign` and
    `canonical_request` are what the server computed (the first, botocore-compatible form).
    """

    def __init__(
        self,
        kind: AuthFailureKind,
        detail: str,
        *,
        access_key_id: str | None = None,
        presigned: bool = False,
        string_to_sign: str | None = None,
        canonical_request: str | None = None,
        signature_provided: str | None = None,
        request_time: str | None = None,
        server_time: float | None = None,
        expires: int | None = None,
        client_sha256: str | None = None,
        computed_sha256: str | None = None,
    ) -> None:
        super().__init__(f"{kind.name}: {detail}")
        self.kind = kind
        self.detail = detail
        self.access_key_id = access_key_id
        self.presigned = presigned
        self.string_to_sign = string_to_sign
        self.canonical_request = canonical_request
        self.signature_provided = signature_provided
        self.request_time = request_time
        self.server_time = server_time
        self.expires = expires
        self.client_sha256 = client_sha256
        self.computed_sha256 = computed_sha256


def missing() -> AuthFailure:
    return AuthFailure(AuthFailureKind.MISSING, "Request is missing Authentication Token")


def malformed(detail: str, *, presigned: bool = False) -> AuthFailure:
    return AuthFailure(AuthFailureKind.MALFORMED, detail, presigned=presigned)


def unknown_key(signed: SignedRequest) -> AuthFailure:
    """For the lookup: no such key, or an inactive or deleted one."""
    return AuthFailure(
        AuthFailureKind.UNKNOWN_KEY,
        f"The access key {signed.access_key_id} is unknown or inactive.",
        access_key_id=signed.access_key_id,
        presigned=signed.presigned,
    )


def expired_token(signed: SignedRequest) -> AuthFailure:
    """For the lookup: the session token belongs to expired temporary credentials."""
    return AuthFailure(
        AuthFailureKind.EXPIRED_TOKEN,
        "The security token included in the request is expired",
        access_key_id=signed.access_key_id,
        presigned=signed.presigned,
    )


def content_sha256_mismatch(claimed: str, computed: str) -> AuthFailure:
    """Also for streaming uploads, whose body is hashed after `verify` returned."""
    return AuthFailure(
        AuthFailureKind.CONTENT_SHA256_MISMATCH,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        client_sha256=claimed,
        computed_sha256=computed,
    )
