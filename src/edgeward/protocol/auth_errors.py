"""Authentication failures in each service's own words (spec section 4.6).

Query services (IAM, STS) answer with the AWS "Common Errors" codes and 403; SageMaker (json 1.1) with the
`...Exception` codes and 400, as json-1.x services do in practice; IoT and sagemaker-edge (rest-json) with the
same codes and 403; S3 with its own codes and the extra elements its error bodies carry.
"""

from __future__ import annotations

from collections.abc import Callable

from edgeward.core import clock
from edgeward.core.errors import ServiceError
from edgeward.protocol import catalog
from edgeward.protocol.sigv4 import MAX_SKEW_SECONDS, AuthFailure, AuthFailureKind, amz_epoch

Kind = AuthFailureKind

INVALID_TOKEN = "The security token included in the request is invalid."
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)
EXPIRED_TOKEN = "The security token included in the request is expired"
MISSING_TOKEN = "Request is missing Authentication Token"

S3_INVALID_KEY = "The AWS Access Key Id you provided does not exist in our records."
S3_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)
S3_SKEWED = "The difference between the request time and the current time is too large."
S3_EXPIRED_TOKEN = "The provided token has expired."
S3_CONTENT_SHA256 = "The provided 'x-amz-content-sha256' header does not match what was computed."

_PROTOCOLS = {
    "iam": "query",
    "sts": "query",
    "sagemaker": "json",
    "iot": "rest-json",
    "sagemaker-edge": "rest-json",
    "s3": "rest-xml",
}

# kind -> (query code, json/rest-json code) for the services that are not S3
_CODES: dict[Kind, tuple[str, str]] = {
    Kind.MISSING: ("MissingAuthenticationToken", "MissingAuthenticationTokenException"),
    Kind.MALFORMED: ("IncompleteSignature", "IncompleteSignatureException"),
    Kind.UNKNOWN_KEY: ("InvalidClientTokenId", "UnrecognizedClientException"),
    Kind.BAD_SIGNATURE: ("SignatureDoesNotMatch", "InvalidSignatureException"),
    Kind.NOT_YET_VALID: ("SignatureDoesNotMatch", "InvalidSignatureException"),
    Kind.EXPIRED_SIGNATURE: ("SignatureDoesNotMatch", "InvalidSignatureException"),
    Kind.PRESIGN_EXPIRED: ("SignatureDoesNotMatch", "InvalidSignatureException"),
    Kind.CONTENT_SHA256_MISMATCH: ("SignatureDoesNotMatch", "InvalidSignatureException"),
    Kind.EXPIRED_TOKEN: ("ExpiredToken", "ExpiredTokenException"),
}


def auth_error(service: str, failure: AuthFailure) -> ServiceError:
    """The `ServiceError` a request to `service` (botocore name) gets for this authentication failure."""
    protocol = _protocol(service)
    if protocol == "rest-xml":
        return _S3[failure.kind](failure)
    query_code, json_code = _CODES[failure.kind]
    message = _message(failure)
    if protocol == "query":
        status = 400 if failure.kind is Kind.MALFORMED else 403
        return ServiceError(query_code, message, status)
    return ServiceError(json_code, message, 400 if protocol == "json" else 403)


def _protocol(service: str) -> str:
    known = _PROTOCOLS.get(service)
    if known is not None:
        return known
    try:
        return catalog.protocol_of(service)
    except KeyError:
        return "json"


def _message(failure: AuthFailure) -> str:
    """The texts AWS's query and JSON services use; the clock and malformed cases say what was wrong."""
    kind = failure.kind
    if kind is Kind.MISSING:
        return MISSING_TOKEN
    if kind is Kind.UNKNOWN_KEY:
        return INVALID_TOKEN
    if kind is Kind.BAD_SIGNATURE:
        return SIGNATURE_MISMATCH
    if kind is Kind.EXPIRED_TOKEN:
        return EXPIRED_TOKEN
    return failure.detail


# ----------------------------------------------------------------------------------------- S3


def _s3_missing(failure: AuthFailure) -> ServiceError:
    return ServiceError("AccessDenied", "Access Denied", 403)


def _s3_malformed(failure: AuthFailure) -> ServiceError:
    code = "AuthorizationQueryParametersError" if failure.presigned else "AuthorizationHeaderMalformed"
    return ServiceError(code, failure.detail, 400)


def _s3_unknown_key(failure: AuthFailure) -> ServiceError:
    return ServiceError("InvalidAccessKeyId", S3_INVALID_KEY, 403, fields=_key_field(failure))


def _s3_bad_signature(failure: AuthFailure) -> ServiceError:
    fields = _key_field(failure)
    if failure.string_to_sign is not None:
        fields["StringToSign"] = failure.string_to_sign
    if failure.signature_provided is not None:
        fields["SignatureProvided"] = failure.signature_provided
    if failure.string_to_sign is not None:
        fields["StringToSignBytes"] = _hex_bytes(failure.string_to_sign)
    if failure.canonical_request is not None:
        fields["CanonicalRequest"] = failure.canonical_request
        fields["CanonicalRequestBytes"] = _hex_bytes(failure.canonical_request)
    return ServiceError("SignatureDoesNotMatch", S3_SIGNATURE_MISMATCH, 403, fields=fields)


def _s3_skewed(failure: AuthFailure) -> ServiceError:
    fields = {
        "RequestTime": failure.request_time or "",
        "ServerTime": _iso(failure.server_time),
        "MaxAllowedSkewMilliseconds": str(MAX_SKEW_SECONDS * 1000),
    }
    return ServiceError("RequestTimeTooSkewed", S3_SKEWED, 403, fields=fields)


def _s3_expired_token(failure: AuthFailure) -> ServiceError:
    return ServiceError("ExpiredToken", S3_EXPIRED_TOKEN, 400)


def _s3_presign_expired(failure: AuthFailure) -> ServiceError:
    fields = {
        "X-Amz-Expires": str(failure.expires or 0),
        "Expires": _iso(_expiry(failure)),
        "ServerTime": _iso(failure.server_time),
    }
    return ServiceError("AccessDenied", "Request has expired", 403, fields=fields)


def _s3_content_sha256(failure: AuthFailure) -> ServiceError:
    fields = {}
    if failure.client_sha256 is not None:
        fields["ClientComputedContentSHA256"] = failure.client_sha256
    if failure.computed_sha256 is not None:
        fields["S3ComputedContentSHA256"] = failure.computed_sha256
    return ServiceError("XAmzContentSHA256Mismatch", S3_CONTENT_SHA256, 400, fields=fields)


_S3: dict[Kind, Callable[[AuthFailure], ServiceError]] = {
    Kind.MISSING: _s3_missing,
    Kind.MALFORMED: _s3_malformed,
    Kind.UNKNOWN_KEY: _s3_unknown_key,
    Kind.BAD_SIGNATURE: _s3_bad_signature,
    Kind.NOT_YET_VALID: _s3_skewed,
    Kind.EXPIRED_SIGNATURE: _s3_skewed,
    Kind.EXPIRED_TOKEN: _s3_expired_token,
    Kind.PRESIGN_EXPIRED: _s3_presign_expired,
    Kind.CONTENT_SHA256_MISMATCH: _s3_content_sha256,
}


def _key_field(failure: AuthFailure) -> dict[str, str]:
    return {"AWSAccessKeyId": failure.access_key_id} if failure.access_key_id else {}


def _hex_bytes(text: str) -> str:
    """S3's `...Bytes` form: each UTF-8 byte as two hex digits, separated by spaces."""
    return " ".join(f"{byte:02x}" for byte in text.encode("utf-8"))


def _expiry(failure: AuthFailure) -> float | None:
    if failure.request_time is None:
        return None
    return amz_epoch(failure.request_time) + (failure.expires or 0)


def _iso(epoch: float | None) -> str:
    return "" if epoch is None else clock.iso8601(clock.from_epoch(epoch))
