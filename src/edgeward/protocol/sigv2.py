"""S3's Signature Version 2: presigned URLs (`?AWSAccessKeyId=&Signature=&Expires=`) and the
`Authorization: AWS <key>:<signature>` header.

boto3 and `aws s3 presign` still presign with SigV2 in the older regions (us-east-1 among them), also against
a custom endpoint, so a compatible server must check it. The signature is base64 HMAC-SHA1 over

    METHOD \\n Content-MD5 \\n Content-Type \\n Expires (or Date) \\n x-amz-* headers \\n /bucket/key?subresources

where the resource always names the bucket in its path, even when the Host named it (virtual hosting).
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hmac
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

from edgeward.protocol.http import HttpRequest
from edgeward.protocol.sigv4_failure import AuthFailure, AuthFailureKind, malformed
from edgeward.protocol.sigv4_read import SignedRequest, format_amz_date

# The query parameters that are part of the signed resource (botocore's list, `HmacV1Auth.QSAOfInterest`).
SUBRESOURCES = frozenset(
    [
        "accelerate",
        "acl",
        "analytics",
        "cors",
        "defaultObjectAcl",
        "delete",
        "inventory",
        "lifecycle",
        "location",
        "logging",
        "metrics",
        "notification",
        "object-lock",
        "partNumber",
        "policy",
        "replication",
        "requestPayment",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "response-content-language",
        "response-content-type",
        "response-expires",
        "restore",
        "select",
        "select-type",
        "storageClass",
        "tagging",
        "torrent",
        "uploadId",
        "uploads",
        "versionId",
        "versioning",
        "versions",
        "website",
    ]
)
_HEADER_PREFIX = "AWS "
_SIGNATURE_BYTES = 20  # HMAC-SHA1


def read_signature(request: HttpRequest) -> SignedRequest | None:
    """The SigV2 claim of `request`, None when it makes none (it may still be SigV4 or anonymous)."""
    authorization = request.headers.get("authorization")
    query_form = "AWSAccessKeyId" in request.query_string and _is_v2_query(request)
    if authorization is not None and authorization.startswith(_HEADER_PREFIX):
        if query_form:
            raise _only_one()
        return _from_header(request, authorization[len(_HEADER_PREFIX) :])
    if not query_form:
        return None
    if authorization is not None:
        raise _only_one()
    return _from_query(request)


def verify(request: HttpRequest, signed: SignedRequest, secret_access_key: str) -> None:
    """Raise `AuthFailure(BAD_SIGNATURE)` unless `signed.signature` signs `request` with this secret."""
    provided = signed.signature
    candidates = [string_to_sign(request, signed)]
    if not signed.presigned and "x-amz-date" in request.headers:
        candidates.append(string_to_sign(request, signed, date_line=""))  # some signers blank Date then
    for to_sign in candidates:
        mac = hmac.digest(secret_access_key.encode("utf-8"), to_sign.encode("utf-8"), "sha1")
        if hmac.compare_digest(base64.b64encode(mac).decode("ascii"), provided):
            return
    raise AuthFailure(
        AuthFailureKind.BAD_SIGNATURE,
        "The request signature we calculated does not match the signature you provided.",
        access_key_id=signed.access_key_id,
        presigned=signed.presigned,
        string_to_sign=candidates[0],
        signature_provided=provided,
    )


def string_to_sign(request: HttpRequest, signed: SignedRequest, *, date_line: str | None = None) -> str:
    query = _query_values(request) if signed.presigned else {}
    headers = request.headers
    if date_line is None:
        date_line = query.get("Expires", "") if signed.presigned else headers.get("date", "")
    lines = [
        request.method.upper(),
        headers.get("content-md5", query.get("content-md5", "")).strip(),
        headers.get("content-type", query.get("content-type", "")).strip(),
        date_line.strip(),
    ]
    lines.extend(f"{name}:{value}" for name, value in sorted(_amz_headers(request, query).items()))
    return "\n".join(lines) + "\n" + canonical_resource(request, signed.virtual_bucket)


def canonical_resource(request: HttpRequest, virtual_bucket: str | None) -> str:
    """The path as sent (with the bucket a virtual host named put in front), then the signed subresources
    sorted by name, values decoded, the way botocore builds them."""
    path = request.raw_path or "/"
    if virtual_bucket:
        path = f"/{virtual_bucket}{path}"
    pairs = [part.split("=", 1) for part in request.query_string.split("&") if part]
    kept = sorted(
        (pair for pair in pairs if pair[0] in SUBRESOURCES),
        key=lambda pair: pair[0],
    )
    if not kept:
        return path
    return path + "?" + "&".join(pair[0] if len(pair) == 1 else f"{pair[0]}={unquote(pair[1])}" for pair in kept)


# ----------------------------------------------------------------------------------------- reading


def _is_v2_query(request: HttpRequest) -> bool:
    query = request.query
    return "AWSAccessKeyId" in query and "Signature" in query and "X-Amz-Algorithm" not in query


def _only_one() -> AuthFailure:
    return malformed(
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
        "parameter or the Authorization header should be specified",
        presigned=True,
    )


def _from_query(request: HttpRequest) -> SignedRequest:
    query = request.query
    access_key_id, expires_text = query["AWSAccessKeyId"], query.get("Expires", "")
    if not expires_text.isdecimal() or not expires_text.isascii():
        raise malformed(
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters", presigned=True
        )
    expires = int(expires_text)
    return _claim(
        access_key_id,
        query["Signature"],
        # A SigV2 URL says only when it expires: `amz_date` holds that moment (see `check_time`).
        format_amz_date(expires),
        presigned=True,
        token=query.get("x-amz-security-token") or request.headers.get("x-amz-security-token"),
    )


def _from_header(request: HttpRequest, credential: str) -> SignedRequest:
    access_key_id, colon, signature = credential.strip().rpartition(":")
    if not colon or not access_key_id:
        raise malformed("The Authorization header must have the form 'AWS <AWSAccessKeyId>:<Signature>'.")
    date = request.headers.get("x-amz-date") or request.headers.get("date")
    if date is None:
        raise malformed("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    return _claim(
        access_key_id,
        signature,
        format_amz_date(_http_date(date)),
        presigned=False,
        token=request.headers.get("x-amz-security-token"),
    )


def _claim(access_key_id: str, signature: str, amz_date: str, *, presigned: bool, token: str | None) -> SignedRequest:
    signature = signature.strip().replace(" ", "+")  # a '+' left unencoded in a URL reads as a space
    if not access_key_id.isascii() or not access_key_id.isalnum():
        raise malformed(f"'{access_key_id[:64]}' is not a valid access key id.", presigned=presigned)
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _SIGNATURE_BYTES:
        raise malformed("The SigV2 signature must be a base64-encoded HMAC-SHA1.", presigned=presigned)
    return SignedRequest(
        access_key_id=access_key_id,
        date=amz_date[:8],
        region="",
        service="s3",
        amz_date=amz_date,
        signed_headers=(),
        signature=signature,
        presigned=presigned,
        security_token=token,
        expires=0 if presigned else None,
        version=2,
    )


def _query_values(request: HttpRequest) -> dict[str, str]:
    """Presigned parameters by name; botocore moves `x-amz-*`, Content-Type and Content-MD5 into the query."""
    values: dict[str, str] = {}
    for key, value in request.query_pairs:
        name = (
            key.lower() if key.lower().startswith("x-amz-") or key.lower() in ("content-type", "content-md5") else key
        )
        values.setdefault(name, value)
    return values


def _amz_headers(request: HttpRequest, query: dict[str, str]) -> dict[str, str]:
    found = {name: value.strip() for name, value in query.items() if name.startswith("x-amz-")}
    for name, value in request.headers.items():
        if name.startswith("x-amz-"):
            found[name] = value.strip()
    return found


def _http_date(text: str) -> float:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise malformed(f"The Date header '{text}' is not an RFC 7231 date.") from None
    return float(calendar.timegm(moment.utctimetuple()))
