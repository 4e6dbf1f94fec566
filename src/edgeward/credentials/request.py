"""What a device asks for: `GET /role-aliases/{roleAlias}/credentials`, optionally `x-amzn-iot-thingname`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from edgeward.credentials import errors

THING_NAME_HEADER = "x-amzn-iot-thingname"

_PATH = re.compile(r"/role-aliases/([^/]+)/credentials")
# CreateRoleAlias's constraints on the name (IoT model): 1..128 of [\w=,@-].
_ALIAS = re.compile(r"[\w=,@-]+", re.ASCII)
_ALIAS_MAX = 128
# CreateThing's constraints on a thing name (IoT model): 1..128 of [a-zA-Z0-9:_-].
_THING = re.compile(r"[a-zA-Z0-9:_-]{1,128}")


@dataclass(frozen=True, slots=True)
class CredentialsRequest:
    """One exchange: the peer certificate (its id is the SHA-256 of its DER), the alias, the thing header."""

    certificate_id: str
    certificate_der: bytes
    role_alias: str
    thing_name: str | None = None


def role_alias_in_path(raw_path: str) -> str | None:
    """The role alias of a credentials path, percent-decoded; None when the path is not one."""
    match = _PATH.fullmatch(raw_path)
    if match is None:
        return None
    return unquote(match.group(1), errors="replace")


def check_role_alias(alias: str) -> None:
    """The model's constraints on `roleAlias`, worded as AWS's validation errors."""
    prefix = f"1 validation error detected: Value '{alias}' at 'roleAlias' failed to satisfy constraint: "
    if len(alias) > _ALIAS_MAX:
        raise errors.invalid_role_alias(prefix + f"Member must have length less than or equal to {_ALIAS_MAX}")
    if _ALIAS.fullmatch(alias) is None:
        raise errors.invalid_role_alias(prefix + r"Member must satisfy regular expression pattern: [\w=,@-]+")


def is_thing_name(name: str) -> bool:
    """Whether `name` could name a thing at all (one that could not is refused like an unknown thing)."""
    return _THING.fullmatch(name) is not None
