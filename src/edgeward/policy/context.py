"""The request context: condition keys and their values, as policies see them.

Key names are case-insensitive (`aws:SourceIp` is `AWS:sourceip`), so they are folded once here, when the
request is built, and never again on the hot path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime

from edgeward.core.principal import Principal, PrincipalKind

ContextValue = str | Sequence[str]

_PRINCIPAL_TYPES = {
    PrincipalKind.ROOT: "Account",
    PrincipalKind.USER: "User",
    PrincipalKind.ASSUMED_ROLE: "AssumedRole",
    PrincipalKind.FEDERATED_USER: "FederatedUser",
}


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ConditionContext:
    """Condition keys → values. A key given as a list is multivalued, even with one element.

    Keys are folded with one dict comprehension per request; values are only looked at when a
    condition or a variable asks for them.
    """

    __slots__ = ("_source", "_values")

    def __init__(self, values: Mapping[str, ContextValue] | None = None) -> None:
        self._source: Mapping[str, ContextValue] = values or {}
        self._values: dict[str, ContextValue] = {k.lower(): v for k, v in self._source.items()}

    def values(self, key: str) -> tuple[str, ...] | None:
        """All values of a key (`key` already lower-case), or None when the request does not carry it."""
        found = self._values.get(key)
        if found is None:
            return None
        if isinstance(found, str):
            return (found,)
        return tuple(v if isinstance(v, str) else _as_text(v) for v in found)

    def single(self, key: str) -> str | None:
        """The value of a single-valued key, or None when absent or multivalued (unusable as a variable)."""
        found = self._values.get(key)
        return found if isinstance(found, str) else None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._source)

    def __len__(self) -> int:
        return len(self._values)


def principal_keys(principal: Principal, *, parent_arn: str | None = None) -> dict[str, ContextValue]:
    """The global condition keys that describe the caller (`aws:username`, `aws:userid`, tags, ...).

    `parent_arn` is the role ARN behind an assumed-role session (AWS's `aws:PrincipalArn` is the role's ARN,
    not the session's) or the IAM user behind a federated-user session.
    """
    keys: dict[str, ContextValue] = {
        "aws:userid": principal.user_id,
        "aws:PrincipalAccount": principal.account,
        "aws:PrincipalArn": parent_arn or principal.arn,
        "aws:PrincipalType": _PRINCIPAL_TYPES[principal.kind],
    }
    if principal.kind is PrincipalKind.USER:
        keys["aws:username"] = principal.name
    for tag, value in principal.tags.items():
        keys[f"aws:PrincipalTag/{tag}"] = value
    return keys


def request_keys(
    *,
    now: datetime,
    secure_transport: bool | None = None,
    source_ip: str | None = None,
    user_agent: str | None = None,
    token_issue_time: datetime | None = None,
) -> dict[str, ContextValue]:
    """The global condition keys that describe the request itself (time, transport, origin)."""
    keys: dict[str, ContextValue] = {
        "aws:CurrentTime": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
    }
    if secure_transport is not None:
        keys["aws:SecureTransport"] = "true" if secure_transport else "false"
    if source_ip:
        keys["aws:SourceIp"] = source_ip
    if user_agent:
        keys["aws:UserAgent"] = user_agent
    if token_issue_time is not None:
        keys["aws:TokenIssueTime"] = token_issue_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return keys
