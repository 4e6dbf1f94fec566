"""Identifiers in AWS's formats: access key ids, secrets, unique ids, request ids, account ids."""

from __future__ import annotations

import secrets
import string
import uuid

_BASE32 = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "/+"


def _random(alphabet: str, length: int) -> str:
    """`length` characters drawn uniformly from `alphabet` (at most 256 symbols), from one read of the OS's
    random source: bytes at or above the largest multiple of the alphabet's size are dropped, so no symbol
    is more likely than another."""
    size = len(alphabet)
    limit = 256 - 256 % size
    chars: list[str] = []
    while len(chars) < length:
        chars.extend(alphabet[byte % size] for byte in secrets.token_bytes(length + 8) if byte < limit)
    return "".join(chars[:length])


def access_key_id(temporary: bool = False) -> str:
    """`AKIA` (long-term) or `ASIA` (temporary) + 16 characters of `[A-Z2-7]`: 20 in all."""
    return ("ASIA" if temporary else "AKIA") + _random(_BASE32, 16)


def secret_access_key() -> str:
    return _random(_SECRET_ALPHABET, 40)


def unique_id(prefix: str) -> str:
    """IAM unique ids: `AIDA` users, `AROA` roles, `AGPA` groups, `ANPA` policies; 21 characters."""
    return prefix + _random(_BASE32, 17)


def request_id() -> str:
    return str(uuid.uuid4())


def account_id() -> str:
    """A 12-digit account id that does not start with 0 (some clients strip leading zeros)."""
    return str(secrets.choice("123456789")) + _random(string.digits, 11)


def is_account_id(value: str) -> bool:
    return len(value) == 12 and value.isdigit()
