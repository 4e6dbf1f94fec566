"""The `Condition` element: operators, `...IfExists`, `Null`, `ForAllValues:`/`ForAnyValue:` (spec 4.4).

Semantics, for one operator and one key:
- several policy values for the key are ORed; several keys, and several operators, are ANDed;
- key absent from the request: positive operators are false, negated ones (`StringNotEquals`,
  `NotIpAddress`, `ArnNotLike`, ...) are true; `...IfExists` is true; `ForAllValues:` is true (vacuously),
  `ForAnyValue:` is false; `Null: {"k": "true"}` is true;
- a multivalued key used with a plain operator matches when any of its values does (negated: when none
  does);
- a policy value holding a variable that cannot be resolved matches nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from edgeward.policy import errors
from edgeward.policy.context import ConditionContext
from edgeward.policy.errors import PolicyError, Reason
from edgeward.policy.operators import (
    COMPARISONS,
    Binary,
    Boolean,
    Compare,
    Comparison,
    Equals,
    IpRange,
    Like,
    ValueTest,
    parse_date,
    parse_number,
)
from edgeward.policy.variables import Template


class SetOp(Enum):
    ALL = "ForAllValues"
    ANY = "ForAnyValue"


Builder = Callable[[Sequence[str], bool], ValueTest]


def _templates(texts: Sequence[str], variables: bool) -> list[Template]:
    return [Template(t, variables=variables) for t in texts]


def _string_builders() -> dict[str, tuple[Builder, bool]]:
    return {
        "stringequals": (lambda v, x: Equals(_templates(v, x), fold=False), False),
        "stringnotequals": (lambda v, x: Equals(_templates(v, x), fold=False), True),
        "stringequalsignorecase": (lambda v, x: Equals(_templates(v, x), fold=True), False),
        "stringnotequalsignorecase": (lambda v, x: Equals(_templates(v, x), fold=True), True),
        "stringlike": (lambda v, x: Like(_templates(v, x), arn=False), False),
        "stringnotlike": (lambda v, x: Like(_templates(v, x), arn=False), True),
        "arnequals": (lambda v, x: Like(_templates(v, x), arn=True), False),
        "arnlike": (lambda v, x: Like(_templates(v, x), arn=True), False),
        "arnnotequals": (lambda v, x: Like(_templates(v, x), arn=True), True),
        "arnnotlike": (lambda v, x: Like(_templates(v, x), arn=True), True),
    }


def _compare(parse: Callable[[str], object | None], compare: Comparison) -> Builder:
    def build(values: Sequence[str], _: bool) -> ValueTest:
        return Compare(values, parse, compare)

    return build


def _ordered_builders() -> dict[str, tuple[Builder, bool]]:
    table: dict[str, tuple[Builder, bool]] = {}
    parsers: tuple[tuple[str, Callable[[str], object | None]], ...] = (
        ("numeric", parse_number),
        ("date", parse_date),
    )
    for family, parse in parsers:
        for suffix, compare in COMPARISONS.items():
            table[family + suffix] = (_compare(parse, compare), False)
        table[family + "notequals"] = (_compare(parse, COMPARISONS["equals"]), True)
    return table


_BUILDERS: dict[str, tuple[Builder, bool]] = {
    **_string_builders(),
    **_ordered_builders(),
    "bool": (lambda v, x: Boolean(v), False),
    "binaryequals": (lambda v, x: Binary(v), False),
    "ipaddress": (lambda v, x: IpRange(v), False),
    "notipaddress": (lambda v, x: IpRange(v), True),
}


@dataclass(frozen=True, slots=True)
class Clause:
    """One operator applied to one key, e.g. `StringLikeIfExists` on `s3:prefix`."""

    operator: str
    key: str
    folded: str
    test: ValueTest | None  # None for Null
    negated: bool = False
    if_exists: bool = False
    set_op: SetOp | None = None
    null_expect: frozenset[bool] = frozenset()

    def holds(self, context: ConditionContext) -> bool:
        values = context.values(self.folded)
        if self.test is None:
            return (not values) in self.null_expect
        if not values:
            if self.if_exists or self.set_op is SetOp.ALL:
                return True
            return self.negated if self.set_op is None else False
        test = self.test
        if self.set_op is SetOp.ALL:
            return all(test.match(v, context) != self.negated for v in values)
        if self.set_op is SetOp.ANY:
            return any(test.match(v, context) != self.negated for v in values)
        return any(test.match(v, context) for v in values) != self.negated

    def missing(self, context: ConditionContext) -> Iterable[str]:
        """Context keys this clause refers to that the request does not carry."""
        if context.values(self.folded) is None:
            yield self.key
        if self.test is not None:
            for variable in self.test.variables:
                if variable.default is None and context.single(variable.folded) is None:
                    yield variable.key


@dataclass(frozen=True, slots=True)
class ConditionBlock:
    clauses: tuple[Clause, ...]

    def holds(self, context: ConditionContext) -> bool:
        return all(clause.holds(context) for clause in self.clauses)

    def missing(self, context: ConditionContext) -> Iterable[str]:
        for clause in self.clauses:
            yield from clause.missing(context)


def _invalid_operator(name: str) -> PolicyError:
    return PolicyError(Reason.CONDITION_INVALID, f"Invalid Condition type : {name}")


def _split_operator(name: str) -> tuple[SetOp | None, str, bool]:
    set_op: SetOp | None = None
    rest = name
    prefix, colon, base = name.partition(":")
    if colon:
        set_op = next((s for s in SetOp if s.value.lower() == prefix.lower()), None)
        if set_op is None:
            raise _invalid_operator(name)
        rest = base
    if_exists = rest.lower().endswith("ifexists")
    if if_exists:
        rest = rest[: -len("ifexists")]
    return set_op, rest.lower(), if_exists


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise errors.syntax()


def _values(raw: object) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise errors.syntax()
    return [_text(item) for item in items]


def _null_clause(name: str, key: str, values: list[str], set_op: SetOp | None, if_exists: bool) -> Clause:
    if set_op is not None or if_exists:
        raise _invalid_operator(name)
    expect = frozenset(v.lower() == "true" for v in values if v.lower() in ("true", "false"))
    return Clause(name, key, key.lower(), None, null_expect=expect)


def _clause(name: str, key: str, raw: object, variables: bool) -> Clause:
    if not isinstance(key, str) or ":" not in key:
        raise errors.missing_vendor()
    values = _values(raw)
    set_op, base, if_exists = _split_operator(name)
    if base == "null":
        return _null_clause(name, key, values, set_op, if_exists)
    found = _BUILDERS.get(base)
    if found is None:
        raise _invalid_operator(name)
    build, negated = found
    test = build(values, variables)
    return Clause(name, key, key.lower(), test, negated, if_exists, set_op)


def condition_block(raw: object, *, variables: bool) -> ConditionBlock | None:
    """Compile a `Condition` element; None when it is empty (the statement is unconditional)."""
    if not isinstance(raw, dict):
        raise errors.syntax()
    clauses: list[Clause] = []
    for name, keys in raw.items():
        if not isinstance(keys, dict) or not keys:
            raise errors.syntax()
        for key, value in keys.items():
            clauses.append(_clause(name, key, value, variables))
    return ConditionBlock(tuple(clauses)) if clauses else None
