"""Requests exactly as botocore puts them on the wire, and responses as botocore reads them."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.awsrequest import AWSResponse, HeadersDict, create_request_object, prepare_request_dict
from botocore.config import Config
from botocore.model import OperationModel, Shape
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from edgeward.protocol import catalog
from edgeward.protocol.http import HttpRequest, HttpResponse
from tests.unit.protocol.samples import sample

ENDPOINT = "https://edgeward.test:8443"


def operations(service: str) -> list[OperationModel]:
    model = catalog.service_model(service)
    return [model.operation_model(name) for name in model.operation_names]


def one_of_each_union(shape: Shape | None, value: Any) -> Any:
    """Samples fill every member; a union (botocore rejects more than one member on parse) keeps its first."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict) and not shape.metadata.get("document"):
        members = shape.members
        items = [(name, one_of_each_union(members[name], item)) for name, item in value.items()]
        items = [(name, item) for name, item in items if item is not None]
        if shape.is_tagged_union:
            # An empty union (the sample's depth cut-off) is left out: botocore rejects it.
            return dict(items[:1]) if items else None
        return dict(items)
    if kind == "list" and isinstance(value, list):
        return [item for item in (one_of_each_union(shape.member, item) for item in value) if item is not None]
    if kind == "map" and isinstance(value, dict):
        return {key: one_of_each_union(shape.value, item) for key, item in value.items()}
    return value


def sample_input(operation: OperationModel) -> dict[str, Any]:
    shape = operation.input_shape
    return {} if shape is None else one_of_each_union(shape, sample(shape))


def sample_output(operation: OperationModel) -> dict[str, Any]:
    shape = operation.output_shape
    return {} if shape is None else one_of_each_union(shape, sample(shape))


def wire_request(service: str, operation: OperationModel, params: dict[str, Any]) -> HttpRequest:
    return prepared_request(catalog.protocol_of(service), operation, params)


def prepared_request(protocol: str, operation: OperationModel, params: dict[str, Any]) -> HttpRequest:
    """`params` serialized by botocore's own serializer and prepared as its HTTP layer sends it."""
    serializer = create_serializer(protocol, include_validation=False)
    request_dict = serializer.serialize_to_request(params, operation)
    prepare_request_dict(request_dict, endpoint_url=ENDPOINT)
    prepared = create_request_object(request_dict).prepare()
    url = urlsplit(prepared.url)
    headers = {key.lower(): str(value) for key, value in prepared.headers.items()}
    headers.setdefault("host", url.netloc)
    body = prepared.body or b""
    return HttpRequest(
        method=prepared.method,
        raw_path=url.path,
        query_string=url.query,
        headers=headers,
        body=body.encode("utf-8") if isinstance(body, str) else bytes(body),
        scheme="https",
    )


def parse_response(service: str, response: HttpResponse, shape: Shape | None) -> dict[str, Any]:
    return parsed_by(catalog.protocol_of(service), response, shape)


def botocore_parse(protocol: str, response: HttpResponse, shape: Shape | None) -> dict[str, Any]:
    """What botocore's parser makes of `response`, ResponseMetadata included."""
    parser = create_parser(protocol)
    parsed: dict[str, Any] = parser.parse(
        {"status_code": response.status, "headers": HeadersDict(response.headers), "body": response.body},
        shape,
    )
    return parsed


def parsed_by(protocol: str, response: HttpResponse, shape: Shape | None) -> dict[str, Any]:
    """What botocore's parser makes of `response`, without ResponseMetadata."""
    parsed = botocore_parse(protocol, response, shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def normalize(value: Any) -> Any:
    """Compare what survives the wire: empty containers vanish, timestamps are instants."""
    if isinstance(value, dict):
        pruned = {k: normalize(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


# ------------------------------------------------------------------------------------------ a real client


class _Body(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def botocore_response(url: str, response: HttpResponse) -> AWSResponse:
    """`response` as botocore's HTTP layer hands it to the client."""
    return AWSResponse(url, response.status, dict(response.headers), _Body(response.body))


def client_sending_to(service: str, send: Callable[..., AWSResponse], config: Config) -> Any:
    """A botocore client for `service` whose requests go to `send` (a `before-send` handler), not a socket."""
    client = botocore.session.get_session().create_client(
        service,
        region_name="us-east-1",
        endpoint_url="http://edgeward.test",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=config,
    )
    client.meta.events.register(f"before-send.{service}", send)
    return client
