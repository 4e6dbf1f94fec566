"""Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'company-wide'}`, `${*}` `${?}` `${$}`.

Variables exist only in documents of `Version` 2012-10-17; in older documents `${...}` is literal text.
A variable is replaced by the value of a single-valued context key (or its default). When the key is
absent (or multivalued) and there is no default, the text cannot be resolved and the caller treats the
whole value as matching nothing.

A substituted value is always literal: a `*` inside a user name or a tag never acts as a wildcard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edgeward.policy.context import ConditionContext

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_WITH_DEFAULT = re.compile(r"^\s*([^,\s][^,]*?)\s*,\s*'([^']*)'\s*$")
_ESCAPES = frozenset({"*", "?", "$"})


@dataclass(frozen=True, slots=True)
class Variable:
    key: str
    folded: str
    default: str | None


@dataclass(frozen=True, slots=True)
class Escaped:
    char: str


Part = str | Variable | Escaped
# A resolved piece: (text, is_pattern). Pattern text may carry wildcards; other text is literal.
Piece = tuple[str, bool]


def _parse_inner(inner: str) -> Variable | Escaped:
    if inner in _ESCAPES:
        return Escaped(inner)
    found = _WITH_DEFAULT.match(inner)
    if found:
        key, default = found.group(1), found.group(2)
        return Variable(key, key.lower(), default)
    key = inner.strip()
    return Variable(key, key.lower(), None)


def _split(text: str) -> tuple[Part, ...]:
    parts: list[Part] = []
    cursor = 0
    for found in _VARIABLE.finditer(text):
        if found.start() > cursor:
            parts.append(text[cursor : found.start()])
        parts.append(_parse_inner(found.group(1)))
        cursor = found.end()
    if cursor < len(text):
        parts.append(text[cursor:])
    return tuple(parts)


class Template:
    """A policy string compiled once: literal text, wildcards, escapes and variables."""

    __slots__ = ("parts", "text", "variables")

    def __init__(self, text: str, *, variables: bool) -> None:
        self.text = text
        self.parts: tuple[Part, ...] = _split(text) if variables and "${" in text else (text,)
        self.variables: tuple[Variable, ...] = tuple(p for p in self.parts if isinstance(p, Variable))

    @property
    def is_static(self) -> bool:
        return len(self.parts) == 1 and isinstance(self.parts[0], str)

    def pieces(self, context: ConditionContext | None) -> tuple[Piece, ...] | None:
        """The text split into pattern and literal pieces, or None when a variable cannot be resolved."""
        out: list[Piece] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append((part, True))
            elif isinstance(part, Escaped):
                out.append((part.char, False))
            else:
                value = resolve(part, context)
                if value is None:
                    return None
                out.append((value, False))
        return tuple(out)

    def render(self, context: ConditionContext | None) -> str | None:
        """The plain string after substitution (for equality operators), or None when unresolvable."""
        pieces = self.pieces(context)
        return None if pieces is None else "".join(text for text, _ in pieces)

    def __repr__(self) -> str:
        return f"Template({self.text!r})"


def resolve(variable: Variable, context: ConditionContext | None) -> str | None:
    value = context.single(variable.folded) if context is not None else None
    return variable.default if value is None else value
