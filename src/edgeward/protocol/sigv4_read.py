"""Reading what a SigV4 request claims (key, scope, date, signed headers, signature), before any secret is
looked up: from the `Authorization` header or from the presigned query parameters, which carry the same parts
and are checked the same way, in the same order.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache

from edgeward.protocol.http import HttpRequest
from edgeward.protocol.sigv4_failure import malformed

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600

HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
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
    version: int = 4  # 2: S3's SigV2 (`sigv2`); a presigned SigV2 URL's `amz_date` is its expiry
    # SigV2 signs the bucket as part of the path: the bucket a virtual-hosted request's Host named.
    virtual_bucket: str | None = None

    @property
    def issued_at(self) -> float:
        """`amz_date` as epoch seconds (validated by `read_signature`)."""
        return amz_epoch(self.amz_date)

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{TERMINATOR}"


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


# ----------------------------------------------------------------------------------------- the two forms


def _from_header(request: HttpRequest, authorization: str) -> SignedRequest:
    parts = _authorization_parts(authorization)
    scope = _credential(parts["Credential"], False)
    amz_date = _header_date(request)
    token = request.headers.get("x-amz-security-token")
    return _claim(scope, amz_date, parts["SignedHeaders"], parts["Signature"], token, None)


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
    if len(parts) != len(_HEADER_PARTS):  # each name is one of them, at most once
        absent = [name for name in _HEADER_PARTS if name not in parts]
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
    scope = _credential(params["X-Amz-Credential"], True)
    amz_date = _amz_date(params["X-Amz-Date"], presigned=True)
    token = params.get("X-Amz-Security-Token") or request.headers.get("x-amz-security-token")
    return _claim(
        scope, amz_date, params["X-Amz-SignedHeaders"], params["X-Amz-Signature"], token, params["X-Amz-Expires"]
    )


def _claim(
    scope: tuple[str, str, str, str],
    amz_date: str,
    signed_headers: str,
    signature: str,
    security_token: str | None,
    expires: str | None,
) -> SignedRequest:
    """The parts both forms carry, checked in one order; only the presigned form has `expires`.

    The first problem found is the one reported, so the callers read the credential and the date first.
    """
    presigned = expires is not None
    access_key_id, date, region, service = scope
    if amz_date[:8] != date:
        raise malformed(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{date}' != '{amz_date[:8]}', from '{amz_date}'.",
            presigned=presigned,
        )
    return SignedRequest(
        access_key_id=access_key_id,
        date=date,
        region=region,
        service=service,
        amz_date=amz_date,
        signed_headers=_signed_headers(signed_headers, presigned),
        signature=_signature(signature, presigned),
        presigned=presigned,
        security_token=security_token,
        expires=None if expires is None else _expires(expires),
    )


# ----------------------------------------------------------------------------------------- the parts


@lru_cache(maxsize=1024)
def _credential(text: str, presigned: bool) -> tuple[str, str, str, str]:
    """`<key>/<yyyymmdd>/<region>/<service>/aws4_request` (a failure is raised each time, never cached)."""
    parts = text.split("/")
    if len(parts) != 5 or not all(parts):
        raise malformed(
            f"Credential must have the form <key>/<yyyymmdd>/<region>/<service>/{TERMINATOR}, not '{text}'.",
            presigned=presigned,
        )
    access_key_id, date, region, service, terminator = parts
    if not _is_word(access_key_id):
        raise malformed(f"'{access_key_id}' is not a valid access key id.", presigned=presigned)
    if not _is_scope_name(region) or not _is_scope_name(service):
        raise malformed(
            f"Credential should be scoped to a valid region and service, not '{region}/{service}'.",
            presigned=presigned,
        )
    if terminator != TERMINATOR:
        raise malformed(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'.",
            presigned=presigned,
        )
    if len(date) != 8 or not _DIGITS.issuperset(date):
        raise malformed(f"Credential date must be yyyyMMdd, not '{date}'.", presigned=presigned)
    return access_key_id, date, region, service


def _is_word(text: str) -> bool:
    return text.isascii() and text.replace("_", "a").isalnum()


def _is_scope_name(text: str) -> bool:
    """Region and signing names: lower-case letters, digits and '-' (us-east-1, execute-api)."""
    return text.isascii() and text.replace("-", "a").isalnum() and text == text.lower()


@lru_cache(maxsize=256)
def _signed_headers(text: str, presigned: bool) -> tuple[str, ...]:
    names = tuple(text.split(";"))
    if not all(names) or any(name != name.strip().lower() for name in names):
        raise malformed(f"SignedHeaders must be lower-case names separated by ';', not '{text}'.", presigned=presigned)
    if "host" not in names:
        raise malformed("'Host' must be a signed header.", presigned=presigned)
    return names


def _signature(text: str, presigned: bool) -> str:
    if len(text) != 64 or not HEX_DIGITS.issuperset(text):
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


# ----------------------------------------------------------------------------------------- dates


def _header_date(request: HttpRequest) -> str:
    amz_date = request.headers.get("x-amz-date")
    if amz_date is not None:
        return _amz_date(amz_date, presigned=False)
    http_date = request.headers.get("date")
    if http_date is None:
        raise malformed("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    return _from_http_date(http_date)


def _amz_date(text: str, *, presigned: bool) -> str:
    if _amz_date_epoch(text) is None:
        raise malformed(f"X-Amz-Date must be in the ISO8601 Long Format, not '{text}'.", presigned=presigned)
    return text


def _from_http_date(text: str) -> str:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise malformed(f"The Date header '{text}' is not an RFC 7231 date.") from None
    return format_amz_date(calendar.timegm(moment.utctimetuple()))


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
