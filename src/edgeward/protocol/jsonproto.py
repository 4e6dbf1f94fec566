"""The `json` protocol (SageMaker, JSON 1.1): `POST /`, `X-Amz-Target: <prefix>.<Op>`, a JSON object body."""

from __future__ import annotations

from typing import Any

from botocore.model import ServiceModel, Shape

from edgeward.core.errors import ServiceError
from edgeward.protocol import faults, jsonvalue
from edgeward.protocol.codec import ModelCodec, Route
from edgeward.protocol.http import HttpRequest, HttpResponse

DEFAULT_MAX_BODY = 4 * 1024 * 1024
"""Largest request body accepted; SageMaker's biggest inputs (pipeline definitions) are 1 MiB of text."""


class JsonBodyCodec(ModelCodec):
    """What the `json` and `rest-json` codecs share: a bounded JSON request body, its typed decoder, and
    responses that carry `x-amzn-RequestId` (and `_content_type` unless told otherwise)."""

    _content_type: str

    def __init__(self, service: str, model: ServiceModel | None, max_body: int) -> None:
        super().__init__(service, model)
        self._max_body = max_body
        self._decoder = jsonvalue.Decoder(service)

    def _input_shape(self, route: Route, request: HttpRequest) -> Shape | None:
        """The operation's input shape, once the body is known to be within bounds."""
        if len(request.body) > self._max_body:
            raise faults.too_large(self.service, self._max_body)
        return self._operation(route).input_shape

    def _headers(self, request_id: str, content_type: str | None = None) -> list[tuple[str, str]]:
        return [("Content-Type", content_type or self._content_type), ("x-amzn-RequestId", request_id)]


class JsonCodec(JsonBodyCodec):
    """Server side of botocore's `json` protocol for one service (`sagemaker`)."""

    def __init__(
        self,
        service: str = "sagemaker",
        *,
        model: ServiceModel | None = None,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        super().__init__(service, model, max_body)
        version = self._model.metadata.get("jsonVersion", "1.1")
        self._content_type = f"application/x-amz-json-{version}"

    def decode(self, route: Route, request: HttpRequest) -> dict[str, Any]:
        """The input with JSON types checked and converted, before constraint validation."""
        shape = self._input_shape(route, request)
        if shape is None or not request.body.strip():
            return {}
        raw = jsonvalue.load(self.service, request.body)
        return self._decoder.structure(shape, raw, "", 0)

    def serialize(self, route: Route, output: dict[str, Any], request_id: str) -> HttpResponse:
        shape = self._operation(route).output_shape
        data = {} if shape is None else jsonvalue.encode_structure(shape, output)
        return HttpResponse(200, self._headers(request_id), jsonvalue.dump(data))

    def serialize_error(self, error: ServiceError, request_id: str) -> HttpResponse:
        data: dict[str, Any] = {**error.fields, "__type": error.code, "message": error.message}
        headers = self._headers(request_id) + list(error.headers.items())
        return HttpResponse(error.status, headers, jsonvalue.dump(data))
