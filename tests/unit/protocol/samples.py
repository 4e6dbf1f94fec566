"""Sample values generated from botocore shapes, for round-trip tests of the codecs.

`sample(shape)` fills every member (recursion bounded) with a value of the right type: enums take their first
value, lengths and ranges respect min/max, timestamps are whole seconds in UTC. Patterns are not honoured:
round-trip tests decode without constraint validation, which has tests of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.model import Shape

WHEN = datetime(2024, 5, 17, 12, 30, 45, tzinfo=UTC)


def sample(shape: Shape, depth: int = 0, name: str = "v") -> Any:
    kind = shape.type_name
    if kind == "structure":
        if depth > 4:
            return {}
        result: dict[str, Any] = {}
        for member_name, member in shape.members.items():  # type: ignore[attr-defined]
            if member.metadata.get("eventstream") or member.serialization.get("eventstream"):
                continue
            if member.type_name == "structure" and member.metadata.get("exception"):
                continue
            value = sample(member, depth + 1, member_name)
            if value is not None:
                result[member_name] = value
        return result
    if kind == "list":
        if depth > 4:
            return []
        item = sample(shape.member, depth + 1, name)  # type: ignore[attr-defined]
        return [] if item is None else [item]
    if kind == "map":
        if depth > 4:
            return {}
        value = sample(shape.value, depth + 1, name)  # type: ignore[attr-defined]
        key = sample(shape.key, depth + 1, "key")  # type: ignore[attr-defined]
        return {key: value}
    if kind == "string":
        enum = shape.metadata.get("enum")
        if enum:
            return enum[0]
        return _string(shape, name)
    if kind in ("integer", "long"):
        low = shape.metadata.get("min")
        return int(low) if low is not None and low > 1 else 1
    if kind in ("float", "double"):
        low = shape.metadata.get("min")
        return float(low) if low is not None and low > 1.5 else 1.5
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return WHEN
    if kind == "blob":
        if shape.serialization.get("streaming"):
            return b"payload bytes"
        return b"blob\x00bytes"
    return None


def _string(shape: Shape, name: str) -> str:
    base = f"{name}-value"
    low = shape.metadata.get("min") or 0
    high = shape.metadata.get("max")
    if len(base) < low:
        base = base + "x" * (low - len(base))
    if high is not None and len(base) > high:
        base = base[: max(int(high), 1)]
    return base
