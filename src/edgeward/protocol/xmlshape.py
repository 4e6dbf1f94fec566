"""XML text for botocore shapes, shared by the `query` and `rest-xml` codecs.

Writing (responses, the hot path) joins strings; it never builds an element tree. Reading (rest-xml request
bodies, untrusted) goes through defusedxml with DTDs, entities and external references all refused, then
walks the tree guided by the input shape. Element and member naming follows what botocore's XML parser and
serializer expect: `member` / `entry` / `key` / `value` by default, `locationName` overrides, flattened
lists and maps repeat the member's element instead of wrapping it.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree
from botocore.model import Shape

from edgeward.core.errors import ServiceError
from edgeward.protocol.validate import INT_RANGE

ISO8601 = "iso8601"
RFC822 = "rfc822"
EPOCH = "unixtimestamp"

_INTEGER = re.compile(r"[+-]?[0-9]+")
_TEXT_ESCAPES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord("\r"): "&#13;"}
_ATTR_ESCAPES = {**_TEXT_ESCAPES, ord('"'): "&quot;", ord("\n"): "&#10;", ord("\t"): "&#9;"}
_TEXT_SPECIAL = re.compile(r"[&<>\r]")
_CONTAINERS = frozenset(("structure", "list", "map"))


class XmlInputError(ValueError):
    """A body that is not acceptable XML, or an element whose text does not fit its shape."""


# ---------------------------------------------------------------------------------------------- members


@dataclass(frozen=True, slots=True)
class Member:
    """One member of a structure shape as it appears on the wire."""

    name: str
    xml_name: str
    shape: Shape
    location: str | None
    attribute: bool
    # botocore writes a flattened list under the member's own name but reads it under its items' name;
    # both are accepted on input.
    alias: str
    kind: str
    in_body: bool
    # The tags of a scalar member, ready to join (the hot path of every list response).
    open: str
    close: str


_MEMBERS: weakref.WeakKeyDictionary[Any, dict[str, Member]] = weakref.WeakKeyDictionary()
_ATTRIBUTES: weakref.WeakKeyDictionary[Any, tuple[Member, ...]] = weakref.WeakKeyDictionary()


def members(shape: Shape) -> dict[str, Member]:
    """The structure's members keyed by their Python name, with wire names worked out once per shape."""
    found = _MEMBERS.get(shape)
    if found is None:
        found = {name: _member(name, member) for name, member in shape.members.items()}
        _MEMBERS[shape] = found
    return found


def attribute_members(shape: Shape) -> tuple[Member, ...]:
    """The members written as XML attributes of the structure's own element (most shapes have none)."""
    found = _ATTRIBUTES.get(shape)
    if found is None:
        found = _ATTRIBUTES[shape] = tuple(m for m in members(shape).values() if m.attribute)
    return found


def _member(name: str, shape: Shape) -> Member:
    serialization: dict[str, Any] = shape.serialization
    own_name = str(serialization.get("name", name))
    xml_name = own_name
    if shape.type_name == "list" and serialization.get("flattened"):
        # A flattened list repeats its member element, which may carry its own name.
        xml_name = str(shape.member.serialization.get("name", own_name))
    location, attribute = serialization.get("location"), bool(serialization.get("xmlAttribute"))
    open_tag = f"<{xml_name}{namespace_attribute(serialization.get('xmlNamespace'))}>"
    in_body = not location and not attribute
    kind = str(shape.type_name)
    return Member(name, xml_name, shape, location, attribute, own_name, kind, in_body, open_tag, f"</{xml_name}>")


# ---------------------------------------------------------------------------------------------- scalars out


def escape_text(text: str) -> str:
    return text.translate(_TEXT_ESCAPES) if _TEXT_SPECIAL.search(text) else text


def escape_attribute(text: str) -> str:
    return text.translate(_ATTR_ESCAPES)


def _aware(value: datetime | date | float | int) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return datetime.fromtimestamp(value, UTC)


def format_timestamp(value: Any, fmt: str = ISO8601) -> str:
    """`2024-05-17T12:30:45Z`, `Fri, 17 May 2024 12:30:45 GMT` or `1715949045` (whole seconds)."""
    if isinstance(value, str):
        return value
    moment = value if isinstance(value, datetime) and value.tzinfo is UTC else _aware(value)
    kind = fmt.lower()
    if kind == RFC822:
        return format_datetime(moment.replace(microsecond=0), usegmt=True)
    if kind == EPOCH:
        return str(int(moment.timestamp()))
    m = moment
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def format_float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(float(value))


def scalar_text(shape: Shape, value: Any, timestamp_format: str = ISO8601) -> str:
    """A scalar value as wire text (XML text, form value, header, query string)."""
    kind = shape.type_name
    if kind == "string":
        return value if type(value) is str else str(value)
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return format_timestamp(value, shape.serialization.get("timestampFormat", timestamp_format))
    if kind == "blob":
        raw = value.encode() if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode("ascii")
    if kind in ("float", "double"):
        return format_float(value)
    if kind in ("integer", "long"):
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------------------------------------- XML out


def namespace_attribute(namespace: Any) -> str:
    """` xmlns="uri"` (or ` xmlns:p="uri"`) for a shape's `xmlNamespace`, which may be a string or a dict."""
    if not namespace:
        return ""
    if isinstance(namespace, str):
        return f' xmlns="{escape_attribute(namespace)}"'
    prefix = namespace.get("prefix")
    name = f"xmlns:{prefix}" if prefix else "xmlns"
    return f' {name}="{escape_attribute(str(namespace.get("uri", "")))}"'


def element(shape: Shape, value: Any, name: str, namespace: str | None = None) -> str:
    """One XML element for `value`; `namespace` is used when the shape does not declare its own."""
    out: list[str] = []
    write(shape, value, name, out, namespace)
    return "".join(out)


def write(shape: Shape, value: Any, name: str, out: list[str], namespace: str | None = None) -> None:
    """Append the element `name` holding `value` to `out`."""
    kind = shape.type_name
    ns = namespace_attribute(shape.serialization.get("xmlNamespace") or namespace)
    if kind == "structure":
        _write_structure(shape, value, name, ns, out)
    elif kind == "list":
        _write_list(shape, value, name, ns, out)
    elif kind == "map":
        _write_map(shape, value, name, ns, out)
    else:
        out.append(f"<{name}{ns}>{escape_text(scalar_text(shape, value))}</{name}>")


def write_members(shape: Shape, value: dict[str, Any], out: list[str]) -> None:
    """Append the body members of a structure (not its attributes, nor header/URI/query members)."""
    known = members(shape)
    for key, item in value.items():
        member = known.get(key)
        if member is None or item is None or not member.in_body:
            continue
        if member.kind in _CONTAINERS:
            write(member.shape, item, member.xml_name, out)
        else:
            out.append(f"{member.open}{escape_text(scalar_text(member.shape, item))}{member.close}")


def error_elements(error: ServiceError) -> str:
    """`<Code>`, `<Message>` and an element per extra field: the part of `<Error>` both XML protocols share."""
    fields = "".join(f"<{k}>{escape_text(str(v))}</{k}>" for k, v in error.fields.items())
    return f"<Code>{escape_text(error.code)}</Code><Message>{escape_text(error.message)}</Message>{fields}"


def has_body_members(shape: Shape) -> bool:
    return any(not m.location for m in members(shape).values())


def _write_structure(shape: Shape, value: dict[str, Any], name: str, ns: str, out: list[str]) -> None:
    attributes = "".join(
        f' {m.xml_name}="{escape_attribute(scalar_text(m.shape, value[m.name]))}"'
        for m in attribute_members(shape)
        if value.get(m.name) is not None
    )
    out.append(f"<{name}{ns}{attributes}>")
    write_members(shape, value, out)
    out.append(f"</{name}>")


def _write_list(shape: Shape, value: Iterable[Any], name: str, ns: str, out: list[str]) -> None:
    item_shape = shape.member
    if shape.serialization.get("flattened"):
        for item in value:
            if item is not None:
                write(item_shape, item, name, out)
        return
    item_name = str(item_shape.serialization.get("name", "member"))
    out.append(f"<{name}{ns}>")
    for item in value:
        if item is not None:
            write(item_shape, item, item_name, out)
    out.append(f"</{name}>")


def _write_map(shape: Shape, value: dict[Any, Any], name: str, ns: str, out: list[str]) -> None:
    key_shape, value_shape = shape.key, shape.value
    key_name = str(key_shape.serialization.get("name", "key"))
    value_name = str(value_shape.serialization.get("name", "value"))
    flattened = bool(shape.serialization.get("flattened"))
    entry = name if flattened else "entry"
    if not flattened:
        out.append(f"<{name}{ns}>")
    for key, item in value.items():
        out.append(f"<{entry}>")
        write(key_shape, key, key_name, out)
        if item is not None:
            write(value_shape, item, value_name, out)
        out.append(f"</{entry}>")
    if not flattened:
        out.append(f"</{name}>")


# ---------------------------------------------------------------------------------------------- scalars in


def parse_timestamp(text: str, fmt: str = ISO8601) -> datetime:
    """An aware UTC datetime; the declared format is tried first, then the other two (clients vary)."""
    kind = fmt.lower()
    order = [kind] + [f for f in (ISO8601, RFC822, EPOCH) if f != kind]
    for candidate in order:
        try:
            return _timestamp_as(text.strip(), candidate)
        except (ValueError, TypeError, OverflowError, OSError):
            continue
    raise ValueError(f"not a timestamp: {text!r}")


def _timestamp_as(text: str, fmt: str) -> datetime:
    if fmt == RFC822:
        parsed = parsedate_to_datetime(text)
    elif fmt == EPOCH:
        parsed = datetime.fromtimestamp(float(text), UTC)
    else:
        parsed = datetime.fromisoformat(text)
    return _aware(parsed)


def parse_scalar(shape: Shape, text: str, timestamp_format: str = ISO8601) -> Any:
    """Wire text as the shape's Python type. Raises `ValueError` when it does not fit."""
    kind = shape.type_name
    if kind in ("integer", "long"):
        return _parse_integer(text, kind)
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise ValueError(f"not a boolean: {text!r}")
        return lowered == "true"
    if kind in ("float", "double"):
        return float(text)
    if kind == "timestamp":
        return parse_timestamp(text, shape.serialization.get("timestampFormat", timestamp_format))
    if kind == "blob":
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"not base64: {exc}") from None
    return text


def _parse_integer(text: str, kind: str) -> int:
    stripped = text.strip()
    if not _INTEGER.fullmatch(stripped):
        raise ValueError(f"not an integer: {text!r}")
    number = int(stripped)
    low, high = INT_RANGE[kind]
    if not low <= number <= high:
        raise ValueError(f"out of range: {text!r}")
    return number


# ---------------------------------------------------------------------------------------------- XML in


def parse_document(body: bytes) -> Element:
    """The root element of untrusted XML. DTDs, entities and external references are refused."""
    try:
        root: Element = defusedxml.ElementTree.fromstring(body, forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise XmlInputError(f"forbidden XML construct: {type(exc).__name__}") from None
    except (ParseError, ValueError) as exc:
        raise XmlInputError(f"not well-formed XML: {exc}") from None
    return root


def local_name(tag: str) -> str:
    """An element or attribute name without its `{namespace}` part."""
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


def read_members(shape: Shape, node: Element) -> dict[str, Any]:
    """The body members of a structure from its element (header/URI/query members are not in XML)."""
    children: dict[str, list[Element]] = {}
    for child in node:
        children.setdefault(local_name(child.tag), []).append(child)
    result: dict[str, Any] = {}
    for key, member in members(shape).items():
        if member.location:
            continue
        if member.attribute:
            found = _attribute(node, member.xml_name)
            if found is not None:
                result[key] = _scalar(member.shape, found, member.xml_name)
            continue
        nodes = children.get(member.xml_name) or children.get(member.alias)
        if nodes:
            result[key] = _read_member(member.shape, nodes)
    return result


def _read_member(shape: Shape, nodes: list[Element]) -> Any:
    flattened = shape.serialization.get("flattened")
    if shape.type_name == "list" and flattened:
        return [read_value(shape.member, node) for node in nodes]
    if shape.type_name == "map" and flattened:
        return _read_entries(shape, nodes)
    return read_value(shape, nodes[0])


def read_value(shape: Shape, node: Element) -> Any:
    """The value an element holds, typed by its shape. Raises `XmlInputError` on a value that does not fit."""
    kind = shape.type_name
    if kind == "structure":
        return read_members(shape, node)
    if kind == "list":
        item_shape = shape.member
        item_name = str(item_shape.serialization.get("name", "member"))
        return [read_value(item_shape, child) for child in node if local_name(child.tag) == item_name]
    if kind == "map":
        return _read_entries(shape, [child for child in node if local_name(child.tag) == "entry"])
    return _scalar(shape, node.text or "", local_name(node.tag))


def _read_entries(shape: Shape, entries: list[Element]) -> dict[Any, Any]:
    key_name = str(shape.key.serialization.get("name", "key"))
    value_name = str(shape.value.serialization.get("name", "value"))
    result: dict[Any, Any] = {}
    for entry in entries:
        key_node = value_node = None
        for child in entry:
            tag = local_name(child.tag)
            if tag == key_name:
                key_node = child
            elif tag == value_name:
                value_node = child
        if key_node is not None:
            key = read_value(shape.key, key_node)
            result[key] = None if value_node is None else read_value(shape.value, value_node)
    return result


def _attribute(node: Element, xml_name: str) -> str | None:
    wanted = xml_name.rsplit(":", 1)[-1]
    for name, value in node.attrib.items():
        if local_name(name) == wanted:
            return value
    return None


def _scalar(shape: Shape, text: str, name: str) -> Any:
    try:
        return parse_scalar(shape, text)
    except ValueError as exc:
        raise XmlInputError(f"element {name}: {exc}") from None
