"""A small SigV4 signer, so the agent can call edgeward's APIs with its temporary credentials without an SDK.

Signs header-style (`Authorization: AWS4-HMAC-SHA256 ...`) with `x-amz-date`, `x-amz-security-token` and, for
S3, `x-amz-content-sha256`. Paths are expected already URI-encoded (what goes on the wire).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

from edgeward.agent.credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"


def sign(
    method: str,
    host: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    credentials: Credentials,
    region: str,
    service: str,
    now: datetime | None = None,
) -> dict[str, str]:
    """The headers to send: `headers` plus host, date, token and Authorization."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    payload_hash = hashlib.sha256(body).hexdigest()
    signed = {key.lower(): value.strip() for key, value in headers.items()}
    signed.update({"host": host, "x-amz-date": amz_date, "x-amz-security-token": credentials.session_token})
    if service == "s3":
        signed["x-amz-content-sha256"] = payload_hash
    names = sorted(signed)
    canonical = "\n".join(
        [
            method,
            _canonical_path(path, service),
            _canonical_query(query),
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            payload_hash,
        ]
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _signing_key(credentials.secret_access_key, amz_date[:8], region, service)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    signed["authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return signed


def _canonical_path(path: str, service: str) -> str:
    # S3 signs the path as sent; the other services sign it encoded once more.
    return path if service == "s3" else quote(path, safe="/-_.~")


def _canonical_query(query: Mapping[str, str]) -> str:
    return "&".join(f"{quote(key, safe='-_.~')}={quote(value, safe='-_.~')}" for key, value in sorted(query.items()))


def _signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), day.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key
