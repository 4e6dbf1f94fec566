"""AWS Signature Version 4, checked on the server side.

Two steps, so that no secret is looked up for a request that could never verify:

1. `read_signature(request)` reads what the request claims (key, scope, date, signed headers, signature)
   from the `Authorization` header or the presigned query parameters. It raises `AuthFailure(MALFORMED)` for
   a garbled claim and returns None when the request carries no authentication at all.
2. `verify(request, signed, secret, now)` checks the clock, rebuilds the canonical request the way botocore
   builds it, and compares signatures in constant time.

`authenticate()` chains both around a secret lookup. Which error each failure becomes on the wire is decided
in `auth_errors`, per protocol.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import Enum
from functools import lru_cache
from urllib.parse import quote, unquote

from edgeward.protocol.http import HttpRequest

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
MAX_SKEW_SECONDS = 15 * 60
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_PREFIX = "STREAMING-"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

_HEX = frozenset("0123456789abcdefABCDEF")
_DIGITS = frozenset("0123456789")
_PRESIGN_REQUIRED = (
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
_PRESIGN_MARKERS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature")
_HEADER_PARTS = ("Credential", "SignedHeaders", "Signature")


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


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What a request claims about its signature, before any secret is looked up."""

    access_key_id: str
    date: str  # yyyymmdd, from the credential scope
    region: str
    service: str  # the signing name in the scope: iam, sts, iot, sagemaker, s3
    amz_date: str  # yyyymmddThhmmssZ
    signed_headers: tuple[str, ...]
    signature: str  # lower-case hex
    presigned: bool
    security_token: str | None = None
    expires: int | None = None  # presigned lifetime in seconds
    version: int = 4  # 2 is reserved for S3 SigV2 presigned URLs

    @property
    def issued_at(self) -> float:
        """`amz_date` as epoch seconds (validated by `read_signature`)."""
        return amz_epoch(self.amz_date)

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{TERMINATOR}"


SecretLookup = Callable[[SignedRequest], str]
"""Returns the secret access key for `signed.access_key_id`; raises `unknown_key()` / `expired_token()`."""


# ----------------------------------------------------------------------------------------- constructors


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


# ----------------------------------------------------------------------------------------- reading


def read_signature(request: HttpRequest) -> SignedRequest | None:
    """The signature the request claims, or None if it carries no authentication at all."""
    authorization = request.headers.get("authorization")
    presign = _presign_params(request)
    if authorization is not None:
        if presign is not None:
            raise malformed(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                "Signature query string parameter or the Authorization header should be specified"
            )
        return _from_header(request, authorization)
    if presign is not None:
        return _from_query(request, presign)
    return None


def _presign_params(request: HttpRequest) -> dict[str, str] | None:
    query_string = request.query_string
    if "X-Amz-" not in query_string and "Signature" not in query_string:
        return None
    params = request.query
    if any(marker in params for marker in _PRESIGN_MARKERS):
        return params
    if "AWSAccessKeyId" in params and "Signature" in params:
        raise malformed("AWS Signature Version 2 presigned URLs are not supported yet.", presigned=True)
    return None


def _from_header(request: HttpRequest, authorization: str) -> SignedRequest:
    parts = _authorization_parts(authorization)
    access_key_id, date, region, service = _credential(parts["Credential"], presigned=False)
    amz_date = _header_date(request)
    _check_scope_date(date, amz_date, presigned=False)
    return SignedRequest(
        access_key_id=access_key_id,
        date=date,
        region=region,
        service=service,
        amz_date=amz_date,
        signed_headers=_signed_headers(parts["SignedHeaders"], presigned=False),
        signature=_signature(parts["Signature"], presigned=False),
        presigned=False,
        security_token=request.headers.get("x-amz-security-token"),
    )


def _authorization_parts(authorization: str) -> dict[str, str]:
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise malformed(f"Unsupported Authorization Type: the algorithm must be {ALGORITHM}.")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, equals, value = item.strip().partition("=")
        if not equals or not name or name in parts or name not in _HEADER_PARTS:
            raise malformed(f"'{item.strip()}' is not a valid key=value pair in the Authorization header.")
        parts[name] = value
    absent = [name for name in _HEADER_PARTS if name not in parts]
    if absent:
        raise malformed(" ".join(f"Authorization header requires '{name}' parameter." for name in absent))
    return parts


def _from_query(request: HttpRequest, params: dict[str, str]) -> SignedRequest:
    if params.get("X-Amz-Algorithm") != ALGORITHM:
        raise malformed(f'X-Amz-Algorithm only supports "{ALGORITHM}"', presigned=True)
    if any(not params.get(name) for name in _PRESIGN_REQUIRED):
        raise malformed(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
            "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
            presigned=True,
        )
    access_key_id, date, region, service = _credential(params["X-Amz-Credential"], presigned=True)
    amz_date = params["X-Amz-Date"]
    if not _is_amz_date(amz_date):
        raise malformed(f"X-Amz-Date must be in the ISO8601 Long Format, not '{amz_date}'.", presigned=True)
    _check_scope_date(date, amz_date, presigned=True)
    return SignedRequest(
        access_key_id=access_key_id,
        date=date,
        region=region,
        service=service,
        amz_date=amz_date,
        signed_headers=_signed_headers(params["X-Amz-SignedHeaders"], presigned=True),
        signature=_signature(params["X-Amz-Signature"], presigned=True),
        presigned=True,
        security_token=params.get("X-Amz-Security-Token") or request.headers.get("x-amz-security-token"),
        expires=_expires(params["X-Amz-Expires"]),
    )


class _Invalid(Exception):
    """A malformed part, before it is known whether it came from a header or a presigned query."""


def _credential(text: str, *, presigned: bool) -> tuple[str, str, str, str]:
    try:
        return _parse_credential(text)
    except _Invalid as invalid:
        raise malformed(str(invalid), presigned=presigned) from None


@lru_cache(maxsize=1024)
def _parse_credential(text: str) -> tuple[str, str, str, str]:
    parts = text.split("/")
    if len(parts) != 5 or not all(parts):
        raise _Invalid(f"Credential must have the form <key>/<yyyymmdd>/<region>/<service>/{TERMINATOR}, not '{text}'.")
    access_key_id, date, region, service, terminator = parts
    if not _is_word(access_key_id):
        raise _Invalid(f"'{access_key_id}' is not a valid access key id.")
    if not _is_scope_name(region) or not _is_scope_name(service):
        raise _Invalid(f"Credential should be scoped to a valid region and service, not '{region}/{service}'.")
    if terminator != TERMINATOR:
        raise _Invalid(f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'.")
    if len(date) != 8 or not _DIGITS.issuperset(date):
        raise _Invalid(f"Credential date must be yyyyMMdd, not '{date}'.")
    return access_key_id, date, region, service


def _is_word(text: str) -> bool:
    return text.isascii() and text.replace("_", "a").isalnum()


def _is_scope_name(text: str) -> bool:
    """Region and signing names: lower-case letters, digits and '-' (us-east-1, execute-api)."""
    return text.isascii() and text.replace("-", "a").isalnum() and text == text.lower()


def _signed_headers(text: str, *, presigned: bool) -> tuple[str, ...]:
    try:
        return _parse_signed_headers(text)
    except _Invalid as invalid:
        raise malformed(str(invalid), presigned=presigned) from None


@lru_cache(maxsize=256)
def _parse_signed_headers(text: str) -> tuple[str, ...]:
    names = tuple(text.split(";"))
    if not all(names) or any(name != name.strip().lower() for name in names):
        raise _Invalid(f"SignedHeaders must be lower-case names separated by ';', not '{text}'.")
    if "host" not in names:
        raise _Invalid("'Host' must be a signed header.")
    return names


def _signature(text: str, *, presigned: bool) -> str:
    if len(text) != 64 or not _HEX.issuperset(text):
        raise malformed("Signature must be 64 hexadecimal characters.", presigned=presigned)
    return text.lower()


def _expires(text: str) -> int:
    if not text.isdecimal() or not text.isascii():
        raise malformed("X-Amz-Expires should be a number", presigned=True)
    expires = int(text)
    if expires > MAX_PRESIGN_EXPIRES:
        raise malformed(
            f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES}",
            presigned=True,
        )
    return expires


def _header_date(request: HttpRequest) -> str:
    amz_date = request.headers.get("x-amz-date")
    if amz_date is not None:
        if not _is_amz_date(amz_date):
            raise malformed(f"X-Amz-Date must be in the ISO8601 Long Format, not '{amz_date}'.")
        return amz_date
    http_date = request.headers.get("date")
    if http_date is None:
        raise malformed("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    return _from_http_date(http_date)


def _from_http_date(text: str) -> str:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise malformed(f"The Date header '{text}' is not an RFC 7231 date.") from None
    return format_amz_date(calendar.timegm(moment.utctimetuple()))


def _check_scope_date(date: str, amz_date: str, *, presigned: bool) -> None:
    if amz_date[:8] != date:
        raise malformed(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{date}' != '{amz_date[:8]}', from '{amz_date}'.",
            presigned=presigned,
        )


def _is_amz_date(text: str) -> bool:
    return _amz_date_epoch(text) is not None


def amz_epoch(text: str) -> int:
    """A `yyyymmddThhmmssZ` (validated by `read_signature`) as epoch seconds."""
    epoch = _amz_date_epoch(text)
    if epoch is None:
        raise ValueError(f"not an ISO 8601 basic date-time: {text!r}")
    return epoch


@lru_cache(maxsize=256)
def _amz_date_epoch(text: str) -> int | None:
    if len(text) != 16 or text[8] != "T" or text[15] != "Z" or not _DIGITS.issuperset(text[:8] + text[9:15]):
        return None
    fields = (
        int(text[:4]),
        int(text[4:6]),
        int(text[6:8]),
        int(text[9:11]),
        int(text[11:13]),
        int(text[13:15]),
    )
    year, month, day, hour, minute, second = fields
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    if hour > 23 or minute > 59 or second > 60:
        return None
    return calendar.timegm((year, month, day, hour, minute, second))


def format_amz_date(epoch: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(int(epoch)))


# ----------------------------------------------------------------------------------------- verifying


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
    if signed.version != 4:
        raise malformed("Only AWS Signature Version 4 is supported.", presigned=signed.presigned)
    check_time(signed, now)
    payload_hash, source = _payload_hash(request, signed)
    _check_signature(request, signed, secret_access_key, payload_hash)
    if source is _Payload.CLAIMED and check_content_sha256:
        _check_claimed_hash(request, payload_hash)
    elif source is _Payload.LITERAL and not _unsigned_body_allowed(signed.service, payload_hash):
        raise AuthFailure(
            AuthFailureKind.CONTENT_SHA256_MISMATCH,
            f"x-amz-content-sha256 '{payload_hash}' is not accepted for service '{signed.service}'.",
            access_key_id=signed.access_key_id,
            presigned=signed.presigned,
            client_sha256=payload_hash,
        )


def _unsigned_body_allowed(service: str, payload_hash: str) -> bool:
    """Only S3 takes a body the signature does not cover (presigned URLs, TLS uploads, aws-chunked streams).

    Elsewhere UNSIGNED-PAYLOAD would leave a query-protocol request's parameters, its whole form body, open
    to tampering.
    """
    return service == "s3" and (payload_hash == UNSIGNED_PAYLOAD or payload_hash.startswith(STREAMING_PREFIX))


def check_time(signed: SignedRequest, now: float) -> None:
    """The ±15-minute window for header signatures; X-Amz-Date + X-Amz-Expires for presigned ones."""
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
        if len(declared) == 64 and _HEX.issuperset(declared):
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
    canonical = _canonical_request(request.method, path, query, headers, signed, payload_hash)
    string_to_sign = _string_to_sign(signed, canonical)
    if _matches(signer, string_to_sign, signed.signature):
        return
    alternative = _curl_canonical_request(request, signed, headers, payload_hash)
    if alternative not in (None, canonical) and _matches(
        signer, _string_to_sign(signed, alternative), signed.signature
    ):
        return
    raise AuthFailure(
        AuthFailureKind.BAD_SIGNATURE,
        "The request signature we calculated does not match the signature you provided.",
        access_key_id=signed.access_key_id,
        presigned=signed.presigned,
        string_to_sign=string_to_sign,
        canonical_request=canonical,
        signature_provided=signed.signature,
    )


def _curl_canonical_request(request: HttpRequest, signed: SignedRequest, headers: str, payload_hash: str) -> str | None:
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
    return _canonical_request(request.method, raw_path, request.query_string, headers, signed, payload_hash)


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


def _canonical_request(
    method: str, path: str, query: str, headers: str, signed: SignedRequest, payload_hash: str
) -> str:
    return f"{method}\n{path}\n{query}\n{headers}\n{';'.join(signed.signed_headers)}\n{payload_hash}"


def _string_to_sign(signed: SignedRequest, canonical_request: str) -> str:
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{signed.amz_date}\n{signed.scope}\n{digest}"


def _matches(signer: hmac.HMAC, string_to_sign: str, signature: str) -> bool:
    mac = signer.copy()
    mac.update(string_to_sign.encode("utf-8"))
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


# ----------------------------------------------------------------------------------------- canonical forms


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
