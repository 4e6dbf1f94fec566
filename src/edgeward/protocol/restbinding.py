"""HTTP bindings of rest protocols: members carried in the URI, the query string and headers.

Independent of the body format, so the rest-json codec uses it and the rest-xml codec can. Text values are
converted to the member's type; a value that does not convert is invalid input in the service's own terms.
Defaults follow botocore: timestamps are ISO 8601 in the query string and RFC 822 in headers unless the shape
says otherwise (any of the three forms is accepted on input).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from botocore.model import Shape

from edgeward.core.errors import ServiceError
from edgeward.protocol import faults
from edgeward.protocol.http import HttpRequest
from edgeward.protocol.jsonvalue import format_timestamp, parse_timestamp
from edgeward.protocol.validate import member_path

_INT_RANGE = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_EXPECTED = {
    "integer": "a 32-bit integer",
    "long": "a 64-bit integer",
    "float": "a number",
    "double": "a number",
    "boolean": "true or false",
    "timestamp": "a timestamp (ISO 8601, RFC 822 or epoch seconds)",
    "blob": "base64",
}


@dataclass(frozen=True, slots=True)
class Bindings:
    """Where each member of an input or output structure lives, by location."""

    uri: dict[str, str] = field(default_factory=dict)  # member -> label
    query: dict[str, str] = field(default_factory=dict)  # member -> query key (scalars and lists)
    query_map: str | None = None  # member collecting the query pairs no other member claims
    header: dict[str, str] = field(default_factory=dict)  # member -> header name as modeled
    header_maps: dict[str, str] = field(default_factory=dict)  # member -> header prefix (lower case)
    status: str | None = None  # member carrying the HTTP status
    payload: str | None = None  # member that is the whole body
    body: tuple[str, ...] = ()  # members in the body object (when no payload member)
    body_names: dict[str, str] = field(default_factory=dict)  # wire name -> member, for `body`


@cache
def bindings(shape: Shape) -> Bindings:
    result = Bindings(payload=shape.serialization.get("payload"))
    query_map = status = None
    body: list[str] = []
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri":
            result.uri[name] = wire
        elif location == "querystring" and member.type_name == "map":
            query_map = name
        elif location == "querystring":
            result.query[name] = wire
        elif location == "header":
            result.header[name] = wire
        elif location == "headers":
            result.header_maps[name] = wire.lower()
        elif location == "statusCode":
            status = name
        elif location is None and name != result.payload:
            body.append(name)
            result.body_names[wire] = name
    return replace(result, query_map=query_map, status=status, body=tuple(body))


class BindingReader:
    """Reads the URI, query and header members of a request into an input dict."""

    def __init__(self, service: str) -> None:
        self.service = service

    def read(
        self, shape: Shape, found: Bindings, uri_params: Mapping[str, str], request: HttpRequest
    ) -> dict[str, Any]:
        members = shape.members
        result: dict[str, Any] = {}
        for name, label in found.uri.items():
            if label in uri_params:
                result[name] = self.text(members[name], uri_params[label], name)
        self._read_query(members, found, request, result)
        for name, header in found.header.items():
            text = request.headers.get(header.lower())
            if text is not None:
                result[name] = self.header(members[name], text, name)
        for name, prefix in found.header_maps.items():
            values = {key[len(prefix) :]: value for key, value in request.headers.items() if key.startswith(prefix)}
            if values:
                result[name] = values
        return result

    def _read_query(
        self, members: Mapping[str, Shape], found: Bindings, request: HttpRequest, result: dict[str, Any]
    ) -> None:
        pairs = request.query_pairs
        for name, key in found.query.items():
            shape = members[name]
            values = [value for pair_key, value in pairs if pair_key == key]
            if not values:
                continue
            if shape.type_name == "list":
                item = shape.member
                result[name] = [self.text(item, value, name) for value in values]
            else:
                result[name] = self.text(shape, values[0], name)
        if found.query_map is not None:
            claimed = set(found.query.values())
            rest = [(key, value) for key, value in pairs if key not in claimed]
            if rest:
                result[found.query_map] = _query_map(members[found.query_map], rest)

    def header(self, shape: Shape, text: str, name: str) -> Any:
        if shape.type_name == "list":
            item = shape.member
            return [self.text(item, part, name) for part in split_header_list(text)]
        if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
            try:
                return json.loads(base64.b64decode(text, validate=True))
            except (binascii.Error, ValueError):
                raise self._invalid(f"Header for '{member_path('', name)}' is not base64-encoded JSON.") from None
        return self.text(shape, text, name)

    def text(self, shape: Shape, text: str, name: str) -> Any:
        """A URI label, query value or header value converted to the member's type."""
        kind = shape.type_name
        try:
            if kind in _INT_RANGE:
                return _integer(kind, text)
            if kind in ("float", "double"):
                return float(text)
            if kind == "boolean":
                return {"true": True, "false": False}[text.strip().lower()]
            if kind == "timestamp":
                return parse_timestamp(text)
            if kind == "blob":
                return base64.b64decode(text, validate=True)
        except (ValueError, KeyError, binascii.Error):
            expected = _EXPECTED.get(kind, kind)
            raise self._invalid(f"Value '{text}' at '{member_path('', name)}' is not {expected}.") from None
        return text

    def _invalid(self, text: str) -> ServiceError:
        return faults.invalid_input(self.service, text)


def _integer(kind: str, text: str) -> int:
    value = int(text.strip())
    low, high = _INT_RANGE[kind]
    if not low <= value <= high:
        raise ValueError(text)
    return value


def _query_map(shape: Shape, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    if shape.value.type_name == "list":
        grouped: dict[str, list[str]] = {}
        for key, value in pairs:
            grouped.setdefault(key, []).append(value)
        return grouped
    single: dict[str, str] = {}
    for key, value in pairs:
        single.setdefault(key, value)
    return single


def split_header_list(text: str) -> list[str]:
    """`a, "b,c", d` -> ["a", "b,c", "d"] (RFC 7230 lists; botocore quotes items holding `,` or `"`)."""
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return [item for item in items if item] if text.strip() else []


def header_text(shape: Shape, value: Any) -> str:
    """An output member as a header value (botocore's defaults: RFC 822 timestamps, comma-joined lists)."""
    kind = shape.type_name
    if kind == "timestamp":
        return str(format_timestamp(value, shape.serialization.get("timestampFormat", "rfc822")))
    if kind == "list":
        item = shape.member
        return ",".join(_quote_item(header_text(item, part)) for part in value if part is not None)
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "blob":
        return base64.b64encode(value).decode("ascii")
    if kind == "string" and shape.serialization.get("jsonvalue"):
        return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode("ascii")
    return str(value)


def _quote_item(text: str) -> str:
    if "," in text or '"' in text:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text
