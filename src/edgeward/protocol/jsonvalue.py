"""JSON values <-> operation values for botocore shapes, shared by the json (1.1) and rest-json codecs.

Decoding checks each value's JSON type against its shape and converts timestamps (epoch numbers or text) to
aware UTC datetimes and base64 blobs to bytes. A value of the wrong JSON type is a malformed body (AWS answers
`SerializationException` on JSON protocols); a value of the right JSON type that cannot be used (bad base64,
an integer out of range) is invalid input. Constraints (lengths, patterns, required) are `validate`'s job.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import cache
from typing import Any

from botocore.model import Shape

from edgeward.core.errors import ServiceError
from edgeward.protocol import faults
from edgeward.protocol.validate import INT_RANGE, member_path

MAX_DEPTH = 64
"""Deepest nesting of JSON containers accepted; SageMaker's recursive search expressions stay far below it."""

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_EXPECTED = {
    "structure": "an object",
    "map": "an object",
    "list": "an array",
    "string": "a string",
    "boolean": "true or false",
    "integer": "an integer",
    "long": "an integer",
    "float": "a number",
    "double": "a number",
    "timestamp": "a timestamp (epoch seconds or ISO 8601 text)",
    "blob": "base64 text",
}


def _where(path: str) -> str:
    return f"'{path}'" if path else "the top level of the request body"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


@cache
def wire_names(shape: Shape) -> dict[str, str]:
    """A structure's members by the name they carry on the wire (`locationName`)."""
    return {member.serialization.get("name", name): name for name, member in shape.members.items()}


# --- timestamps ------------------------------------------------------------------------------------------


def parse_timestamp(value: str | int | float) -> datetime:
    """Epoch seconds (number or text), ISO 8601 or RFC 822 text -> aware UTC datetime. Raises ValueError."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return _from_epoch(float(text))
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError) as exc:
                raise ValueError(text) from exc
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return _from_epoch(float(value))


def _from_epoch(seconds: float) -> datetime:
    if not math.isfinite(seconds):
        raise ValueError(seconds)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(seconds) from exc


def format_timestamp(value: datetime | str | int | float, fmt: str) -> str | int | float:
    """A timestamp as `unixtimestamp` (a number), `iso8601` or `rfc822` (text)."""
    when = parse_timestamp(value) if not isinstance(value, datetime) else value
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    fmt = fmt.lower()
    if fmt == "iso8601":
        text = when.strftime("%Y-%m-%dT%H:%M:%S")
        return f"{text}.{when.microsecond // 1000:03d}Z" if when.microsecond else f"{text}Z"
    if fmt == "rfc822":
        return format_datetime(when.replace(microsecond=0), usegmt=True)
    seconds = when.timestamp()
    return int(seconds) if when.microsecond == 0 else round(seconds, 6)


# --- decoding --------------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def load(service: str, body: bytes) -> Any:
    """Parse a request body as JSON, or raise the service's malformed-body error."""
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise faults.malformed_body(service, f"JSON is nested deeper than {MAX_DEPTH} levels.") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, huge integers
        raise faults.malformed_body(service, f"not valid JSON ({exc}).") from None


class Decoder:
    """Turns parsed JSON into an operation's input values, checking each value against its shape."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._by_type: dict[str, Callable[[Shape, Any, str, int], Any]] = {
            "structure": self.structure,
            "list": self._list,
            "map": self._map,
            "string": self._string,
            "boolean": self._boolean,
            "integer": self._integer,
            "long": self._integer,
            "float": self._float,
            "double": self._float,
            "timestamp": self._timestamp,
            "blob": self._blob,
        }

    def value(self, shape: Shape, raw: Any, path: str, depth: int) -> Any:
        convert = self._by_type.get(shape.type_name)
        if convert is None:
            return raw
        if shape.metadata.get("document"):
            return self._document(raw, path, depth)
        return convert(shape, raw, path, depth)

    def structure(
        self, shape: Shape, raw: Any, path: str, depth: int, names: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """An object's known members (unknown ones are ignored, nulls mean absent)."""
        if not isinstance(raw, dict):
            raise self._mismatch(shape, raw, path)
        self._check_depth(path, depth)
        members = shape.members
        by_wire = wire_names(shape) if names is None else names
        result: dict[str, Any] = {}
        for wire, item in raw.items():
            name = by_wire.get(wire)
            if name is None or item is None:
                continue
            result[name] = self.value(members[name], item, member_path(path, name), depth + 1)
        return result

    def _list(self, shape: Shape, raw: Any, path: str, depth: int) -> list[Any]:
        if not isinstance(raw, list):
            raise self._mismatch(shape, raw, path)
        self._check_depth(path, depth)
        member = shape.member
        sparse = bool(shape.metadata.get("sparse"))
        items: list[Any] = []
        for index, item in enumerate(raw, start=1):
            where = f"{path}.{index}.member"
            if item is None and not sparse:
                raise faults.malformed_body(self.service, f"Found null at {_where(where)}; lists hold no nulls.")
            items.append(None if item is None else self.value(member, item, where, depth + 1))
        return items

    def _map(self, shape: Shape, raw: Any, path: str, depth: int) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self._mismatch(shape, raw, path)
        self._check_depth(path, depth)
        value_shape = shape.value
        where = f"{path}.value"
        return {key: self.value(value_shape, item, where, depth + 1) for key, item in raw.items() if item is not None}

    def _document(self, raw: Any, path: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise faults.malformed_body(self.service, f"JSON is nested deeper than {MAX_DEPTH} levels.")
        if isinstance(raw, dict):
            return {key: self._document(item, path, depth + 1) for key, item in raw.items()}
        if isinstance(raw, list):
            return [self._document(item, path, depth + 1) for item in raw]
        return raw

    def _string(self, shape: Shape, raw: Any, path: str, depth: int) -> str:
        if not isinstance(raw, str):
            raise self._mismatch(shape, raw, path)
        return raw

    def _boolean(self, shape: Shape, raw: Any, path: str, depth: int) -> bool:
        if not isinstance(raw, bool):
            raise self._mismatch(shape, raw, path)
        return raw

    def _integer(self, shape: Shape, raw: Any, path: str, depth: int) -> int:
        if not _is_number(raw):
            raise self._mismatch(shape, raw, path)
        if isinstance(raw, float) and not raw.is_integer():
            raise self._invalid(f"Value {raw} at {_where(path)} is not a whole number.")
        low, high = INT_RANGE[shape.type_name]
        if not low <= raw <= high:
            raise self._invalid(f"Value {raw} at {_where(path)} is out of range ({low} to {high}).")
        return int(raw)

    def _float(self, shape: Shape, raw: Any, path: str, depth: int) -> float:
        if isinstance(raw, str) and raw in _NON_FINITE:
            return _NON_FINITE[raw]
        if not _is_number(raw):
            raise self._mismatch(shape, raw, path)
        return float(raw)

    def _timestamp(self, shape: Shape, raw: Any, path: str, depth: int) -> datetime:
        if not (_is_number(raw) or isinstance(raw, str)):
            raise self._mismatch(shape, raw, path)
        try:
            return parse_timestamp(raw)
        except ValueError:
            raise self._invalid(
                f"Value '{raw}' at {_where(path)} is not a valid timestamp; send epoch seconds or ISO 8601 text."
            ) from None

    def _blob(self, shape: Shape, raw: Any, path: str, depth: int) -> bytes:
        if not isinstance(raw, str):
            raise self._mismatch(shape, raw, path)
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise self._invalid(f"Value at {_where(path)} is not valid base64.") from None

    def _mismatch(self, shape: Shape, raw: Any, path: str) -> ServiceError:
        expected = _EXPECTED.get(shape.type_name, shape.type_name)
        return faults.malformed_body(self.service, f"Expected {expected} at {_where(path)} but found {_kind(raw)}.")

    def _check_depth(self, path: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise faults.malformed_body(
                self.service, f"JSON is nested deeper than {MAX_DEPTH} levels at {_where(path)}."
            )

    def _invalid(self, text: str) -> ServiceError:
        return faults.invalid_input(self.service, text)


# --- encoding --------------------------------------------------------------------------------------------


def encode(shape: Shape, value: Any) -> Any:
    """An output value as JSON data: timestamps as epoch seconds (unless the shape says otherwise),
    blobs as base64, None members left out, members not in the shape dropped."""
    kind = shape.type_name
    if kind == "structure":
        return value if shape.metadata.get("document") else encode_structure(shape, value)
    if kind == "list":
        member = shape.member
        return [None if item is None else encode(member, item) for item in value]
    if kind == "map":
        value_shape = shape.value
        return {key: encode(value_shape, item) for key, item in value.items() if item is not None}
    if kind == "timestamp":
        return format_timestamp(value, shape.serialization.get("timestampFormat", "unixtimestamp"))
    if kind == "blob":
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        return base64.b64encode(data).decode("ascii")
    if kind in ("float", "double") and isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def encode_structure(shape: Shape, value: Mapping[str, Any], only: Iterable[str] | None = None) -> dict[str, Any]:
    members = shape.members
    names = members.keys() if only is None else only
    result: dict[str, Any] = {}
    for name in names:
        item = value.get(name)
        if item is not None and name in members:
            member = members[name]
            result[member.serialization.get("name", name)] = encode(member, item)
    return result


def dump(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
