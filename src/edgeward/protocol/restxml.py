"""The `rest-xml` protocol (S3): members bound to the URI, query string, headers and an XML or raw body.

The router has already matched the request to an operation and decoded its URI labels
(`route.uri_params`, where the greedy `{Key+}` label may hold `/`). Request bodies are either the raw payload
(object bytes) or XML, read with defusedxml. Responses put header-bound members in headers and the rest in an
XML document whose root is named as S3 names it. S3's own wire extras (aws-chunked bodies, checksums,
virtual hosts) live elsewhere; a blob payload in a request is plain bytes here (uploads stream around the
codec). A payload the handler returns as a `BodyStream` (GetObject) becomes a `StreamingResponse`, which the
server sends chunk by chunk; 206 when the output has a ContentRange; 304 carries no body.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from xml.etree.ElementTree import Element

from botocore.model import OperationModel, ServiceModel, Shape

from edgeward.core.errors import ServiceError
from edgeward.core.payload import BodyStream
from edgeward.protocol import faults, xmlshape
from edgeward.protocol.codec import ModelCodec, Route
from edgeward.protocol.http import HttpRequest, HttpResponse
from edgeward.protocol.restbinding import (
    BindingReader,
    encode_json_header,
    header_map,
    is_json_header,
    query_map,
)
from edgeward.protocol.restbinding import split_header_list as split_header_list  # also read from here
from edgeward.protocol.xmlshape import Member

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_NAMESPACES = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}

# S3's response root elements where they are not `<Op>Result`
# (botocore ignores the root name; other clients may not).
_ROOTS = {
    "ListBuckets": "ListAllMyBucketsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListObjectVersions": "ListVersionsResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "DeleteObjects": "DeleteResult",
    "GetBucketAcl": "AccessControlPolicy",
    "GetObjectAcl": "AccessControlPolicy",
    "GetBucketTagging": "Tagging",
    "GetObjectTagging": "Tagging",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketWebsite": "WebsiteConfiguration",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetObjectAttributes": "GetObjectAttributesResponse",
}
# Operations whose document is a single element holding one member as text (botocore reads it with a handler).
_TEXT_ROOTS = {"GetBucketLocation": "LocationConstraint"}


@dataclass(slots=True)
class StreamingResponse(HttpResponse):
    """A response whose body is `stream` (`stream.length` bytes, `Content-Length` already set); `body` unused."""

    stream: BodyStream | None = None


class RestXmlCodec(ModelCodec):
    """Codec for a `rest-xml` service (`s3`). `model` defaults to botocore's model of `service`."""

    def __init__(
        self, service: str = "s3", model: ServiceModel | None = None, *, max_xml_bytes: int = 4 * 1024 * 1024
    ) -> None:
        super().__init__(service, model)
        self._operations = frozenset(self._model.operation_names)
        namespace = self._model.metadata.get("xmlNamespace") or _NAMESPACES.get(service, "")
        self._namespace = str(namespace.get("uri", "") if isinstance(namespace, dict) else namespace)
        self._max_xml_bytes = max_xml_bytes
        self._reader = _XmlBindingReader(service)

    # ------------------------------------------------------------------------------------------ requests

    def decode(self, route: Route, request: HttpRequest) -> dict[str, Any]:
        """The operation's input, typed but not checked against the model's constraints."""
        operation = self._operation(route)
        shape = operation.input_shape
        if shape is None:
            return {}
        known = xmlshape.members(shape)
        params: dict[str, Any] = {}
        for key, member in known.items():
            value = self._located(member, route, request)
            if value is not None:
                params[key] = value
        self._query_maps(operation, known, request, params)
        self._body(shape, known, request, params)
        return params

    def _located(self, member: Member, route: Route, request: HttpRequest) -> Any:
        """A member bound to the URI, the query string or headers (in the model's member order, so the first
        bad argument of the model is the one reported)."""
        location, name, reader = member.location, member.xml_name, self._reader
        if location == "uri":
            raw = route.uri_params.get(name, route.uri_params.get(name + "+"))
            return None if raw is None else reader.text(member.shape, raw, name)
        if location == "querystring" and member.kind != "map":
            return reader.query(member.shape, request, name, name)
        if location == "header":
            raw = request.headers.get(name.lower())
            return None if raw is None else reader.header(member.shape, raw, name)
        if location == "headers":
            return header_map(request.headers, name.lower()) or None
        return None

    def _query_maps(
        self,
        operation: OperationModel,
        known: dict[str, Member],
        request: HttpRequest,
        params: dict[str, Any],
    ) -> None:
        """A map bound to the query string takes every parameter no other member (or the URI) claims."""
        maps = [m for m in known.values() if m.location == "querystring" and m.kind == "map"]
        if not maps:
            return
        claimed = {m.xml_name for m in known.values() if m.location == "querystring"}
        claimed |= {k for k, _ in parse_qsl(_literal_query(operation), keep_blank_values=True)}
        for member in maps:
            found = query_map(member.shape, request.query_pairs, claimed, self._reader.converter(member.xml_name))
            if found:
                params[member.name] = found

    def _body(self, shape: Shape, known: dict[str, Member], request: HttpRequest, params: dict[str, Any]) -> None:
        try:
            self._read_body(shape, known, request, params)
        except xmlshape.XmlInputError as exc:
            raise faults.malformed_body(self.service, str(exc)) from None

    def _read_body(self, shape: Shape, known: dict[str, Member], request: HttpRequest, params: dict[str, Any]) -> None:
        payload = shape.serialization.get("payload")
        if payload is None:
            if xmlshape.has_body_members(shape) and _has_content(request.body):
                params.update(xmlshape.read_members(shape, self._document(request.body)))
            return
        member = known[payload]
        kind = member.shape.type_name
        if kind == "blob":
            params[payload] = request.body
        elif kind == "string":
            if request.body:
                params[payload] = self._text(request.body)
        elif _has_content(request.body):
            params[payload] = xmlshape.read_value(member.shape, self._document(request.body))

    def _document(self, body: bytes) -> Element:
        if len(body) > self._max_xml_bytes:
            raise faults.too_large(self.service, self._max_xml_bytes)
        return xmlshape.parse_document(body)

    def _text(self, body: bytes) -> str:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise faults.malformed_body(self.service, str(exc)) from None

    # ------------------------------------------------------------------------------------------ responses

    def serialize(self, route: Route, output: dict[str, Any], request_id: str) -> HttpResponse:
        operation = self._operation(route)
        headers = self._ids(request_id)
        shape = operation.output_shape
        status = int(operation.http.get("responseCode", 200))
        if shape is None:
            return HttpResponse(status, headers, b"")
        output = output or {}
        for key, member in xmlshape.members(shape).items():
            value = output.get(key)
            if value is None:
                continue
            if member.location == "header":
                headers.append((member.xml_name, header_text(member.shape, value)))
            elif member.location == "headers":
                headers.extend((member.xml_name + str(k), str(v)) for k, v in value.items())
            elif member.location == "statusCode":
                status = int(value)
        if operation.name == "GetObject" and output.get("ContentRange"):
            status = 206  # a satisfied Range request; the model has no member for it
        stream = _stream_payload(shape, output)
        if stream is not None:
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(stream.length)))
            return StreamingResponse(status, headers, b"", stream)
        body = self._response_body(operation, shape, output, headers)
        if _raw_payload(shape):
            # The bytes in hand decide the framing, whatever ContentLength the handler reported.
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        return HttpResponse(status, headers, body)

    def _response_body(
        self, operation: OperationModel, shape: Shape, output: dict[str, Any], headers: list[tuple[str, str]]
    ) -> bytes:
        payload = shape.serialization.get("payload")
        if payload is not None:
            member = xmlshape.members(shape)[payload]
            value = output.get(payload)
            if member.shape.type_name in ("blob", "string"):
                return payload_bytes(value)
            if value is None:
                return b""
            return self._document_bytes(member.shape, value, member.xml_name, headers)
        text_root = _TEXT_ROOTS.get(operation.name)
        if text_root is not None:
            text = xmlshape.escape_text(str(output.get(text_root) or ""))
            ns = xmlshape.namespace_attribute(self._namespace)
            headers.append(("Content-Type", "application/xml"))
            return f"{XML_DECLARATION}<{text_root}{ns}>{text}</{text_root}>".encode()
        if not xmlshape.has_body_members(shape):
            return b""
        root = str(shape.serialization.get("name") or _ROOTS.get(operation.name, f"{operation.name}Result"))
        return self._document_bytes(shape, output, root, headers)

    def _document_bytes(self, shape: Shape, value: Any, root: str, headers: list[tuple[str, str]]) -> bytes:
        headers.append(("Content-Type", "application/xml"))
        return (XML_DECLARATION + xmlshape.element(shape, value, root, self._namespace)).encode("utf-8")

    def serialize_error(self, error: ServiceError, request_id: str, method: str = "") -> HttpResponse:
        """S3's `<Error>` document; empty for HEAD requests, whose responses carry no body."""
        headers = [("Content-Type", "application/xml"), *self._ids(request_id), *error.headers.items()]
        if method.upper() == "HEAD" or error.status == 304:  # neither may carry a body
            if error.status == 304:
                headers = headers[1:]
            return HttpResponse(error.status, headers, b"")
        body = (
            f"{XML_DECLARATION}<Error>{xmlshape.error_elements(error)}"
            f"<RequestId>{xmlshape.escape_text(request_id)}</RequestId><HostId>{host_id(request_id)}</HostId></Error>"
        )
        return HttpResponse(error.status, headers, body.encode("utf-8"))

    def serialize_error_for(self, error: ServiceError, request_id: str, method: str) -> HttpResponse:
        return self.serialize_error(error, request_id, method=method)

    # ------------------------------------------------------------------------------------------ helpers

    def _operation(self, route: Route) -> OperationModel:
        if route.operation not in self._operations:
            raise faults.unknown_operation(self.service, f"The operation {route.operation} is not supported.")
        return self._model.operation_model(route.operation)

    @staticmethod
    def _ids(request_id: str) -> list[tuple[str, str]]:
        return [("x-amz-request-id", request_id), ("x-amz-id-2", host_id(request_id))]


class _XmlBindingReader(BindingReader):
    """URI, query and header values the rest-xml way: XML's scalar text, RFC 822 dates in headers, and S3's
    `InvalidArgument` naming the argument (`name` is the member's wire name)."""

    def text(self, shape: Shape, text: str, name: str) -> Any:
        return self._scalar(shape, text, name, xmlshape.ISO8601)

    def header_scalar(self, shape: Shape, text: str, name: str) -> Any:
        if shape.type_name == "timestamp" and name.lower().startswith("if-"):
            # RFC 9110: a conditional header whose date is not valid is ignored, not an error.
            try:
                return xmlshape.parse_scalar(shape, text, xmlshape.RFC822)
            except ValueError:
                return None
        return self._scalar(shape, text, name, xmlshape.RFC822)

    def not_json(self, text: str, name: str) -> ServiceError:
        return self._bad_argument(name, text, "base64-encoded JSON")

    def converter(self, name: str) -> Callable[[Shape, str], Any]:
        """`text` for the values of the query map `name`."""
        return lambda shape, text: self.text(shape, text, name)

    def _scalar(self, shape: Shape, text: str, name: str, timestamp_format: str) -> Any:
        try:
            return xmlshape.parse_scalar(shape, text, timestamp_format)
        except ValueError:
            raise self._bad_argument(name, text, shape.type_name) from None

    def _bad_argument(self, name: str, raw: str, kind: str) -> ServiceError:
        if kind in ("integer", "long"):
            text = f"Provided {name} not an integer or within integer range."
        else:
            text = f"Provided {name} is not a valid {kind}."
        error = faults.invalid_input(self.service, text)
        error.fields.update({"ArgumentName": name, "ArgumentValue": raw[:256]})
        return error


def host_id(request_id: str) -> str:
    """S3's `x-amz-id-2` / `<HostId>`: opaque base64; derived from the request id so logs can match them."""
    return base64.b64encode(hashlib.sha256(request_id.encode()).digest()).decode("ascii")


def payload_bytes(value: Any) -> bytes:
    """A raw payload as bytes. (Streaming bodies arrive with the S3 issue; they will branch here.)"""
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def header_text(shape: Shape, value: Any) -> str:
    """A header-bound value as botocore writes and reads it: RFC 7231 dates, comma lists, base64 JSON.

    Not restbinding's `header_text`: XML's scalar text (`xmlshape.scalar_text`) and botocore's own list
    quoting (string items only, `"` escaped, `\\` not), where rest-json writes JSON-protocol scalars and
    quotes any item with RFC 7230 escapes.
    """
    kind = shape.type_name
    if kind == "list":
        return ",".join(_list_item(shape.member, item) for item in value if item is not None)
    if is_json_header(shape):
        return encode_json_header(value)
    return xmlshape.scalar_text(shape, value, xmlshape.RFC822)


def _list_item(shape: Shape, value: Any) -> str:
    text = header_text(shape, value)
    if shape.type_name == "string" and ('"' in text or "," in text):
        return '"' + text.replace('"', '\\"') + '"'
    return text


def _stream_payload(shape: Shape, output: dict[str, Any]) -> BodyStream | None:
    """The output's raw payload when the handler returned it as a stream rather than bytes."""
    payload = shape.serialization.get("payload")
    if payload is None or shape.members[payload].type_name != "blob":
        return None
    value = output.get(payload)
    if value is None or isinstance(value, (bytes, bytearray, memoryview, str)):
        return None
    stream: BodyStream = value
    return stream


def _has_content(body: bytes) -> bool:
    return bool(body) and not body.isspace()


def _raw_payload(shape: Shape) -> bool:
    payload = shape.serialization.get("payload")
    return payload is not None and shape.members[payload].type_name in ("blob", "string")


def _literal_query(operation: OperationModel) -> str:
    uri = str(operation.http.get("requestUri", ""))
    return uri.partition("?")[2]
