"""Broken inputs: a valid params dict (shapes.py) with one thing wrong — a required member missing, a value
oversized, out of range, of odd Unicode, breaking its pattern, or of the wrong type.

These work on the params dict, so botocore's serializer still builds the request; what the serializer cannot
carry (wrong JSON types, broken syntax) is wire.py's business.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.model import OperationModel, Shape
from hypothesis import strategies as st

from tests.fuzzgen.shapes import RICH, input_strategy

ODD_TEXT = (
    "\x00",
    "a\x00b",
    "\u202e\u202dreversed",
    "e\u0301\u0301\u0301",
    "\U0001f4a9\U0001f600",
    "\ufeffbom",
    "\uffff\ufffe",
    "line\r\nX-Injected: 1",
    "../../../../etc/passwd",
    "%00%2e%2e%2f",
    "${aws:username}",
    "' OR '1'='1",
    "<![CDATA[x]]>&amp;<x/>",
    "\t \u3000\u00a0",
    "\u0085\u2028\u2029",
    "*",
    "?",
    "/",
    "//",
    ".",
    "..",
    "arn:aws:iam::*:*",
    "arn:::::",
    "{}",
    '{"Version": "2012-10-17", "Statement": [{}]}',
    "\U000e0001\U000e007f",
    "\ud7ff\ue000",
)
BIG_NUMBERS = (2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 10**30, -1, 0)
OVERSIZE = (1, 2, 4096, 70_000, 1_100_000)  # characters past the maximum (or absolute sizes when none)
KINDS = ("missing", "oversized", "odd-unicode", "pattern", "numbers", "wrong-type", "valid")


@dataclass(frozen=True)
class Slot:
    """One value inside a params dict: where it is and what its shape says."""

    path: tuple[str | int, ...]
    shape: Shape
    required: bool


def slots(shape: Shape, value: Any, path: tuple[str | int, ...] = ()) -> Iterator[Slot]:
    """Every value in `value` (walked alongside `shape`), parents before children."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        required = set(shape.required_members)
        for name, item in value.items():
            member = shape.members.get(name)
            if member is not None:
                yield Slot((*path, name), member, name in required)
                yield from slots(member, item, (*path, name))
    elif kind == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            yield Slot((*path, index), shape.member, False)
            yield from slots(shape.member, item, (*path, index))
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            yield Slot((*path, key), shape.value, False)
            yield from slots(shape.value, item, (*path, key))


def _set(params: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    target: Any = params
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


def _get(params: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    target: Any = params
    for step in path:
        target = target[step]
    return target


def _delete(params: dict[str, Any], path: tuple[str | int, ...]) -> None:
    target: Any = params
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]


@dataclass
class Broken:
    kind: str
    where: str
    params: dict[str, Any]


def broken_input(
    operation: OperationModel, overrides: Mapping[str, Any] | None = None, kind: str | None = None
) -> st.SearchStrategy[Broken]:
    """One broken input; `kind` fixes what is broken (one of KINDS), else Hypothesis chooses."""
    kinds = st.just(kind) if kind else st.sampled_from(KINDS)
    return _broken(operation, input_strategy(operation, RICH, overrides), kinds)


@st.composite
def _broken(
    draw: st.DrawFn, operation: OperationModel, valid: st.SearchStrategy[dict[str, Any]], kinds: st.SearchStrategy[str]
) -> Broken:
    params = draw(valid)
    kind = draw(kinds)
    shape = operation.input_shape
    found = list(slots(shape, params)) if shape is not None else []
    choices = [slot for slot in found if _fits(kind, slot)]
    if kind == "valid" or not choices:
        return Broken("valid", "", params)
    slot = draw(st.sampled_from(choices))
    where = ".".join(str(step) for step in slot.path)
    if kind == "missing":
        _delete(params, slot.path)
    else:
        _set(params, slot.path, draw(_replacement(kind, slot.shape, _get(params, slot.path))))
    return Broken(kind, where, params)


def _fits(kind: str, slot: Slot) -> bool:
    type_name = str(slot.shape.type_name)
    if kind == "missing":
        return bool(slot.required and isinstance(slot.path[-1], str))
    if kind == "oversized":
        return type_name in ("string", "list", "blob")
    if kind in ("odd-unicode", "pattern"):
        return type_name == "string"
    if kind == "numbers":
        return type_name in ("integer", "long", "float", "double")
    return kind == "wrong-type"


def _replacement(kind: str, shape: Shape, current: Any) -> st.SearchStrategy[Any]:
    if kind == "oversized":
        return _oversized(shape, current)
    if kind == "odd-unicode":
        return st.one_of(st.sampled_from(ODD_TEXT), st.text(st.sampled_from("".join(ODD_TEXT)), max_size=40))
    if kind == "pattern":
        return st.text(max_size=int(shape.metadata.get("max", 64) or 64))
    if kind == "numbers":
        floats = (math.nan, math.inf, -math.inf, 1e308) if shape.type_name in ("float", "double") else ()
        return st.sampled_from(BIG_NUMBERS + floats)
    # wrong-type, within what serializers accept: text where numbers, booleans or timestamps go, and so on
    return st.sampled_from(_WRONG_TYPES.get(shape.type_name, ("x",)))


_WRONG_TYPES: dict[str, tuple[Any, ...]] = {
    "integer": ("ten", "1.5", "", "0x10"),
    "long": ("ten", "1e3", ""),
    "boolean": ("yes", "2", ""),
    "timestamp": ("yesterday", "2024-13-45T99:99:99Z", "-1"),
    "string": (12, True),
    "float": ("NaN", "one"),
    "double": ("NaN", "one"),
}


def _oversized(shape: Shape, current: Any) -> st.SearchStrategy[Any]:
    high = shape.metadata.get("max")
    extra = st.sampled_from(OVERSIZE)
    if shape.type_name == "list":
        item = current[0] if current else "x"
        return st.just([item] * min(int(high or 1000) + 1, 20_000))
    if shape.type_name == "blob":
        return extra.map(lambda n: b"\x00" * (int(high or 0) + n))
    return extra.map(lambda n: "x" * (int(high or 0) + n))
