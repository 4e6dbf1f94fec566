"""The json 1.1 codec (SageMaker) against botocore's own serializer and parser, for every operation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.model import OperationModel

from edgeward.core.errors import ServiceError
from edgeward.protocol import catalog, faults
from edgeward.protocol.codec import Route
from edgeward.protocol.http import HttpRequest
from edgeward.protocol.jsonproto import JsonCodec
from edgeward.protocol.jsonvalue import MAX_DEPTH
from tests.unit.protocol.botowire import operations, parse_response, sample_input, sample_output, wire_request

SERVICE = "sagemaker"
CODEC = JsonCodec(SERVICE)


def _cases() -> list[Any]:
    return [pytest.param(operation, id=operation.name) for operation in operations(SERVICE)]


@pytest.mark.parametrize("operation", _cases())
def test_every_input_round_trips(operation: OperationModel) -> None:
    params = sample_input(operation)
    request = wire_request(SERVICE, operation, params)
    assert CODEC.decode(Route(SERVICE, operation.name), request) == params


@pytest.mark.parametrize("operation", _cases())
def test_every_output_round_trips(operation: OperationModel) -> None:
    output = sample_output(operation)
    response = CODEC.serialize(Route(SERVICE, operation.name), output, "req-1")
    assert response.status == 200
    assert response.header("Content-Type") == "application/x-amz-json-1.1"
    assert response.header("x-amzn-RequestId") == "req-1"
    assert parse_response(SERVICE, response, operation.output_shape) == output


ERRORS = [
    ServiceError("ValidationException", "No devicefleet with name fleet-1 exists."),
    ServiceError("ResourceInUse", "Fleet is in use.", 400),
    ServiceError("ResourceLimitExceeded", "Too many fleets.", 400),
    ServiceError("ThrottlingException", "Rate exceeded", 400),
    ServiceError("InternalFailure", "boom", 500, sender_fault=False),
    ServiceError("ServiceUnavailable", "later", 503, sender_fault=False),
    ServiceError("UnrecognizedClientException", "The security token included in the request is invalid.", 400),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda error: error.code)
def test_errors_read_back_by_botocore(error: ServiceError) -> None:
    response = CODEC.serialize_error(error, "req-2")
    assert json.loads(response.body) == {"__type": error.code, "message": error.message}
    parsed = parse_response(SERVICE, response, None)
    assert parsed["Error"] == {"Code": error.code, "Message": error.message}
    assert response.status == error.status


def test_error_headers_are_sent() -> None:
    error = ServiceError("ThrottlingException", "slow down", 400, headers={"Retry-After": "2"})
    response = CODEC.serialize_error(error, "r")
    assert response.header("retry-after") == "2"
    assert response.header("x-amzn-RequestId") == "r"


# --- what a handler gets --------------------------------------------------------------------------------


def _request(body: bytes | str) -> HttpRequest:
    data = body.encode() if isinstance(body, str) else body
    return HttpRequest("POST", "/", headers={"content-type": "application/x-amz-json-1.1"}, body=data)


def _parse(operation: str, body: bytes | str) -> dict[str, Any]:
    return CODEC.parse(Route(SERVICE, operation), _request(body))


def _fails(operation: str, body: bytes | str) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        _parse(operation, body)
    assert 400 <= caught.value.status < 500
    return caught.value


def test_parse_converts_timestamps_and_checks_constraints() -> None:
    parsed = _parse(
        "ListDeviceFleets",
        '{"CreationTimeAfter": 1715949045, "CreationTimeBefore": "2024-05-17T12:30:45.5Z", "MaxResults": 10}',
    )
    assert parsed == {
        "CreationTimeAfter": datetime(2024, 5, 17, 12, 30, 45, tzinfo=UTC),
        "CreationTimeBefore": datetime(2024, 5, 17, 12, 30, 45, 500000, tzinfo=UTC),
        "MaxResults": 10,
    }


def test_parse_ignores_unknown_members_and_nulls() -> None:
    assert _parse("DescribeDeviceFleet", '{"DeviceFleetName": "f", "Extra": 1, "Description": null}') == {
        "DeviceFleetName": "f"
    }


def test_empty_body_is_an_empty_input() -> None:
    assert _parse("ListDeviceFleets", b"") == {}


def test_missing_required_member_uses_the_aws_message() -> None:
    error = _fails("DescribeDeviceFleet", "{}")
    assert (error.code, error.status) == ("ValidationException", 400)
    assert error.message == (
        "1 validation error detected: Value null at 'deviceFleetName' failed to satisfy constraint: "
        "Member must not be null"
    )


@pytest.mark.parametrize(
    "body",
    ["{", "not json", '{"a": 1,}', b"\xff\xfe{", '{"MaxResults": NaN}', "[" * 100_000 + "]" * 100_000],
    ids=["truncated", "text", "trailing-comma", "not-utf8", "nan", "deep-array"],
)
def test_bad_json_is_a_serialization_error(body: bytes | str) -> None:
    error = _fails("ListDeviceFleets", body)
    assert (error.code, error.status) == ("SerializationException", 400)


@pytest.mark.parametrize(
    ("operation", "body", "fragment"),
    [
        (
            "ListDeviceFleets",
            "[]",
            "Expected an object at the top level of the request body but found an array",
        ),
        ("ListDeviceFleets", '"x"', "found a string"),
        (
            "ListDeviceFleets",
            '{"MaxResults": "10"}',
            "Expected an integer at 'maxResults' but found a string",
        ),
        (
            "ListDeviceFleets",
            '{"MaxResults": true}',
            "Expected an integer at 'maxResults' but found a boolean",
        ),
        ("DescribeDeviceFleet", '{"DeviceFleetName": 5}', "Expected a string at 'deviceFleetName'"),
        ("RegisterDevices", '{"DeviceFleetName": "f", "Devices": {}}', "Expected an array at 'devices'"),
        (
            "RegisterDevices",
            '{"DeviceFleetName": "f", "Devices": [{"DeviceName": ["d"]}]}',
            "Expected a string at 'devices.1.member.deviceName' but found an array",
        ),
        (
            "RegisterDevices",
            '{"DeviceFleetName": "f", "Devices": [null]}',
            "Found null at 'devices.1.member'",
        ),
        (
            "CreateDeviceFleet",
            '{"DeviceFleetName": "f", "OutputConfig": []}',
            "Expected an object at 'outputConfig'",
        ),
        (
            "CreateDeviceFleet",
            '{"DeviceFleetName": "f", "EnableIotRoleAlias": "true"}',
            "Expected true or false",
        ),
        ("ListDeviceFleets", '{"CreationTimeAfter": {}}', "Expected a timestamp"),
    ],
)
def test_wrong_json_types_name_the_member(operation: str, body: str, fragment: str) -> None:
    error = _fails(operation, body)
    assert error.code == "SerializationException"
    assert fragment in error.message


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('{"MaxResults": 2147483648}', "out of range (-2147483648 to 2147483647)"),
        ('{"MaxResults": 1.5}', "is not a whole number"),
        ('{"CreationTimeAfter": "yesterday"}', "is not a valid timestamp"),
        ('{"CreationTimeAfter": 1e300}', "is not a valid timestamp"),
    ],
)
def test_unusable_values_are_validation_errors(body: str, fragment: str) -> None:
    error = _fails("ListDeviceFleets", body)
    assert error.code == "ValidationException"
    assert fragment in error.message


def test_integral_float_is_accepted_as_integer() -> None:
    assert _parse("ListDeviceFleets", '{"MaxResults": 10.0}') == {"MaxResults": 10}


def test_oversized_value_fails_its_length_constraint() -> None:
    body = json.dumps(
        {"DeviceFleetName": "f", "OutputConfig": {"S3OutputLocation": "s3://b/p"}, "Description": "x" * 801}
    )
    error = _fails("CreateDeviceFleet", body)
    assert error.code == "ValidationException"
    assert "at 'description' failed to satisfy constraint: Member must have length less than or equal to 800" in (
        error.message
    )


def test_oversized_body_is_refused() -> None:
    small = JsonCodec(SERVICE, max_body=100)
    with pytest.raises(ServiceError) as caught:
        small.parse(Route(SERVICE, "ListDeviceFleets"), _request("{" + " " * 200 + "}"))
    assert caught.value.status == 413


def _nested_search(depth: int) -> str:
    expression: dict[str, Any] = {"Filters": [{"Name": "n"}]}
    for _ in range(depth):
        expression = {"SubExpressions": [expression]}
    return json.dumps({"Resource": "TrainingJob", "SearchExpression": expression})


def test_deep_nesting_of_a_recursive_shape_is_bounded() -> None:
    assert _parse_decoded("Search", _nested_search(10))["Resource"] == "TrainingJob"
    error = _fails("Search", _nested_search(MAX_DEPTH))
    assert error.code == "SerializationException"
    assert "nested deeper" in error.message


def _parse_decoded(operation: str, body: str) -> dict[str, Any]:
    return CODEC.decode(Route(SERVICE, operation), _request(body))


def test_output_drops_none_and_unknown_members_and_writes_epoch_seconds() -> None:
    output = {
        "DeviceFleetName": "f",
        "DeviceFleetArn": "arn:aws:sagemaker:us-east-1:123456789012:device-fleet/f",
        "OutputConfig": {"S3OutputLocation": "s3://b/p", "KmsKeyId": None},
        "CreationTime": datetime(2024, 5, 17, 12, 30, 45, 250000, tzinfo=UTC),
        "LastModifiedTime": datetime(2024, 5, 17, 12, 30, 45),  # naive means UTC
        "Description": None,
        "internal": "secret",
    }
    response = CODEC.serialize(Route(SERVICE, "DescribeDeviceFleet"), output, "r")
    assert json.loads(response.body) == {
        "DeviceFleetName": "f",
        "DeviceFleetArn": "arn:aws:sagemaker:us-east-1:123456789012:device-fleet/f",
        "OutputConfig": {"S3OutputLocation": "s3://b/p"},
        "CreationTime": 1715949045.25,
        "LastModifiedTime": 1715949045,
    }


def test_empty_output_is_an_empty_object() -> None:
    response = CODEC.serialize(Route(SERVICE, "CreateDeviceFleet"), {}, "r")
    assert (response.status, response.body) == (200, b"{}")


# --- robustness: wrong values anywhere never escape as anything but a 4xx ServiceError ----------------------

JUNK: list[Any] = ["x", 7, 1.5, True, [], {}, [1], {"a": 1}, "2024-01-01T00:00:00Z", -(2**70)]


@pytest.mark.parametrize("operation", _cases())
def test_junk_values_give_protocol_errors(operation: OperationModel) -> None:
    shape = operation.input_shape
    if shape is None:
        return
    route = Route(SERVICE, operation.name)
    for name, member in shape.members.items():
        wire = member.serialization.get("name", name)
        for junk in JUNK:
            try:
                CODEC.parse(route, _request(json.dumps({wire: junk})))
            except ServiceError as error:
                assert 400 <= error.status < 500, (name, junk, error)


def test_fault_codes_are_the_services_own() -> None:
    assert faults.malformed_body(SERVICE, "x").code == "SerializationException"
    assert catalog.protocol_of(SERVICE) == "json"
