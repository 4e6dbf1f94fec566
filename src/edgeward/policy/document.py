"""Parsing and validating a policy document into its immutable compiled form.

`parse_policy(text_or_dict, kind)` either returns a `Policy` or raises `PolicyError` with IAM's
`MalformedPolicyDocument` wording; it raises nothing else. Which rules apply depends on the kind:

- identity policies (also permissions boundaries and session policies) must not name a principal and
  must have `Resource`/`NotResource`;
- resource-based policies must have `Principal`/`NotPrincipal` and `Resource`/`NotResource`;
- role trust policies must have `Principal`/`NotPrincipal`, only `sts:` actions, and no `Resource`.

Size limits are the caller's business.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import lru_cache
from typing import Any

from edgeward.policy import errors
from edgeward.policy.conditions import ConditionBlock, condition_block
from edgeward.policy.errors import PolicyError, Reason
from edgeward.policy.matching import ActionMatcher, ResourceMatcher, action_matcher, resource_matcher
from edgeward.policy.principals import PrincipalBlock, principal_block

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"
_VERSIONS = frozenset({VERSION_2012, VERSION_2008})
_TOP_FIELDS = ("Version", "Id", "Statement")
_STATEMENT_FIELDS = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource"} | {"Condition"}
)
_SID = re.compile(r"^[0-9A-Za-z]*$")
_ACTION_INDEX_LIMIT = 4096


class PolicyKind(Enum):
    IDENTITY = "identity"  # identity-based policies, permissions boundaries, session policies
    RESOURCE = "resource"  # resource-based policies (bucket policies and the like)
    TRUST = "trust"  # role trust policies (AssumeRolePolicyDocument)


class Effect(Enum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True, slots=True)
class Statement:
    index: int
    sid: str | None
    effect: Effect
    actions: ActionMatcher
    resources: ResourceMatcher | None  # None: no Resource element (trust policies)
    principals: PrincipalBlock | None  # None: identity policies
    condition: ConditionBlock | None


@dataclass(frozen=True, slots=True)
class Policy:
    """A compiled policy document. `source_id`/`source_type` say where it came from, for simulation."""

    kind: PolicyKind
    version: str | None
    id: str | None
    statements: tuple[Statement, ...]
    source_id: str = ""
    source_type: str = "none"
    _by_action: dict[str, tuple[Statement, ...]] | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def variables_enabled(self) -> bool:
        return self.version == VERSION_2012

    def with_source(self, source_id: str, source_type: str = "none") -> Policy:
        return replace(self, source_id=source_id, source_type=source_type)

    def for_action(self, action: str) -> tuple[Statement, ...]:
        """The statements whose Action/NotAction covers `action` (lower-case), memoized per action."""
        index = self._by_action
        if index is None:
            index = {}
            object.__setattr__(self, "_by_action", index)
        found = index.get(action)
        if found is None:
            if len(index) >= _ACTION_INDEX_LIMIT:
                index.clear()  # actions named by callers (simulation) must not grow it without bound
            found = tuple(s for s in self.statements if s.actions.matches(action))
            index[action] = found
        return found


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise errors.syntax()
        result[key] = value
    return result


def _reject_constant(_: str) -> None:
    raise errors.syntax()


def _load(document: object) -> dict[str, Any]:
    if isinstance(document, str | bytes):
        try:
            data = json.loads(document, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise errors.syntax() from exc
    else:
        data = document
    if not isinstance(data, Mapping):
        raise errors.syntax()
    return dict(data)


def _unknown_fields(data: Mapping[str, Any], allowed: frozenset[str] | tuple[str, ...]) -> None:
    for name in data:
        if name not in allowed:
            raise errors.unknown_field(str(name))


def _strings(raw: object) -> list[str]:
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise errors.syntax()
    return values


def _pick(data: Mapping[str, Any], name: str) -> tuple[object, bool]:
    """(value, negated) of an element that has a `Not` form, or (None, False) when neither is present."""
    positive, negative = name in data, f"Not{name}" in data
    if positive and negative:
        raise errors.syntax()
    if negative:
        return data[f"Not{name}"], True
    return (data[name], False) if positive else (None, False)


def _effect(data: Mapping[str, Any]) -> Effect:
    raw = data.get("Effect")
    if raw == "Allow":
        return Effect.ALLOW
    if raw == "Deny":
        return Effect.DENY
    # IAM answers a misspelt effect ("allow") from its legacy parser; a missing one is a syntax error.
    raise errors.syntax() if raw is None else errors.legacy()


def _principals(data: Mapping[str, Any], kind: PolicyKind) -> PrincipalBlock | None:
    raw, negated = _pick(data, "Principal")
    if kind is PolicyKind.IDENTITY:
        if raw is not None:
            raise PolicyError(Reason.PRINCIPAL_FORBIDDEN, "Policy document should not specify a principal.")
        return None
    if raw is None:
        raise PolicyError(Reason.PRINCIPAL_MISSING, "Missing required field Principal")
    return principal_block(raw, negated=negated)


def _actions(data: Mapping[str, Any], kind: PolicyKind) -> ActionMatcher:
    raw, negated = _pick(data, "Action")
    values = _strings(raw) if raw is not None else []
    if not values:
        raise PolicyError(Reason.ACTION_MISSING, "Policy statement must contain actions.")
    matcher = action_matcher(values, negated=negated)
    if kind is PolicyKind.TRUST and any(not v.lower().startswith("sts:") for v in values):
        raise PolicyError(Reason.ACTION_INVALID, "AssumeRole policy may only specify STS AssumeRole actions.")
    return matcher


def _resources(data: Mapping[str, Any], kind: PolicyKind, variables: bool) -> ResourceMatcher | None:
    raw, negated = _pick(data, "Resource")
    if kind is PolicyKind.TRUST:
        if raw is not None:
            field = "NotResource" if negated else "Resource"
            raise PolicyError(Reason.RESOURCE_FORBIDDEN, f"Has prohibited field {field}")
        return None
    values = _strings(raw) if raw is not None else []
    if not values:
        raise PolicyError(Reason.RESOURCE_MISSING, "Policy statement must contain resources.")
    return resource_matcher(values, negated=negated, variables=variables)


def _sid(data: Mapping[str, Any], kind: PolicyKind) -> str | None:
    sid = data.get("Sid")
    if sid is None:
        return None
    if not isinstance(sid, str):
        raise errors.syntax()
    if kind is not PolicyKind.RESOURCE and not _SID.match(sid):
        raise PolicyError(
            Reason.SID_INVALID,
            "Statement IDs (SID) must be alpha-numeric. "
            "Check that your input satisfies the regular expression [0-9A-Za-z]*",
        )
    return sid


def _statement(raw: object, index: int, kind: PolicyKind, variables: bool) -> Statement:
    if not isinstance(raw, dict):
        raise errors.syntax()
    _unknown_fields(raw, _STATEMENT_FIELDS)
    sid = _sid(raw, kind)
    effect = _effect(raw)
    principals = _principals(raw, kind)
    actions = _actions(raw, kind)
    resources = _resources(raw, kind, variables)
    condition = condition_block(raw["Condition"], variables=variables) if "Condition" in raw else None
    return Statement(index, sid, effect, actions, resources, principals, condition)


def _legacy_statement(raw: object, index: int, kind: PolicyKind) -> Statement:
    """Without a Version IAM falls back to its legacy parser, whose only complaint is this one."""
    try:
        return _statement(raw, index, kind, False)
    except PolicyError as exc:
        if exc.reason is Reason.SYNTAX:
            raise errors.legacy() from exc
        raise


def _statements(raw: object, kind: PolicyKind, version: str | None) -> tuple[Statement, ...]:
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        raise errors.syntax()
    if version is None:
        statements = tuple(_legacy_statement(item, i, kind) for i, item in enumerate(items))
    else:
        statements = tuple(_statement(item, i, kind, version == VERSION_2012) for i, item in enumerate(items))
    sids = [s.sid for s in statements if s.sid]
    if len(sids) != len(set(sids)):
        raise PolicyError(Reason.SID_DUPLICATE, "Statement IDs (SID) in a single policy must be unique.")
    return statements


def _version(data: Mapping[str, Any]) -> str | None:
    version = data.get("Version")
    if version is not None and version not in _VERSIONS:
        raise errors.syntax()
    return version if isinstance(version, str) else None


def _compile(document: object, kind: PolicyKind) -> Policy:
    data = _load(document)
    _unknown_fields(data, _TOP_FIELDS)
    version = _version(data)
    policy_id = data.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise errors.syntax()
    return Policy(kind, version, policy_id, _statements(data.get("Statement"), kind, version))


@lru_cache(maxsize=2048)
def cached_policy(text: str, kind: PolicyKind = PolicyKind.IDENTITY) -> Policy:
    """`parse_policy` memoized on the document text: stored policies are compiled once per process."""
    return parse_policy(text, kind)


def parse_policy(document: str | bytes | Mapping[str, Any], kind: PolicyKind = PolicyKind.IDENTITY) -> Policy:
    """Compile a policy document (JSON text or an already-decoded dict); raise `PolicyError` if malformed."""
    try:
        return _compile(document, kind)
    except PolicyError:
        raise
    except (TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise errors.syntax() from exc
