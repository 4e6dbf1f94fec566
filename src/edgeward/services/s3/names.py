"""S3 names: bucket-name rules, key limits, resource ARNs and the account's canonical user id."""

from __future__ import annotations

import hashlib
import ipaddress
import re

from edgeward.services.s3 import errors

MAX_KEY_BYTES = 1024
# The S3 general-purpose bucket naming rules (3-63 chars of a-z 0-9 . -, letter or digit at both ends).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_bucket_name(name: str) -> None:
    """InvalidBucketName unless `name` is one S3 would create."""
    if (
        not _BUCKET.match(name)
        or ".." in name
        or ".-" in name
        or "-." in name
        or name.startswith(_RESERVED_PREFIXES)
        or name.endswith(_RESERVED_SUFFIXES)
        or _is_ip_address(name)
    ):
        raise errors.invalid_bucket_name(name)


def check_key(key: str) -> None:
    """KeyTooLongError for keys over 1024 bytes of UTF-8."""
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise errors.key_too_long(size, MAX_KEY_BYTES)


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def canonical_user_id(account: str) -> str:
    """S3's 64-hex canonical user id for an account: stable, and not the account id itself."""
    return hashlib.sha256(f"edgeward-canonical-user:{account}".encode()).hexdigest()


def owner(account: str) -> dict[str, str]:
    return {"ID": canonical_user_id(account), "DisplayName": account}


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True
