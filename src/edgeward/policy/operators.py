"""The value tests behind each condition operator family (spec 4.4).

Each test answers one question: does this request value match *any* of the policy's values? Negation,
`IfExists`, set prefixes and absent keys are handled one level up, in `conditions`.
Policy values are parsed once, when the document is compiled; a policy value that does not parse
(a date that is not a date) simply never matches.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import operator
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from edgeward.policy.context import ConditionContext
from edgeward.policy.matching import WildcardPattern
from edgeward.policy.variables import Template, Variable

Comparison = Callable[[Any, Any], bool]
_EPOCH = re.compile(r"^-?\d+(?:\.\d+)?$")


class ValueTest(Protocol):
    variables: tuple[Variable, ...]

    def match(self, value: str, context: ConditionContext) -> bool: ...


def _variables(templates: Sequence[Template]) -> tuple[Variable, ...]:
    return tuple(v for t in templates for v in t.variables)


class Equals:
    """StringEquals (and, with `fold`, StringEqualsIgnoreCase)."""

    __slots__ = ("_dynamic", "_fold", "_static", "variables")

    def __init__(self, templates: Sequence[Template], *, fold: bool) -> None:
        self._fold = fold
        self._static = frozenset(self._norm(t.text) for t in templates if t.is_static)
        self._dynamic = tuple(t for t in templates if not t.is_static)
        self.variables = _variables(templates)

    def _norm(self, text: str) -> str:
        return text.lower() if self._fold else text

    def match(self, value: str, context: ConditionContext) -> bool:
        wanted = self._norm(value)
        if wanted in self._static:
            return True
        for template in self._dynamic:
            rendered = template.render(context)
            if rendered is not None and self._norm(rendered) == wanted:
                return True
        return False


class Like:
    """StringLike (whole-string wildcards) and ArnLike/ArnEquals (per-segment wildcards)."""

    __slots__ = ("_patterns", "variables")

    def __init__(self, templates: Sequence[Template], *, arn: bool) -> None:
        self._patterns = tuple(WildcardPattern(t, arn=arn) for t in templates)
        self.variables = _variables(templates)

    def match(self, value: str, context: ConditionContext) -> bool:
        return any(p.matches(value, context) for p in self._patterns)


def parse_number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_date(text: str) -> datetime | None:
    try:
        if _EPOCH.match(text):
            return datetime.fromtimestamp(float(text), UTC)
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Compare:
    """Numeric* and Date* operators: a parser for both sides and a comparison."""

    __slots__ = ("_compare", "_parse", "_values", "variables")

    def __init__(self, texts: Sequence[str], parse: Callable[[str], object | None], compare: Comparison) -> None:
        self._parse = parse
        self._compare = compare
        self._values = tuple(v for v in (parse(t) for t in texts) if v is not None)
        self.variables: tuple[Variable, ...] = ()

    def match(self, value: str, context: ConditionContext) -> bool:
        parsed = self._parse(value)
        if parsed is None:
            return False
        return any(self._compare(parsed, wanted) for wanted in self._values)


class Boolean:
    __slots__ = ("_values", "variables")

    def __init__(self, texts: Sequence[str]) -> None:
        self._values = frozenset(t.lower() for t in texts)
        self.variables: tuple[Variable, ...] = ()

    def match(self, value: str, context: ConditionContext) -> bool:
        return value.lower() in self._values


def _decode(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


class Binary:
    __slots__ = ("_values", "variables")

    def __init__(self, texts: Sequence[str]) -> None:
        self._values = frozenset(v for v in (_decode(t) for t in texts) if v is not None)
        self.variables: tuple[Variable, ...] = ()

    def match(self, value: str, context: ConditionContext) -> bool:
        decoded = _decode(value)
        return decoded is not None and decoded in self._values


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(text: str) -> Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


class IpRange:
    __slots__ = ("_networks", "variables")

    def __init__(self, texts: Sequence[str]) -> None:
        self._networks = tuple(n for n in (_network(t) for t in texts) if n is not None)
        self.variables: tuple[Variable, ...] = ()

    def match(self, value: str, context: ConditionContext) -> bool:
        try:
            address = ipaddress.ip_address(value.strip())
        except ValueError:
            return False
        return any(address.version == n.version and address in n for n in self._networks)


COMPARISONS: dict[str, Comparison] = {
    "equals": operator.eq,
    "lessthan": operator.lt,
    "lessthanequals": operator.le,
    "greaterthan": operator.gt,
    "greaterthanequals": operator.ge,
}
