"""Who a request comes from (`Caller`) and the `Principal`/`NotPrincipal` element that names callers.

A caller has a chain of identities, from the account down to itself: a role session is the account, then
the role, then the session. How deep a policy names the caller decides what the grant is worth (spec 4.4):
naming the session or the user grants on its own, naming the role is still bounded by the permissions
boundary and the session policy, naming only the account needs an identity-based allow as well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum

from edgeward.core import arn as arns
from edgeward.core.principal import Principal, PrincipalKind
from edgeward.policy.errors import PolicyError, Reason


class CallerKind(Enum):
    ROOT = "root"
    USER = "user"
    ASSUMED_ROLE = "assumed-role"
    FEDERATED_USER = "federated-user"
    SERVICE = "service"
    WEB_IDENTITY = "web-identity"
    ANONYMOUS = "anonymous"


class Level(IntEnum):
    """How specifically a principal element names the caller."""

    NONE = 0
    ACCOUNT = 1
    PARENT = 2  # the role behind a session, the IAM user behind a federated-user session
    DIRECT = 3  # the user, the session, the service, "*"


_KINDS = {
    PrincipalKind.ROOT: CallerKind.ROOT,
    PrincipalKind.USER: CallerKind.USER,
    PrincipalKind.ASSUMED_ROLE: CallerKind.ASSUMED_ROLE,
    PrincipalKind.FEDERATED_USER: CallerKind.FEDERATED_USER,
}

Identity = tuple[Level, str, frozenset[str]]  # (level, principal type, names that denote it)


@dataclass(frozen=True, slots=True)
class Caller:
    """The requester as policy evaluation sees it.

    `arn` is what denial messages print: the user/session/root ARN, the service principal
    (`credentials.iot.amazonaws.com`), the identity provider for web identity, or `anonymous`.
    """

    kind: CallerKind
    arn: str
    account: str = ""
    parent_arn: str | None = None
    unique_id: str | None = None

    @classmethod
    def of(cls, principal: Principal, *, parent_arn: str | None = None) -> Caller:
        unique: str | None = None
        if principal.kind is PrincipalKind.USER:
            unique = principal.user_id
        elif principal.kind is PrincipalKind.ASSUMED_ROLE:
            unique = principal.user_id.split(":", 1)[0]
        kind = _KINDS[principal.kind]
        return cls(kind, principal.arn, principal.account, parent_arn, unique)

    @classmethod
    def service(cls, name: str) -> Caller:
        return cls(CallerKind.SERVICE, name.lower())

    @classmethod
    def web_identity(cls, provider: str) -> Caller:
        return cls(CallerKind.WEB_IDENTITY, provider)

    @classmethod
    def anonymous(cls) -> Caller:
        return cls(CallerKind.ANONYMOUS, "anonymous")

    @property
    def is_root(self) -> bool:
        return self.kind is CallerKind.ROOT

    def identities(self) -> tuple[Identity, ...]:
        if self.kind is CallerKind.SERVICE:
            return ((Level.DIRECT, "Service", frozenset({self.arn})),)
        if self.kind is CallerKind.WEB_IDENTITY:
            return ((Level.DIRECT, "Federated", frozenset({self.arn})),)
        if self.kind is CallerKind.ANONYMOUS:
            return ()
        chain: list[Identity] = [(Level.ACCOUNT, "AWS", frozenset({self.account, arns.root(self.account)}))]
        if self.kind is CallerKind.ROOT:
            return tuple(chain)
        if self.parent_arn or (self.unique_id and self.kind is CallerKind.ASSUMED_ROLE):
            names = {n for n in (self.parent_arn, self.unique_id) if n}
            chain.append((Level.PARENT, "AWS", frozenset(names)))
        direct = {self.arn}
        if self.unique_id and self.kind is CallerKind.USER:
            direct.add(self.unique_id)
        chain.append((Level.DIRECT, "AWS", frozenset(direct)))
        return tuple(chain)


class PrincipalBlock:
    """A compiled `Principal` or `NotPrincipal` element."""

    __slots__ = ("entries", "negated", "wildcard")

    def __init__(self, entries: Mapping[str, frozenset[str]], *, wildcard: bool, negated: bool) -> None:
        self.entries = dict(entries)
        self.wildcard = wildcard
        self.negated = negated

    def _names(self, identity: Identity) -> bool:
        listed = self.entries.get(identity[1])
        return listed is not None and not listed.isdisjoint(identity[2])

    def level(self, identities: Sequence[Identity]) -> Level:
        """How deeply this element names the caller; NONE when the statement does not apply to it."""
        if self.negated:
            if self.wildcard:
                return Level.NONE
            # NotPrincipal spares a caller only when every identity in its chain is listed.
            spared = bool(identities) and all(self._names(i) for i in identities)
            return Level.NONE if spared else Level.DIRECT
        if self.wildcard:
            return Level.DIRECT
        return max((i[0] for i in identities if self._names(i)), default=Level.NONE)


_ACCOUNT = re.compile(r"^\d{12}$")
_AWS_ARN = re.compile(
    r"^arn:aws[a-z-]*:(?:iam::\d{12}:(?:root|user/.+|role/.+|federated-user/.+)"
    r"|sts::\d{12}:(?:assumed-role/[^/]+/.+|federated-user/.+))$"
)
_UNIQUE_ID = re.compile(r"^A(?:IDA|ROA)[A-Z0-9]{10,}$")
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_FEDERATED = re.compile(r"^\S+$")
_CANONICAL = re.compile(r"^[0-9a-f]{64}$")
_FORMATS = {"Service": _SERVICE, "Federated": _FEDERATED, "CanonicalUser": _CANONICAL}


def _invalid(kind: str, value: object) -> PolicyError:
    shown = value if isinstance(value, str) else str(value)
    return PolicyError(Reason.PRINCIPAL_INVALID, f'Invalid principal in policy: "{kind}":"{shown}"')


def _normalize(kind: str, value: str) -> str:
    if "*" in value or "?" in value:
        raise _invalid(kind, value)  # wildcards are refused in principals, except a lone "*"
    if kind == "AWS":
        if _ACCOUNT.match(value):
            return arns.root(value)
        if _AWS_ARN.match(value) or _UNIQUE_ID.match(value):
            return value
        raise _invalid(kind, value)
    if not _FORMATS[kind].match(value if kind != "Service" else value.lower()):
        raise _invalid(kind, value)
    return value.lower() if kind == "Service" else value


def _values(kind: str, raw: object) -> list[str]:
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values:
        raise _invalid(kind, raw)
    for value in values:
        if not isinstance(value, str):
            raise _invalid(kind, value)
    return values


def principal_block(raw: object, *, negated: bool) -> PrincipalBlock:
    """Compile a `Principal`/`NotPrincipal` value, refusing it with IAM's message when malformed."""
    if raw == "*":
        return PrincipalBlock({}, wildcard=True, negated=negated)
    if not isinstance(raw, dict) or not raw:
        raise PolicyError(Reason.PRINCIPAL_INVALID, "Invalid principal in policy")
    entries: dict[str, frozenset[str]] = {}
    wildcard = False
    for kind, value in raw.items():
        if kind != "AWS" and kind not in _FORMATS:
            raise _invalid(kind, value)
        names: set[str] = set()
        for item in _values(kind, value):
            if item == "*" and kind == "AWS":
                wildcard = True
            else:
                names.add(_normalize(kind, item))
        entries[kind] = frozenset(names)
    return PrincipalBlock(entries, wildcard=wildcard, negated=negated)
