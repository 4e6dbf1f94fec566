"""The `json` protocol (SageMaker, JSON 1.1): `POST /`, `X-Amz-Target: <prefix>.<Op>`, a JSON object body."""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel, ServiceModel

from edgeward.core.errors import ServiceError
from edgeward.protocol import catalog, faults, jsonvalue, validate
from edgeward.protocol.codec import Route
from edgeward.protocol.http import HttpRequest, HttpResponse

DEFAULT_MAX_BODY = 4 * 1024 * 1024
"""Largest request body accepted; SageMaker's biggest inputs (pipeline definitions) are 1 MiB of text."""


class JsonCodec:
    """Server side of botocore's `json` protocol for one service (`sagemaker`)."""

    def __init__(
        self,
        service: str = "sagemaker",
        *,
        model: ServiceModel | None = None,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.service = service
        self._model = model if model is not None else catalog.service_model(service)
        self._max_body = max_body
        self._decoder = jsonvalue.Decoder(service)
        version = self._model.metadata.get("jsonVersion", "1.1")
        self._content_type = f"application/x-amz-json-{version}"

    def _operation(self, route: Route) -> OperationModel:
        return self._model.operation_model(route.operation)

    def decode(self, route: Route, request: HttpRequest) -> dict[str, Any]:
        """The input with JSON types checked and converted, before constraint validation."""
        if len(request.body) > self._max_body:
            raise faults.too_large(self.service, self._max_body)
        shape = self._operation(route).input_shape
        if shape is None:
            return {}
        if not request.body.strip():
            return {}
        raw = jsonvalue.load(self.service, request.body)
        return self._decoder.structure(shape, raw, "", 0)

    def parse(self, route: Route, request: HttpRequest) -> dict[str, Any]:
        value = self.decode(route, request)
        found = validate.problems(self._operation(route).input_shape, value)
        if found:
            raise faults.validation(self.service, found)
        return value

    def serialize(self, route: Route, output: dict[str, Any], request_id: str) -> HttpResponse:
        shape = self._operation(route).output_shape
        data = {} if shape is None else jsonvalue.encode_structure(shape, output)
        return HttpResponse(200, self._headers(request_id), jsonvalue.dump(data))

    def serialize_error(self, error: ServiceError, request_id: str) -> HttpResponse:
        data: dict[str, Any] = {**error.fields, "__type": error.code, "message": error.message}
        headers = self._headers(request_id) + list(error.headers.items())
        return HttpResponse(error.status, headers, jsonvalue.dump(data))

    def _headers(self, request_id: str) -> list[tuple[str, str]]:
        return [("Content-Type", self._content_type), ("x-amzn-RequestId", request_id)]
