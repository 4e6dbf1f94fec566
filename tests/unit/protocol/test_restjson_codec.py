"""The rest-json codec (IoT, sagemaker-edge) against botocore's own serializer and parser, every operation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.model import OperationModel, ServiceModel

from edgeward.core.errors import ServiceError
from edgeward.protocol.codec import Route
from edgeward.protocol.http import HttpRequest, HttpResponse
from edgeward.protocol.restbinding import split_header_list
from edgeward.protocol.restjson import RestJsonCodec
from edgeward.protocol.router import resolve
from tests.unit.protocol.botowire import (
    operations,
    parse_response,
    parsed_by,
    prepared_request,
    sample_input,
    sample_output,
    wire_request,
)

SERVICES = ("iot", "sagemaker-edge")
CODECS = {service: RestJsonCodec(service) for service in SERVICES}


def _cases() -> list[Any]:
    return [
        pytest.param(service, operation, id=f"{service}.{operation.name}")
        for service in SERVICES
        for operation in operations(service)
    ]


def _route(service: str, request: HttpRequest) -> Route:
    return resolve(request, "iot" if service == "iot" else "sagemaker")


@pytest.mark.parametrize(("service", "operation"), _cases())
def test_every_input_round_trips(service: str, operation: OperationModel) -> None:
    params = sample_input(operation)
    request = wire_request(service, operation, params)
    route = _route(service, request)
    assert route.operation == operation.name
    assert CODECS[service].decode(route, request) == params


def _output_sample(operation: OperationModel) -> dict[str, Any]:
    output = sample_output(operation)
    shape = operation.output_shape
    for name, member in shape.members.items() if shape is not None else []:
        if member.serialization.get("location") == "statusCode":
            output[name] = 202  # the sample's 1 is no HTTP status
    return output


@pytest.mark.parametrize(("service", "operation"), _cases())
def test_every_output_round_trips(service: str, operation: OperationModel) -> None:
    output = _output_sample(operation)
    response = CODECS[service].serialize(Route(service, operation.name), output, "req-1")
    assert response.header("x-amzn-RequestId") == "req-1"
    assert response.header("Content-Type") == "application/json"
    assert parse_response(service, response, operation.output_shape) == output


def test_modeled_response_code_is_used() -> None:
    model = CODECS["iot"]
    response = model.serialize(Route("iot", "DeleteCommand"), {}, "r")
    assert response.status == 200
    response = model.serialize(Route("iot", "DeleteCommand"), {"statusCode": 204}, "r")
    assert response.status == 204


ERRORS = [
    ServiceError("ResourceNotFoundException", "Role alias does not exist", 404),
    ServiceError("InvalidRequestException", "bad", 400),
    ServiceError("UnauthorizedException", "no", 401),
    ServiceError("ThrottlingException", "Rate exceeded", 400),
    ServiceError("LimitExceededException", "too many", 410),
    ServiceError("InternalFailureException", "boom", 500, sender_fault=False),
    ServiceError("ServiceUnavailableException", "later", 503, sender_fault=False),
    ServiceError("InternalServiceException", "edge failure", 500, sender_fault=False),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda error: error.code)
def test_errors_read_back_by_botocore(error: ServiceError) -> None:
    response = CODECS["iot"].serialize_error(error, "req-2")
    assert response.header("x-amzn-ErrorType") == error.code
    assert response.status == error.status
    parsed = parse_response("iot", response, None)
    assert parsed["Error"] == {"Code": error.code, "Message": error.message}


def test_error_fields_reach_the_modeled_exception() -> None:
    arn = "arn:aws:iot:us-east-1:123456789012:rolealias/edge"
    error = ServiceError(
        "ResourceAlreadyExistsException",
        "Role alias already exists.",
        409,
        fields={"resourceId": "edge", "resourceArn": arn},
    )
    response = CODECS["iot"].serialize_error(error, "r")
    assert json.loads(response.body) == {
        "message": "Role alias already exists.",
        "resourceId": "edge",
        "resourceArn": arn,
    }
    # botocore reads the code with no shape, then the modeled members with the exception's shape
    assert parse_response("iot", response, None)["Error"]["Code"] == "ResourceAlreadyExistsException"
    shape = CODECS["iot"]._model.shape_for("ResourceAlreadyExistsException")
    modeled = parse_response("iot", response, shape)
    assert modeled == {"message": "Role alias already exists.", "resourceId": "edge", "resourceArn": arn}


# --- what a handler gets --------------------------------------------------------------------------------


def _request(method: str, path: str, body: bytes | str = b"", query: str = "", **headers: str) -> HttpRequest:
    data = body.encode() if isinstance(body, str) else body
    return HttpRequest(method, path, query, {"content-type": "application/json", **headers}, data)


def _parse(service: str, request: HttpRequest) -> dict[str, Any]:
    return CODECS[service].parse(_route(service, request), request)


def _fails(service: str, request: HttpRequest) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        _parse(service, request)
    assert 400 <= caught.value.status < 500
    return caught.value


def test_create_role_alias_reads_label_and_body() -> None:
    body = '{"roleArn": "arn:aws:iam::123456789012:role/SageMakerEdge", "credentialDurationSeconds": 3600}'
    assert _parse("iot", _request("POST", "/role-aliases/edge-alias", body)) == {
        "roleAlias": "edge-alias",
        "roleArn": "arn:aws:iam::123456789012:role/SageMakerEdge",
        "credentialDurationSeconds": 3600,
    }


def test_credential_duration_out_of_range_is_invalid_request() -> None:
    body = '{"roleArn": "arn:aws:iam::123456789012:role/SageMakerEdge", "credentialDurationSeconds": 100}'
    error = _fails("iot", _request("POST", "/role-aliases/edge-alias", body))
    assert error.code == "InvalidRequestException"
    assert error.message == (
        "1 validation error detected: Value '100' at 'credentialDurationSeconds' failed to satisfy "
        "constraint: Member must have value greater than or equal to 900"
    )


def test_query_values_are_converted() -> None:
    request = _request("GET", "/role-aliases", query="pageSize=5&marker=m&isAscendingOrder=true")
    assert _parse("iot", request) == {"pageSize": 5, "marker": "m", "ascendingOrder": True}


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("pageSize=abc", "Value 'abc' at 'pageSize' is not a 32-bit integer."),
        ("pageSize=99999999999", "at 'pageSize' is not a 32-bit integer"),
        ("isAscendingOrder=maybe", "Value 'maybe' at 'ascendingOrder' is not true or false."),
    ],
)
def test_bad_query_values_are_invalid_requests(query: str, fragment: str) -> None:
    error = _fails("iot", _request("GET", "/role-aliases", query=query))
    assert error.code == "InvalidRequestException"
    assert fragment in error.message


def test_query_timestamps_accept_iso_and_epoch() -> None:
    request = _request(
        "GET",
        "/audit/tasks",
        query="startTime=2024-05-17T12:30:45Z&endTime=1715949045&taskType=ON_DEMAND_AUDIT_TASK",
    )
    parsed = _parse("iot", request)
    assert parsed["startTime"] == parsed["endTime"] == datetime(2024, 5, 17, 12, 30, 45, tzinfo=UTC)


def test_header_members_are_read() -> None:
    request = _request("PUT", "/principal-policies/p", **{"x-amzn-iot-principal": "arn:aws:iot:cert/abc"})
    assert _parse("iot", request) == {"policyName": "p", "principal": "arn:aws:iot:cert/abc"}


def test_missing_required_edge_member_uses_the_aws_message() -> None:
    error = _fails("sagemaker-edge", _request("POST", "/GetDeployments", '{"DeviceName": "d"}'))
    assert (error.code, error.status) == ("ValidationException", 400)
    assert error.message == (
        "1 validation error detected: Value null at 'deviceFleetName' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_heartbeat_is_parsed() -> None:
    body = {
        "AgentVersion": "1.0",
        "DeviceName": "device-1",
        "DeviceFleetName": "fleet_1",
        "AgentMetrics": [{"Dimension": "dim", "MetricName": "metric", "Value": 2, "Timestamp": 1715949045.5}],
    }
    parsed = _parse("sagemaker-edge", _request("POST", "/SendHeartbeat", json.dumps(body)))
    assert parsed["AgentMetrics"] == [
        {
            "Dimension": "dim",
            "MetricName": "metric",
            "Value": 2.0,
            "Timestamp": datetime(2024, 5, 17, 12, 30, 45, 500000, tzinfo=UTC),
        }
    ]


@pytest.mark.parametrize(
    ("service", "body", "code"),
    [
        ("iot", "{", "InvalidRequestException"),
        ("iot", "[]", "InvalidRequestException"),
        ("iot", '{"roleArn": 5}', "InvalidRequestException"),
        (
            "iot",
            '{"roleArn": "arn:aws:iam::123456789012:role/R", "credentialDurationSeconds": "3600"}',
            ("InvalidRequestException"),
        ),
        ("iot", "[" * 50_000, "InvalidRequestException"),
        ("iot", b"\x80\x81", "InvalidRequestException"),
    ],
)
def test_malformed_iot_bodies(service: str, body: str | bytes, code: str) -> None:
    error = _fails(service, _request("POST", "/role-aliases/a", body))
    assert error.code == code


@pytest.mark.parametrize(
    "body",
    [
        "{",
        "[]",
        '{"DeviceName": 1, "DeviceFleetName": "f", "AgentVersion": "1"}',
        '{"DeviceName": "d", "DeviceFleetName": "f", "AgentVersion": "1", "Models": {}}',
        '{"DeviceName": "d", "DeviceFleetName": "f", "AgentVersion": "1", "AgentMetrics": [{"Value": "x"}]}',
    ],
)
def test_malformed_edge_bodies(body: str) -> None:
    error = _fails("sagemaker-edge", _request("POST", "/SendHeartbeat", body))
    assert error.code == "SerializationException"


def test_wrong_type_message_names_the_member() -> None:
    body = '{"DeviceName": "d", "DeviceFleetName": "f", "AgentVersion": "1", "Models": [{"ModelMetrics": {}}]}'
    error = _fails("sagemaker-edge", _request("POST", "/SendHeartbeat", body))
    assert "Expected an array at 'models.1.member.modelMetrics' but found an object" in error.message


def test_payload_member_errors_name_the_payload() -> None:
    error = _fails("iot", _request("POST", "/rules/r", '{"sql": 5}'))
    assert "Expected a string at 'topicRulePayload.sql' but found a number" in error.message
    error = _fails("iot", _request("POST", "/rules/r", "[]"))
    assert "Expected an object at 'topicRulePayload' but found an array" in error.message
    error = _fails("iot", _request("POST", "/rules/r", '{"actions": []}'))
    assert "Value null at 'topicRulePayload.sql' failed to satisfy constraint: Member must not be null" in (
        error.message
    )


def test_blob_must_be_base64() -> None:
    body = '{"payload": {"content": "not base64!"}}'
    error = _fails("iot", _request("PUT", "/commands/c", body))
    assert error.code == "InvalidRequestException"
    assert "'payload.content' is not valid base64" in error.message


def test_oversized_body_is_refused() -> None:
    codec = RestJsonCodec("sagemaker-edge", max_body=64)
    request = _request("POST", "/SendHeartbeat", "{" + " " * 100 + "}")
    with pytest.raises(ServiceError) as caught:
        codec.parse(Route("sagemaker-edge", "SendHeartbeat"), request)
    assert caught.value.status == 413


JUNK: list[Any] = ["x", 7, 1.5, True, [], {}, [None], {"a": [1]}, -(2**70)]


@pytest.mark.parametrize(("service", "operation"), _cases())
def test_junk_values_give_protocol_errors(service: str, operation: OperationModel) -> None:
    """Every body member, every wrong type: a 4xx ServiceError or a parsed input, never another exception."""
    params = sample_input(operation)
    request = wire_request(service, operation, params)
    route = _route(service, request)
    shape = operation.input_shape
    body_members = [
        member.serialization.get("name", name)
        for name, member in (shape.members.items() if shape is not None else [])
        if "location" not in member.serialization
    ]
    for wire in body_members:
        for junk in JUNK:
            request.body = json.dumps({wire: junk}).encode()
            try:
                CODECS[service].parse(route, request)
            except ServiceError as error:
                assert 400 <= error.status < 500, (wire, junk, error)


# --- bindings botocore's IoT model does not use: a small model of our own, round-tripped through botocore --

_MODEL = ServiceModel(
    {
        "metadata": {"protocol": "rest-json", "apiVersion": "2024-01-01", "serviceId": "Bindings"},
        "operations": {
            "Put": {
                "name": "Put",
                "http": {"method": "PUT", "requestUri": "/items/{Id}", "responseCode": 201},
                "input": {"shape": "PutInput"},
                "output": {"shape": "PutOutput"},
            },
            "Upload": {
                "name": "Upload",
                "http": {"method": "POST", "requestUri": "/upload"},
                "input": {"shape": "UploadInput"},
                "output": {"shape": "UploadOutput"},
            },
        },
        "shapes": {
            "PutInput": {
                "type": "structure",
                "required": ["Id"],
                "members": {
                    "Id": {"shape": "Long", "location": "uri", "locationName": "Id"},
                    "Tags": {"shape": "Strings", "location": "querystring", "locationName": "tag"},
                    "Filters": {"shape": "StringMap", "location": "querystring"},
                    "Since": {"shape": "Time", "location": "header", "locationName": "x-since"},
                    "Names": {"shape": "Strings", "location": "header", "locationName": "x-names"},
                    "Doc": {"shape": "JsonText", "location": "header", "locationName": "x-doc"},
                    "Meta": {"shape": "StringMap", "location": "headers", "locationName": "x-meta-"},
                    "Ratio": {"shape": "Double", "location": "querystring", "locationName": "ratio"},
                    "When": {"shape": "Time", "location": "querystring", "locationName": "when"},
                    "Body": {"shape": "String", "locationName": "body"},
                },
            },
            "PutOutput": {
                "type": "structure",
                "members": {
                    "Etag": {"shape": "String", "location": "header", "locationName": "ETag"},
                    "Modified": {"shape": "Time", "location": "header", "locationName": "Last-Modified"},
                    "Names": {"shape": "Strings", "location": "header", "locationName": "x-names"},
                    "Meta": {"shape": "StringMap", "location": "headers", "locationName": "x-meta-"},
                    "Created": {"shape": "Time"},
                    "Renamed": {"shape": "String", "locationName": "renamed_on_wire"},
                },
            },
            "UploadInput": {
                "type": "structure",
                "members": {
                    "Data": {"shape": "Blob"},
                    "Kind": {"shape": "String", "location": "header", "locationName": "x-kind"},
                },
                "payload": "Data",
            },
            "UploadOutput": {
                "type": "structure",
                "members": {"Item": {"shape": "Item"}},
                "payload": "Item",
            },
            "Item": {"type": "structure", "members": {"Size": {"shape": "Long"}, "At": {"shape": "Time"}}},
            "Strings": {"type": "list", "member": {"shape": "String"}},
            "StringMap": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "String"}},
            "String": {"type": "string"},
            "JsonText": {"type": "string", "jsonvalue": True},
            "Long": {"type": "long"},
            "Double": {"type": "double"},
            "Time": {"type": "timestamp"},
            "Blob": {"type": "blob"},
        },
    },
    "bindings",
)
_BINDINGS = RestJsonCodec("iot", model=_MODEL)
_WHEN = datetime(2024, 5, 17, 12, 30, 45, tzinfo=UTC)


def _wire(operation: str, params: dict[str, Any]) -> HttpRequest:
    return prepared_request("rest-json", _MODEL.operation_model(operation), params)


def test_querystring_lists_maps_and_header_kinds_round_trip() -> None:
    params = {
        "Id": 42,
        "Tags": ["a", "b c", "a"],
        "Filters": {"colour": "red", "size": "L"},
        "Since": _WHEN,
        "Names": ["x", "with,comma", 'with"quote'],
        "Doc": {"k": [1, 2]},
        "Meta": {"owner": "me"},
        "Ratio": 0.25,
        "When": _WHEN,
        "Body": "text",
    }
    request = _wire("Put", params)
    route = Route("bindings", "Put", {"Id": "42"})
    assert _BINDINGS.decode(route, request) == params


def test_payload_blob_round_trips() -> None:
    request = _wire("Upload", {"Data": b"\x00\x01binary", "Kind": "k"})
    assert _BINDINGS.decode(Route("bindings", "Upload"), request) == {"Data": b"\x00\x01binary", "Kind": "k"}
    assert _BINDINGS.decode(Route("bindings", "Upload"), HttpRequest("POST", "/upload")) == {}


def test_output_headers_status_and_payload_round_trip() -> None:
    output = {
        "Etag": '"abc"',
        "Modified": _WHEN,
        "Names": ["x", "y"],
        "Meta": {"owner": "me"},
        "Created": _WHEN,
        "Renamed": "r",
    }
    response = _BINDINGS.serialize(Route("bindings", "Put"), output, "r")
    assert response.status == 201
    assert response.header("Last-Modified") == "Fri, 17 May 2024 12:30:45 GMT"
    assert json.loads(response.body) == {"Created": 1715949045, "renamed_on_wire": "r"}
    parsed = parse_response_with(_MODEL, "Put", response)
    assert parsed == output
    upload = _BINDINGS.serialize(Route("bindings", "Upload"), {"Item": {"Size": 3, "At": _WHEN}}, "r")
    assert parse_response_with(_MODEL, "Upload", upload) == {"Item": {"Size": 3, "At": _WHEN}}


def parse_response_with(model: ServiceModel, operation: str, response: HttpResponse) -> dict[str, Any]:
    return parsed_by("rest-json", response, model.operation_model(operation).output_shape)


@pytest.mark.parametrize(
    ("text", "items"),
    [("", []), ("a", ["a"]), ("a, b ,c", ["a", "b", "c"]), ('"a,b", "c\\"d"', ["a,b", 'c"d'])],
)
def test_split_header_list(text: str, items: list[str]) -> None:
    assert split_header_list(text) == items


def test_bad_header_values() -> None:
    request = _wire("Put", {"Id": 1})
    request.headers["x-since"] = "not a date"
    with pytest.raises(ServiceError) as caught:
        _BINDINGS.decode(Route("bindings", "Put", {"Id": "1"}), request)
    assert "is not a timestamp" in caught.value.message
    request.headers["x-since"] = "Fri, 17 May 2024 12:30:45 GMT"
    request.headers["x-doc"] = "%%%"
    with pytest.raises(ServiceError) as caught:
        _BINDINGS.decode(Route("bindings", "Put", {"Id": "1"}), request)
    assert "not base64-encoded JSON" in caught.value.message
