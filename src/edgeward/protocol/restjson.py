"""The `rest-json` protocol (IoT, sagemaker-edge): members bound to the URI, query string and headers, the
rest in a JSON body (or one `payload` member as the whole body); errors named by `x-amzn-ErrorType`."""

from __future__ import annotations

from typing import Any

from botocore.model import ServiceModel, Shape

from edgeward.core.errors import ServiceError
from edgeward.protocol import faults, jsonvalue, validate
from edgeward.protocol.codec import Route
from edgeward.protocol.http import HttpRequest, HttpResponse
from edgeward.protocol.jsonproto import JsonBodyCodec
from edgeward.protocol.restbinding import BindingReader, Bindings, bindings, header_text

DEFAULT_MAX_BODY = 4 * 1024 * 1024
"""Largest request body accepted (IoT's largest inputs, policy documents and CSRs, are a few KiB)."""

_JSON = "application/json"


class RestJsonCodec(JsonBodyCodec):
    """Server side of botocore's `rest-json` protocol for one service (`iot`, `sagemaker-edge`)."""

    def __init__(self, service: str, *, model: ServiceModel | None = None, max_body: int = DEFAULT_MAX_BODY) -> None:
        super().__init__(service, model, max_body)
        self._content_type = _JSON
        self._reader = BindingReader(service)

    def decode(self, route: Route, request: HttpRequest) -> dict[str, Any]:
        """The input with types checked and converted, before constraint validation."""
        shape = self._input_shape(route, request)
        if shape is None:
            return {}
        found = bindings(shape)
        result = self._read_body(shape, found, request.body)
        result.update(self._reader.read(shape, found, route.uri_params, request))
        return result

    def _read_body(self, shape: Shape, found: Bindings, body: bytes) -> dict[str, Any]:
        if found.payload is not None:
            return self._read_payload(shape.members[found.payload], found.payload, body)
        if not found.body or not body.strip():
            return {}
        raw = jsonvalue.load(self.service, body)
        return self._decoder.structure(shape, raw, "", 0, found.body_names)

    def _read_payload(self, member: Shape, name: str, body: bytes) -> dict[str, Any]:
        if member.type_name == "blob":
            return {name: body} if body else {}
        if member.type_name == "string":
            try:
                return {name: body.decode("utf-8")} if body else {}
            except UnicodeDecodeError:
                raise faults.malformed_body(self.service, "the body is not UTF-8 text.") from None
        if not body.strip():
            return {}
        raw = jsonvalue.load(self.service, body)
        return {name: self._decoder.value(member, raw, validate.member_path("", name), 0)}

    def serialize(self, route: Route, output: dict[str, Any], request_id: str) -> HttpResponse:
        operation = self._operation(route)
        status = int(operation.http.get("responseCode", 200))
        shape = operation.output_shape
        if shape is None:
            return HttpResponse(status, self._headers(request_id), b"{}")
        found = bindings(shape)
        body, content_type = self._body(shape, found, output)
        response = HttpResponse(status, self._headers(request_id, content_type), body)
        self._write_bindings(shape, found, output, response)
        return response

    def _write_bindings(self, shape: Shape, found: Bindings, output: dict[str, Any], response: HttpResponse) -> None:
        members = shape.members
        for name, header in found.header.items():
            if output.get(name) is not None:
                response.headers.append((header, header_text(members[name], output[name])))
        for name, prefix in found.header_maps.items():
            for key, value in (output.get(name) or {}).items():
                response.headers.append((prefix + key, str(value)))
        if found.status is not None and output.get(found.status) is not None:
            response.status = int(output[found.status])

    def _body(self, shape: Shape, found: Bindings, output: dict[str, Any]) -> tuple[bytes, str]:
        if found.payload is None:
            return jsonvalue.dump(jsonvalue.encode_structure(shape, output, found.body)), _JSON
        member = shape.members[found.payload]
        value = output.get(found.payload)
        if member.type_name == "string":
            return (value or "").encode("utf-8"), "text/plain; charset=utf-8"
        if member.type_name == "blob":
            return bytes(value or b""), "application/octet-stream"
        return (b"" if value is None else jsonvalue.dump(jsonvalue.encode(member, value))), _JSON

    def serialize_error(self, error: ServiceError, request_id: str) -> HttpResponse:
        headers = [("x-amzn-ErrorType", error.code), *self._headers(request_id), *error.headers.items()]
        body = jsonvalue.dump({**error.fields, "message": error.message})
        return HttpResponse(error.status, headers, body)
