"""What every wire protocol (query, json, rest-json, rest-xml) offers the server.

One codec per botocore service. A codec turns a routed `HttpRequest` into the operation's input dict
(validated against the model), an output dict into an `HttpResponse`, and a `ServiceError` into the
protocol's error body, exactly as botocore's parsers read it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.model import OperationModel, ServiceModel

from edgeward.core.errors import ServiceError
from edgeward.protocol import catalog, faults, validate
from edgeward.protocol.http import HttpRequest, HttpResponse


@dataclass(frozen=True, slots=True)
class Route:
    """Where a request goes: a botocore service name, an operation name, and the decoded URI labels."""

    service: str
    operation: str
    uri_params: dict[str, str] = field(default_factory=dict)


class Codec(Protocol):
    service: str

    def parse(self, route: Route, request: HttpRequest) -> dict[str, Any]:
        """The operation's input, typed and validated. Raises `ServiceError` in this service's own terms."""
        ...

    def serialize(self, route: Route, output: dict[str, Any], request_id: str) -> HttpResponse:
        """The operation's output as botocore expects to read it (status, headers, body)."""
        ...

    def serialize_error(self, error: ServiceError, request_id: str) -> HttpResponse:
        """The error in this protocol's own form (see spec section 5)."""
        ...


class ModelCodec(ABC):
    """What the four codecs share: the service, its botocore model (`model`, else botocore's own), and `parse`
    as the protocol's `decode` followed by the model's constraint checks."""

    def __init__(self, service: str, model: ServiceModel | None) -> None:
        self.service = service
        self._model = model if model is not None else catalog.service_model(service)

    def parse(self, route: Route, request: HttpRequest) -> dict[str, Any]:
        """The operation's input, typed and validated. Raises `ServiceError` in this service's own terms."""
        params = self.decode(route, request)
        found = validate.problems(self._operation(route).input_shape, params)
        if found:
            raise faults.validation(self.service, found)
        return params

    @abstractmethod
    def decode(self, route: Route, request: HttpRequest) -> dict[str, Any]:
        """The operation's input, typed but not checked against the model's constraints."""

    def _operation(self, route: Route) -> OperationModel:
        return self._model.operation_model(route.operation)
