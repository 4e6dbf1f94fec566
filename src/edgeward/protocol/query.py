"""The `query` protocol (IAM, STS): form-encoded requests in, XML responses out.

Requests are `Action=<Op>&Version=<date>&Name=value...` in a POST body (`application/x-www-form-urlencoded`)
or a GET query string. Nested members are dotted (`A.B`), lists are `Name.member.N` (flattened lists `Name.N`,
the member's `locationName` replacing `member` or, when flattened, `Name`), maps are
`Name.entry.N.key` / `Name.entry.N.value`. Parameters the operation does not know are ignored, as AWS does.
Responses wrap the result: `<OpResponse xmlns=..><OpResult>..</OpResult><ResponseMetadata>..`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from botocore.model import OperationModel, ServiceModel, Shape

from edgeward.core.errors import ServiceError
from edgeward.protocol import faults, validate, xmlshape
from edgeward.protocol.codec import ModelCodec, Route
from edgeward.protocol.http import HttpRequest, HttpResponse

_TYPE_WORDS = {
    "integer": "an integer",
    "long": "an integer",
    "boolean": "a boolean",
    "float": "a number",
    "double": "a number",
    "timestamp": "a timestamp",
    "blob": "base64-encoded binary data",
}
_SKIPPED = ("Action", "Version")


class _Node:
    """One step of a dotted parameter name: its value (if the name ends here) and the steps below it."""

    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.value: str | None = None
        self.children: dict[str, _Node] = {}


def _tree(pairs: list[tuple[str, str]]) -> _Node:
    root = _Node()
    for key, value in pairs:
        node = root
        for step in key.split("."):
            node = node.children.setdefault(step, _Node())
        if node.value is None:  # the first occurrence of a repeated name wins
            node.value = value
    return root


def _indexed(node: _Node) -> list[_Node]:
    """The `.1`, `.2`, ... children in index order (gaps are allowed; other names are ignored)."""
    numbered = [(int(step), child) for step, child in node.children.items() if step.isdigit()]
    return [child for _, child in sorted(numbered, key=lambda pair: pair[0])]


class QueryCodec(ModelCodec):
    """Codec for a `query` service (`iam`, `sts`). `model` defaults to botocore's model of `service`."""

    def __init__(self, service: str, model: ServiceModel | None = None, *, max_fields: int = 10_000) -> None:
        super().__init__(service, model)
        self._namespace = str(self._model.metadata.get("xmlNamespace", ""))
        self._operations = frozenset(self._model.operation_names)
        self._max_fields = max_fields

    # ------------------------------------------------------------------------------------------ requests

    def decode(self, route: Route, request: HttpRequest) -> dict[str, Any]:
        """The operation's input, typed but not checked against the model's constraints."""
        shape = self._operation(route).input_shape
        pairs = self._pairs(request)
        if shape is None:
            return {}
        root = _tree(pairs)
        for name in _SKIPPED:
            root.children.pop(name, None)
        return self._structure(shape, root, "")

    def _pairs(self, request: HttpRequest) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        if request.body:
            content_type = request.headers.get("content-type", "").lower()
            if content_type and "x-www-form-urlencoded" not in content_type:
                raise faults.malformed_body(self.service, f"unsupported content type {content_type!r}")
            try:
                text = request.body.decode("utf-8")
                pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=self._max_fields, errors="strict")
            except ValueError as exc:
                raise faults.malformed_body(self.service, str(exc)) from None
        return pairs + request.query_pairs if request.query_string else pairs

    def _structure(self, shape: Shape, node: _Node, path: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, member in xmlshape.members(shape).items():
            child = node.children.get(member.xml_name) or node.children.get(member.alias)
            if child is None:
                continue
            value = self._value(member.shape, child, validate.member_path(path, key))
            if value is not None:
                result[key] = value
        return result

    def _value(self, shape: Shape, node: _Node, path: str) -> Any:
        kind = shape.type_name
        if kind == "structure":
            return self._structure(shape, node, path)
        if kind == "list":
            return self._list(shape, node, path)
        if kind == "map":
            return self._map(shape, node, path)
        if node.value is None:
            return None
        return self._scalar(shape, node.value, path)

    def _list(self, shape: Shape, node: _Node, path: str) -> list[Any] | None:
        container: _Node | None = node
        if not shape.serialization.get("flattened"):
            container = node.children.get(str(shape.member.serialization.get("name", "member")))
        items = _indexed(container) if container is not None else []
        if not items:
            return [] if node.value is not None else None  # `Name=` is how clients send an empty list
        values = (self._value(shape.member, item, f"{path}.{i}.member") for i, item in enumerate(items, 1))
        return [value for value in values if value is not None]

    def _map(self, shape: Shape, node: _Node, path: str) -> dict[Any, Any] | None:
        container = node if shape.serialization.get("flattened") else node.children.get("entry")
        if container is None:
            return {} if node.value is not None else None
        key_name = str(shape.key.serialization.get("name", "key"))
        value_name = str(shape.value.serialization.get("name", "value"))
        result: dict[Any, Any] = {}
        for entry in _indexed(container):
            key_node, value_node = entry.children.get(key_name), entry.children.get(value_name)
            if key_node is None or key_node.value is None:
                continue
            key = self._scalar(shape.key, key_node.value, f"{path}.key")
            result[key] = None if value_node is None else self._value(shape.value, value_node, f"{path}.value")
        return result

    def _scalar(self, shape: Shape, text: str, path: str) -> Any:
        try:
            return xmlshape.parse_scalar(shape, text)
        except ValueError:
            shown = "***" if shape.serialization.get("sensitive") or shape.metadata.get("sensitive") else text
            word = _TYPE_WORDS.get(shape.type_name, "valid")
            problem = f"Value '{shown[:256]}' at '{path}' failed to satisfy constraint: Member must be {word}"
            raise faults.invalid_input(self.service, validate.message([problem])) from None

    # ------------------------------------------------------------------------------------------ responses

    def serialize(self, route: Route, output: dict[str, Any], request_id: str) -> HttpResponse:
        operation = self._operation(route)
        name = operation.name
        out = [f"<{name}Response{xmlshape.namespace_attribute(self._namespace)}>"]
        shape = operation.output_shape
        if shape is not None:
            wrapper = str(shape.serialization.get("resultWrapper", f"{name}Result"))
            out.append(f"<{wrapper}>")
            xmlshape.write_members(shape, output or {}, out)
            out.append(f"</{wrapper}>")
        out.append(_metadata(request_id))
        out.append(f"</{name}Response>")
        return HttpResponse(200, self._headers(request_id), "".join(out).encode("utf-8"))

    def serialize_error(self, error: ServiceError, request_id: str) -> HttpResponse:
        fault = "Sender" if error.sender_fault else "Receiver"
        body = (
            f"<ErrorResponse{xmlshape.namespace_attribute(self._namespace)}><Error><Type>{fault}</Type>"
            f"{xmlshape.error_elements(error)}</Error>"
            f"<RequestId>{xmlshape.escape_text(request_id)}</RequestId></ErrorResponse>"
        )
        headers = self._headers(request_id) + list(error.headers.items())
        return HttpResponse(error.status, headers, body.encode("utf-8"))

    def serialize_error_for(self, error: ServiceError, request_id: str, method: str) -> HttpResponse:
        response = self.serialize_error(error, request_id)
        if method.upper() == "HEAD":
            response.body = b""
        return response

    # ------------------------------------------------------------------------------------------ helpers

    def _operation(self, route: Route) -> OperationModel:
        if route.operation not in self._operations:
            version = self._model.metadata.get("apiVersion", "")
            raise faults.unknown_operation(
                self.service, f"Could not find operation {route.operation} for version {version}"
            )
        return self._model.operation_model(route.operation)

    @staticmethod
    def _headers(request_id: str) -> list[tuple[str, str]]:
        return [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]


def _metadata(request_id: str) -> str:
    return f"<ResponseMetadata><RequestId>{xmlshape.escape_text(request_id)}</RequestId></ResponseMetadata>"
