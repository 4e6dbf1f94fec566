"""Constraint checks on a parsed input against its botocore shape, worded as AWS words them.

Type conversion is each codec's job (a query string is all text, JSON has its own types); this module checks
what is left: required members, lengths, ranges, patterns and enums. Messages follow AWS's common form:
`1 validation error detected: Value 'x' at 'userName' failed to satisfy constraint: Member must ...`.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from botocore.model import MapShape, Shape, StructureShape

_MAX_SHOWN = 256

INT_RANGE = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
"""The values botocore's `integer` and `long` shapes can hold, whatever the wire."""


def problems(shape: Shape | None, value: Any) -> list[str]:
    """All constraint violations of `value` (a parsed input dict) against `shape`, in AWS's wording."""
    found: list[str] = []
    if shape is not None:
        _check_structure(shape, value if isinstance(value, dict) else {}, "", found, top=True)
    return found


def message(found: list[str]) -> str:
    noun = "error" if len(found) == 1 else "errors"
    return f"{len(found)} validation {noun} detected: " + "; ".join(found)


def member_path(parent: str, name: str) -> str:
    step = name[:1].lower() + name[1:]
    return f"{parent}.{step}" if parent else step


def _show(shape: Shape, value: Any) -> str:
    if value is None:
        return "Value null"
    if getattr(shape, "serialization", {}).get("sensitive") or shape.metadata.get("sensitive"):
        return "Value '***'"
    text = value if isinstance(value, str) else _java_text(value)
    if len(text) > _MAX_SHOWN:
        text = text[:_MAX_SHOWN] + "..."
    return f"Value '{text}'"


def _java_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _fail(shape: Shape, value: Any, path: str, rule: str, found: list[str]) -> None:
    found.append(f"{_show(shape, value)} at '{path}' failed to satisfy constraint: Member must {rule}")


def _check_structure(
    shape: StructureShape, value: dict[str, Any], path: str, found: list[str], top: bool = False
) -> None:
    for name in shape.required_members:
        if value.get(name) is None:
            member_shape = shape.members[name]
            # Members bound to the URI can never be missing on the wire; the router reports those.
            if top or member_shape.serialization.get("location") != "uri":
                found.append(
                    f"Value null at '{member_path(path, name)}' failed to satisfy constraint: Member must not be null"
                )
    for name, member_value in value.items():
        member_shape = shape.members.get(name)
        if member_shape is None or member_value is None:
            continue
        _check(member_shape, member_value, member_path(path, name), found)


def _check(shape: Shape, value: Any, path: str, found: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        _check_structure(shape, value, path, found)
    elif kind == "list" and isinstance(value, list):
        _check_length(shape, value, len(value), path, found)
        member = shape.member
        for index, item in enumerate(value, start=1):
            if item is not None:
                _check(member, item, f"{path}.{index}.member", found)
    elif kind == "map" and isinstance(value, dict):
        _check_map(shape, value, path, found)
    elif kind == "string" and isinstance(value, str):
        _check_string(shape, value, path, found)
    elif kind == "blob" and isinstance(value, bytes | bytearray):
        _check_length(shape, value, len(value), path, found)
    elif kind in ("integer", "long", "float", "double") and isinstance(value, int | float):
        _check_range(shape, value, path, found)


def _check_map(shape: MapShape, value: dict[str, Any], path: str, found: list[str]) -> None:
    _check_length(shape, value, len(value), path, found)
    for key, item in value.items():
        _check(shape.key, key, f"{path}.key", found)
        if item is not None:
            _check(shape.value, item, f"{path}.value", found)


def _check_string(shape: Shape, value: str, path: str, found: list[str]) -> None:
    _check_length(shape, value, len(value), path, found)
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        _fail(shape, value, path, "satisfy enum value set: [" + ", ".join(enum) + "]", found)
        return
    pattern = shape.metadata.get("pattern")
    if pattern:
        compiled = _compile(pattern)
        if compiled is not None and compiled.fullmatch(value) is None:
            _fail(shape, value, path, f"satisfy regular expression pattern: {pattern}", found)


def _check_length(shape: Shape, value: Any, length: int, path: str, found: list[str]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and length < low:
        _fail(shape, value, path, f"have length greater than or equal to {low}", found)
    elif high is not None and length > high:
        _fail(shape, value, path, f"have length less than or equal to {high}", found)


def _check_range(shape: Shape, value: float, path: str, found: list[str]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        _fail(shape, value, path, f"have value greater than or equal to {low}", found)
    elif high is not None and value > high:
        _fail(shape, value, path, f"have value less than or equal to {high}", found)


@cache
def _compile(pattern: str) -> re.Pattern[str] | None:
    """AWS patterns are Java regular expressions; the few Python cannot read are not enforced."""
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None
