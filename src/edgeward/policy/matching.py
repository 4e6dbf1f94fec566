"""Matching actions and resources against a statement's patterns, compiled once per document.

- Actions: `service:Name`, case-insensitive, `*` and `?` wildcards (never in the service prefix).
- Resources and `Arn*` condition values: case-sensitive; `*`/`?` stay inside their colon-separated ARN
  segment for the first five segments, and roam freely (across `/` and `:`) in the resource part. In the
  service segment they are literal characters: AWS does not allow wildcards there.
- `StringLike` values: case-sensitive, `*`/`?` over the whole string.

Patterns without variables become one precompiled regex per statement; patterns with variables are
compiled per distinct substituted text through a bounded cache.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from edgeward.policy import errors
from edgeward.policy.context import ConditionContext
from edgeward.policy.errors import PolicyError, Reason
from edgeward.policy.variables import Piece, Template, Variable

_VENDOR = re.compile(r"^[A-Za-z0-9-]+$")
_SPECIALS = re.compile(r"([*?:])")
_PARTITIONS = frozenset({"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"})


def _translate(pieces: Iterable[Piece], *, arn: bool) -> str:
    out: list[str] = []
    colons = 0
    for text, is_pattern in pieces:
        for chunk in _SPECIALS.split(text):
            if chunk == ":":
                colons += 1
                out.append(":")
            elif is_pattern and chunk in ("*", "?") and not (arn and colons == 2):
                wild = ".*" if chunk == "*" else "."
                out.append(wild.replace(".", "[^:]") if arn and colons < 5 else wild)
            elif chunk:
                out.append(re.escape(chunk))
    return "".join(out)


@lru_cache(maxsize=16384)
def compile_pieces(pieces: tuple[Piece, ...], arn: bool, ignore_case: bool = False) -> re.Pattern[str]:
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(_translate(pieces, arn=arn), flags)


class WildcardPattern:
    """One wildcard pattern, possibly with variables (a `Resource` entry, a `StringLike` value)."""

    __slots__ = ("_regex", "arn", "matches_all", "template")

    def __init__(self, template: Template, *, arn: bool) -> None:
        self.template = template
        self.arn = arn
        self.matches_all = template.text == "*"
        self._regex = compile_pieces(((template.text, True),), arn) if template.is_static else None

    @property
    def variables(self) -> tuple[Variable, ...]:
        return self.template.variables

    def matches(self, value: str, context: ConditionContext | None) -> bool:
        if self.matches_all:
            return True
        regex = self._regex
        if regex is None:
            pieces = self.template.pieces(context)
            if pieces is None:
                return False  # an unresolvable variable matches nothing
            regex = compile_pieces(pieces, self.arn)
        return regex.fullmatch(value) is not None


def _combine(patterns: Sequence[WildcardPattern], arn: bool) -> re.Pattern[str] | None:
    static = [p.template.text for p in patterns if p.template.is_static]
    if not static:
        return None
    body = "|".join(f"(?:{_translate(((text, True),), arn=arn)})" for text in static)
    return re.compile(body, re.DOTALL)


class ResourceMatcher:
    """`Resource` or `NotResource` of one statement."""

    __slots__ = ("_dynamic", "_static", "matches_all", "negated", "patterns", "variables")

    def __init__(self, patterns: Sequence[WildcardPattern], *, negated: bool) -> None:
        self.patterns = tuple(patterns)
        self.negated = negated
        self.matches_all = any(p.matches_all for p in patterns)
        self._static = _combine(patterns, arn=True)
        self._dynamic = tuple(p for p in patterns if not p.template.is_static)
        self.variables: tuple[Variable, ...] = tuple(v for p in self._dynamic for v in p.variables)

    def _listed(self, resource: str, context: ConditionContext | None) -> bool:
        if self.matches_all:
            return True
        if self._static is not None and self._static.fullmatch(resource) is not None:
            return True
        return any(p.matches(resource, context) for p in self._dynamic)

    def matches(self, resource: str, context: ConditionContext | None) -> bool:
        return self._listed(resource, context) != self.negated


class ActionMatcher:
    """`Action` or `NotAction` of one statement; call `matches` with the action already lower-cased."""

    __slots__ = ("_literals", "_regex", "matches_all", "negated")

    def __init__(self, patterns: Sequence[str], *, negated: bool) -> None:
        folded = [p.lower() for p in patterns]
        self.negated = negated
        self.matches_all = "*" in folded
        self._literals = frozenset(p for p in folded if "*" not in p and "?" not in p)
        wild = [p for p in folded if ("*" in p or "?" in p) and p != "*"]
        body = "|".join(f"(?:{_translate(((p, True),), arn=False)})" for p in wild)
        self._regex = re.compile(body, re.DOTALL) if wild else None

    def _listed(self, action: str) -> bool:
        if self.matches_all or action in self._literals:
            return True
        return self._regex is not None and self._regex.fullmatch(action) is not None

    def matches(self, action: str) -> bool:
        return self._listed(action) != self.negated


def check_action(action: str) -> None:
    """Refuse an action pattern the way IAM does."""
    if action == "*":
        return
    if ":" not in action:
        raise errors.missing_vendor()
    if action.count(":") > 1:
        raise PolicyError(Reason.ACTION_INVALID, "Actions/Condition can contain only one colon.")
    vendor = action.split(":", 1)[0]
    if "*" in vendor or "?" in vendor:
        raise PolicyError(Reason.ACTION_INVALID, "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards.")
    if not _VENDOR.match(vendor):
        raise PolicyError(Reason.ACTION_INVALID, f"Vendor {vendor} is not valid")


def check_resource(resource: str) -> None:
    """Refuse a `Resource`/`NotResource` entry the way IAM does."""
    if resource == "*":
        return
    if not resource.startswith("arn:"):
        raise PolicyError(Reason.RESOURCE_INVALID, f'Resource {resource} must be in ARN format or "*".')
    parts = resource.split(":", 5)
    if len(parts) < 6:
        raise errors.legacy()
    partition = parts[1]
    if partition not in _PARTITIONS and "*" not in partition and "?" not in partition:
        raise PolicyError(Reason.RESOURCE_INVALID, f'Partition "{partition}" is not valid for resource "{resource}".')


def action_matcher(actions: Sequence[str], *, negated: bool) -> ActionMatcher:
    for action in actions:
        check_action(action)
    return ActionMatcher(actions, negated=negated)


def resource_matcher(resources: Sequence[str], *, negated: bool, variables: bool) -> ResourceMatcher:
    for resource in resources:
        check_resource(resource)
    patterns = [WildcardPattern(Template(r, variables=variables), arn=True) for r in resources]
    return ResourceMatcher(patterns, negated=negated)
