"""Hypothesis strategies for operation inputs that pass the model's constraints, built from botocore shapes.

`input_strategy(operation, style)` draws a params dict the way a boto3 caller would pass it: required members
always, optional ones when the style asks, strings matching their patterns and lengths, numbers in range, enums
from their set. The first example Hypothesis draws is its simplest, which is what the fail-closed test wants.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.model import OperationModel, Shape
from hypothesis import strategies as st

from tests.fuzzgen.patterns import bounded_pattern, compiled, python_pattern

Strategy = st.SearchStrategy[Any]


@dataclass(frozen=True)
class Style:
    """How generous generation is."""

    optional_members: bool = False
    max_items: int = 2
    extra_text: int = 8  # how far past its minimum length a string may grow
    max_depth: int = 5


MINIMAL = Style()
RICH = Style(optional_members=True, max_items=3, extra_text=24)

# Text that survives as an HTTP header value (botocore sends header members as latin-1 text).
_HEADER_TEXT = st.from_regex(r"[!-~]([ -~]{0,14}[!-~])?", fullmatch=True)
_ANY_TEXT = st.characters(codec="utf-8", exclude_categories=["Cs"])

# Shapes whose pattern Hypothesis cannot meet at the model's length by chance.
SHAPE_OVERRIDES: dict[str, Strategy] = {
    "CertificateId": st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
}


def input_strategy(
    operation: OperationModel, style: Style = MINIMAL, overrides: Mapping[str, Any] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid input for `operation`; `overrides` pins top-level members to a value or a strategy."""
    shape = operation.input_shape
    if shape is None:
        return st.just({})
    return _structure(shape, style, 0, overrides or {}, top=True)


def _structure(shape: Shape, style: Style, depth: int, overrides: Mapping[str, Any], top: bool = False) -> Strategy:
    if shape.metadata.get("document"):
        return st.just({})
    required: dict[str, Strategy] = {}
    optional: dict[str, Strategy] = {}
    wanted = set(shape.required_members)
    for name, member in shape.members.items():
        if name in overrides:
            pinned = overrides[name]
            required[name] = pinned if isinstance(pinned, st.SearchStrategy) else st.just(pinned)
            continue
        if member.serialization.get("eventpayload") or (
            member.type_name == "structure" and member.metadata.get("eventstream")
        ):
            continue
        if name in wanted:
            required[name] = value_strategy(member, style, depth + 1, location=_location(member, top))
        elif style.optional_members and depth < style.max_depth:
            optional[name] = value_strategy(member, style, depth + 1, location=_location(member, top))
    return st.fixed_dictionaries(required, optional=optional)


def _location(member: Shape, top: bool) -> str:
    return str(member.serialization.get("location") or "") if top else ""


def value_strategy(shape: Shape, style: Style, depth: int = 0, location: str = "") -> Strategy:
    kind = shape.type_name
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if kind == "structure":
        return _structure(shape, style, depth, {})
    if kind == "list":
        items = 0 if depth >= style.max_depth else style.max_items
        size = _sizes(low, high, items)
        return st.lists(value_strategy(shape.member, style, depth + 1), min_size=size[0], max_size=size[1])
    if kind == "map":
        size = _sizes(low, high, 0 if depth >= style.max_depth else style.max_items)
        keys, values = value_strategy(shape.key, style, depth + 1), value_strategy(shape.value, style, depth + 1)
        return st.dictionaries(keys, values, min_size=size[0], max_size=size[1])
    if kind == "string":
        return _string(shape, style, location)
    if kind in ("integer", "long"):
        bound = 2**31 if kind == "integer" else 2**63
        return st.integers(
            min_value=-bound if low is None else int(low), max_value=bound - 1 if high is None else int(high)
        )
    if kind in ("float", "double"):
        return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return st.datetimes(datetime(2001, 1, 1), datetime(2099, 1, 1), timezones=st.just(UTC))
    if kind == "blob":
        size = _sizes(low, high, style.extra_text)
        return st.binary(min_size=size[0], max_size=size[1])
    return st.none()


def _sizes(low: int | None, high: int | None, extra: int) -> tuple[int, int]:
    low = int(low or 0)
    upper = low + extra
    return low, upper if high is None else max(low, min(int(high), upper))


def _string(shape: Shape, style: Style, location: str) -> Strategy:
    enum = shape.metadata.get("enum")
    if enum:
        return st.sampled_from(list(enum))
    special = SHAPE_OVERRIDES.get(shape.name)
    if special is not None:
        return special
    low, high = _sizes(shape.metadata.get("min"), shape.metadata.get("max"), style.extra_text)
    if location == "uri":
        low, high = max(low, 1), max(high, 1)  # an empty path segment routes nowhere
    pattern = shape.metadata.get("pattern")
    if pattern and compiled(pattern) is not None:
        bounded = bounded_pattern(pattern, low, high)
        if bounded is not None:
            strategy: Strategy = st.from_regex(bounded, fullmatch=True)
        else:
            # Not one repeated class: let the pattern choose the length, within the model's own bounds.
            least, most = shape.metadata.get("min", 0), shape.metadata.get("max", 1 << 30)
            strategy = st.from_regex(python_pattern(pattern), fullmatch=True).filter(
                lambda text: least <= len(text) <= most
            )
        checker = compiled(pattern)
        assert checker is not None
        strategy = strategy.filter(lambda text: checker.fullmatch(text) is not None)
    elif location in ("header", "headers"):
        strategy = _HEADER_TEXT.filter(lambda text: low <= len(text) <= max(high, low))
    else:
        strategy = st.text(_ANY_TEXT, min_size=low, max_size=high)
    if location in ("header", "headers"):
        strategy = strategy.filter(_header_safe)
    return strategy


def _header_safe(text: str) -> bool:
    return text == text.strip() and all(" " <= char <= "~" for char in text)
