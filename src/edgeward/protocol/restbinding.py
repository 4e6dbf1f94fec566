"""HTTP bindings of rest protocols: members carried in the URI, the query string and headers.

Independent of the body format, so both the rest-json and the rest-xml codec use it. Text values are
converted to the member's type; a value that does not convert is invalid input in the service's own terms.
Defaults follow botocore: timestamps are ISO 8601 in the query string and RFC 822 in headers unless the shape
says otherwise (any of the three forms is accepted on input). `BindingReader` converts scalars the rest-json
way; the rest-xml codec's reader overrides its scalar hooks with XML's rules and S3's wording.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from botocore.model import Shape

from edgeward.core.errors import ServiceError
from edgeward.protocol import faults
from edgeward.protocol.http import HttpRequest
from edgeward.protocol.jsonvalue import format_timestamp, parse_timestamp
from edgeward.protocol.validate import INT_RANGE, member_path

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
    """Reads the URI, query and header members of a request into an input dict.

    `text` converts a URI label, a query value or an item of a header list; `header_scalar` a header holding
    one value; `not_json` words a `jsonvalue` header that is not base64 JSON. A subclass changes those three
    for a protocol with other scalar rules; `name` is whatever its error messages need (here the member).
    """

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
        for name, key in found.query.items():
            value = self.query(members[name], request, key, name)
            if value is not None:
                result[name] = value
        if found.query_map is not None:
            claimed = set(found.query.values())
            values = query_map(members[found.query_map], request.query_pairs, claimed, _as_sent)
            if values:
                result[found.query_map] = values
        headers = request.headers
        for name, header in found.header.items():
            text = headers.get(header.lower())
            if text is not None:
                result[name] = self.header(members[name], text, name)
        for name, prefix in found.header_maps.items():
            values = header_map(headers, prefix)
            if values:
                result[name] = values
        return result

    def query(self, shape: Shape, request: HttpRequest, key: str, name: str) -> Any:
        """A query member: every value of `key` for a list, else the first; None when `key` is absent."""
        if shape.type_name == "list":
            values = [value for pair_key, value in request.query_pairs if pair_key == key]
            if not values:
                return None
            item = shape.member
            return [self.text(item, value, name) for value in values]
        text = request.query.get(key)
        return None if text is None else self.text(shape, text, name)

    def header(self, shape: Shape, text: str, name: str) -> Any:
        """A header member: a comma list, base64 JSON (`jsonvalue`) or one scalar."""
        if shape.type_name == "list":
            item = shape.member
            return [self.text(item, part, name) for part in split_header_list(text)]
        if is_json_header(shape):
            try:
                return decode_json_header(text)
            except ValueError:
                raise self.not_json(text, name) from None
        return self.header_scalar(shape, text, name)

    def header_scalar(self, shape: Shape, text: str, name: str) -> Any:
        return self.text(shape, text, name)

    def not_json(self, text: str, name: str) -> ServiceError:
        return self._invalid(f"Header for '{member_path('', name)}' is not base64-encoded JSON.")

    def text(self, shape: Shape, text: str, name: str) -> Any:
        """A URI label, query value or header value converted to the member's type."""
        kind = shape.type_name
        try:
            if kind in INT_RANGE:
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
    """`int()`'s reading of the text (so `1_000` is 1000), within the shape's range."""
    value = int(text.strip())
    low, high = INT_RANGE[kind]
    if not low <= value <= high:
        raise ValueError(text)
    return value


def _as_sent(shape: Shape, text: str) -> str:
    """rest-json hands query-map values over as sent, whatever the map's value shape."""
    return text


def query_map(
    shape: Shape,
    pairs: Iterable[tuple[str, str]],
    claimed: Container[str],
    convert: Callable[[Shape, str], Any],
) -> dict[str, Any]:
    """A map bound to the query string: every pair whose key is not `claimed`, each value `convert`ed.

    A map of lists collects every value of a key; otherwise the first value of a key wins (and only it is
    converted).
    """
    value_shape = shape.value
    found: dict[str, Any] = {}
    if value_shape.type_name == "list":
        item = value_shape.member
        for key, value in pairs:
            if key not in claimed:
                found.setdefault(key, []).append(convert(item, value))
    else:
        for key, value in pairs:
            if key not in claimed and key not in found:
                found[key] = convert(value_shape, value)
    return found


def header_map(headers: Mapping[str, str], prefix: str) -> dict[str, str]:
    """The headers whose (lower-case) name starts with `prefix`, keyed by the rest of the name."""
    return {key[len(prefix) :]: value for key, value in headers.items() if key.startswith(prefix)}


def is_json_header(shape: Shape) -> bool:
    """A string member sent as base64-encoded JSON (`jsonvalue`), as botocore binds it to a header."""
    return shape.type_name == "string" and bool(shape.serialization.get("jsonvalue"))


def decode_json_header(text: str) -> Any:
    """A `jsonvalue` header's value. Raises `ValueError` when it is not base64-encoded JSON."""
    return json.loads(base64.b64decode(text, validate=True))


def encode_json_header(value: Any) -> str:
    return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode("ascii")


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
    if is_json_header(shape):
        return encode_json_header(value)
    return str(value)


def _quote_item(text: str) -> str:
    if "," in text or '"' in text:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text
