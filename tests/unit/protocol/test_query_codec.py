"""The query codec (IAM, STS) against botocore's own request serializer and response parser."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.model import OperationModel, ServiceModel
from botocore.serialize import create_serializer

from edgeward.core.errors import ServiceError
from edgeward.protocol import catalog
from edgeward.protocol.codec import Route
from edgeward.protocol.http import HttpRequest, HttpResponse
from edgeward.protocol.query import QueryCodec
from tests.unit.protocol.botowire import botocore_parse, botocore_response, client_sending_to, normalize
from tests.unit.protocol.samples import sample

OPERATIONS = [(svc, op) for svc in ("iam", "sts") for op in catalog.service_model(svc).operation_names]
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def wire_request(params: dict[str, Any], operation: OperationModel, method: str = "POST") -> HttpRequest:
    """What botocore puts on the wire, as the server receives it."""
    wire = create_serializer("query", include_validation=False).serialize_to_request(params, operation)
    encoded = urlencode(list(wire["body"].items()))
    if method == "GET":
        return HttpRequest("GET", "/", query_string=encoded)
    return HttpRequest("POST", "/", headers={"content-type": FORM}, body=encoded.encode())


def form(body: str) -> HttpRequest:
    return HttpRequest("POST", "/", headers={"content-type": FORM}, body=body.encode())


def botocore_reads(response: HttpResponse, operation: OperationModel | None) -> dict[str, Any]:
    return botocore_parse("query", response, operation.output_shape if operation is not None else None)


@pytest.mark.parametrize(("service", "operation"), OPERATIONS, ids=[f"{s}.{o}" for s, o in OPERATIONS])
def test_request_round_trip(service: str, operation: str) -> None:
    model = catalog.operation_model(service, operation)
    params = sample(model.input_shape) if model.input_shape is not None else {}
    decoded = QueryCodec(service).decode(Route(service, operation), wire_request(params, model))
    assert normalize(decoded) == normalize(params)


@pytest.mark.parametrize(("service", "operation"), OPERATIONS, ids=[f"{s}.{o}" for s, o in OPERATIONS])
def test_response_round_trip(service: str, operation: str) -> None:
    model = catalog.operation_model(service, operation)
    output = sample(model.output_shape) if model.output_shape is not None else {}
    response = QueryCodec(service).serialize(Route(service, operation), output, "req-1")
    assert response.status == 200
    assert response.header("Content-Type") == "text/xml"
    assert response.header("x-amzn-RequestId") == "req-1"
    parsed = botocore_reads(response, model)
    assert parsed.pop("ResponseMetadata")["RequestId"] == "req-1"
    assert normalize(parsed) == normalize(output)


def test_response_without_output_shape_still_has_metadata() -> None:
    response = QueryCodec("iam").serialize(Route("iam", "DeleteUser"), {}, "rid")
    assert response.body == (
        b'<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata>'
        b"<RequestId>rid</RequestId></ResponseMetadata></DeleteUserResponse>"
    )


def test_sts_response_uses_sts_namespace_and_result_wrapper() -> None:
    output = {"UserId": "AIDAEXAMPLE", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/a"}
    body = QueryCodec("sts").serialize(Route("sts", "GetCallerIdentity"), output, "r").body.decode()
    assert body.startswith(
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
    )


def test_get_query_string_is_accepted() -> None:
    model = catalog.operation_model("iam", "ListUsers")
    params = {"PathPrefix": "/a b/", "Marker": "m+&=", "MaxItems": 7}
    decoded = QueryCodec("iam").decode(Route("iam", "ListUsers"), wire_request(params, model, "GET"))
    assert decoded == params


def test_unknown_parameters_action_and_version_are_ignored() -> None:
    request = form("Action=GetUser&Version=2010-05-08&UserName=bob&Bogus=1&UserName.member.1=x&Nope.A.B=2")
    assert QueryCodec("iam").parse(Route("iam", "GetUser"), request) == {"UserName": "bob"}


def test_lists_follow_indexes_and_empty_list() -> None:
    codec = QueryCodec("iam")
    route = Route("iam", "CreateOpenIDConnectProvider")
    body = "Url=https://x&ClientIDList.member.10=c&ClientIDList.member.2=b&ClientIDList.member.1=a&ThumbprintList="
    assert codec.decode(route, form(body)) == {
        "Url": "https://x",
        "ClientIDList": ["a", "b", "c"],
        "ThumbprintList": [],
    }


def test_booleans_and_integers_are_typed() -> None:
    body = "RoleName=r&PolicyArn=arn:aws:iam::aws:policy/x&MaxItems=5"
    decoded = QueryCodec("iam").decode(Route("iam", "ListAttachedRolePolicies"), form(body))
    assert decoded == {"RoleName": "r", "MaxItems": 5}
    decoded = QueryCodec("iam").decode(Route("iam", "UpdateAccountPasswordPolicy"), form("RequireSymbols=TRUE"))
    assert decoded == {"RequireSymbols": True}


def test_query_string_and_body_are_merged_body_first() -> None:
    request = HttpRequest(
        "POST", "/", "UserName=fromquery&Marker=q", headers={"content-type": FORM}, body=b"UserName=frombody"
    )
    decoded = QueryCodec("iam").decode(Route("iam", "ListAccessKeys"), request)
    assert decoded == {"UserName": "frombody", "Marker": "q"}


# ------------------------------------------------------------------------------------------ malformed input


def parse_error(service: str, operation: str, request: HttpRequest) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        QueryCodec(service).parse(Route(service, operation), request)
    return caught.value


def test_missing_required_member_uses_aws_message() -> None:
    error = parse_error("iam", "CreateUser", form("Action=CreateUser&Version=2010-05-08"))
    assert (error.code, error.status) == ("ValidationError", 400)
    assert error.message == (
        "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null"
    )


def test_too_long_value_is_a_validation_error() -> None:
    error = parse_error("iam", "CreateUser", form("UserName=" + "u" * 65))
    assert error.code == "ValidationError"
    assert "at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64" in (
        error.message
    )


def test_several_problems_are_counted() -> None:
    error = parse_error("sts", "AssumeRole", form("RoleSessionName=x&DurationSeconds=1"))
    assert error.message.startswith("3 validation errors detected: ")
    assert "Value null at 'roleArn'" in error.message
    assert "Value '1' at 'durationSeconds' failed to satisfy constraint: Member must have value greater" in (
        error.message
    )


@pytest.mark.parametrize(
    ("operation", "body", "path"),
    [
        ("ListUsers", "MaxItems=abc", "maxItems"),
        ("ListUsers", "MaxItems=99999999999", "maxItems"),
        ("UpdateAccountPasswordPolicy", "RequireSymbols=yes", "requireSymbols"),
    ],
)
def test_values_of_the_wrong_type(operation: str, body: str, path: str) -> None:
    error = parse_error("iam", operation, form(body))
    assert (error.code, error.status) == ("ValidationError", 400)
    assert error.message.startswith("1 validation error detected: Value '")
    assert f"' at '{path}' failed to satisfy constraint: Member must be " in error.message


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"UserName": "x"}'),
        (FORM, b"UserName=%ff%fe"),
        (FORM, b"\xff\xfe=1"),
    ],
)
def test_unreadable_bodies(content_type: str, body: bytes) -> None:
    request = HttpRequest("POST", "/", headers={"content-type": content_type}, body=body)
    error = parse_error("iam", "GetUser", request)
    assert (error.code, error.status) == ("MalformedInput", 400)


def test_too_many_fields() -> None:
    request = form("&".join(f"A{i}=1" for i in range(20)))
    with pytest.raises(ServiceError) as caught:
        QueryCodec("iam", max_fields=10).parse(Route("iam", "GetUser"), request)
    assert caught.value.code == "MalformedInput"


def test_unknown_operation() -> None:
    error = parse_error("iam", "Nope", form("Action=Nope"))
    assert (error.code, error.status) == ("InvalidAction", 400)


@pytest.mark.parametrize(
    "body",
    [
        "=&&==&.=..&....=1",
        "Tags.member.x.Key=1&Tags.member.1=2&Tags=3&Tags.member.1.Key.Deeper=4",
        "Tags.member.1.Key=k&Tags.member.99999999999999999999.Value=v",
        "UserName.=x&.UserName=y&Tags.member.=1&Tags.member.1.Key=",
    ],
)
def test_odd_names_never_raise_anything_but_service_errors(body: str) -> None:
    with contextlib.suppress(ServiceError):
        QueryCodec("iam").parse(Route("iam", "CreateUser"), form(body))


# ------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("service", "error", "fault"),
    [
        ("iam", ServiceError("NoSuchEntity", "The role with name X cannot be found.", 404), "Sender"),
        ("iam", ServiceError("ServiceFailure", "boom <&> \"'", 500, sender_fault=False), "Receiver"),
        (
            "sts",
            ServiceError("ExpiredToken", "The security token included in the request is expired", 403),
            "Sender",
        ),
        ("iam", ServiceError("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409), "Sender"),
    ],
)
def test_errors_as_botocore_reads_them(service: str, error: ServiceError, fault: str) -> None:
    response = QueryCodec(service).serialize_error(error, "req-9")
    assert response.status == error.status
    assert response.header("Content-Type") == "text/xml"
    assert response.header("x-amzn-RequestId") == "req-9"
    parsed = botocore_reads(response, None)
    assert parsed["Error"] == {"Type": fault, "Code": error.code, "Message": error.message}
    assert parsed["ResponseMetadata"]["RequestId"] == "req-9"
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == error.status


def test_error_body_is_the_documented_form() -> None:
    error = ServiceError("NoSuchEntity", "The role with name X cannot be found.", 404)
    body = QueryCodec("iam").serialize_error(error, "uuid").body.decode()
    assert body == (
        '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
        "<Code>NoSuchEntity</Code><Message>The role with name X cannot be found.</Message></Error>"
        "<RequestId>uuid</RequestId></ErrorResponse>"
    )


def test_error_headers_and_head_requests() -> None:
    error = ServiceError("AccessDenied", "no", 403, headers={"x-extra": "1"})
    response = QueryCodec("iam").serialize_error_for(error, "r", "HEAD")
    assert response.body == b""
    assert response.header("x-extra") == "1"


# ------------------------------------------------------------------------------------------ model features


def _synthetic_model() -> ServiceModel:
    """A query model with the features IAM and STS happen not to use."""
    shapes = {
        "In": {
            "type": "structure",
            "required": ["Name"],
            "members": {
                "Name": {"shape": "Str"},
                "Flat": {"shape": "FlatList"},
                "Renamed": {"shape": "NamedList", "locationName": "Other"},
                "FlatNamed": {"shape": "FlatNamedList"},
                "Attrs": {"shape": "StrMap"},
                "FlatAttrs": {"shape": "FlatMap"},
                "When": {"shape": "Time"},
                "WhenEpoch": {"shape": "EpochTime"},
                "Data": {"shape": "Bytes"},
                "Ratio": {"shape": "Num"},
                "Nested": {"shape": "In2"},
            },
        },
        "In2": {"type": "structure", "members": {"Deep": {"shape": "FlatList"}, "Flag": {"shape": "Bool"}}},
        "Out": {"type": "structure", "members": {"Nested": {"shape": "In2"}, "Attrs": {"shape": "StrMap"}}},
        "FlatList": {"type": "list", "member": {"shape": "Str"}, "flattened": True},
        "NamedList": {"type": "list", "member": {"shape": "Str", "locationName": "item"}},
        "FlatNamedList": {
            "type": "list",
            "member": {"shape": "Str", "locationName": "Thing"},
            "flattened": True,
        },
        "StrMap": {
            "type": "map",
            "key": {"shape": "Str", "locationName": "Name"},
            "value": {"shape": "Str", "locationName": "Val"},
        },
        "FlatMap": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Num"}, "flattened": True},
        "Str": {"type": "string"},
        "Bool": {"type": "boolean"},
        "Num": {"type": "double"},
        "Bytes": {"type": "blob"},
        "Time": {"type": "timestamp"},
        "EpochTime": {"type": "timestamp", "timestampFormat": "unixTimestamp"},
    }
    return ServiceModel(
        {
            "metadata": {
                "protocol": "query",
                "apiVersion": "2020-01-01",
                "xmlNamespace": "https://example.com/doc/2020-01-01/",
                "serviceId": "Example",
                "endpointPrefix": "example",
            },
            "operations": {
                "Op": {
                    "name": "Op",
                    "http": {"method": "POST", "requestUri": "/"},
                    "input": {"shape": "In"},
                    "output": {"shape": "Out", "resultWrapper": "OpResult"},
                }
            },
            "shapes": shapes,
        },
        "example",
    )


SYNTHETIC_INPUT = {
    "Name": "n m",
    "Flat": ["a", "b"],
    "Renamed": ["c"],
    "FlatNamed": ["d", "e"],
    "Attrs": {"k1": "v1", "k2": "v2"},
    "FlatAttrs": {"x": 1.5, "y": -2.0},
    "When": datetime(2024, 5, 17, 12, 30, 45, 250000, tzinfo=UTC),
    "WhenEpoch": datetime(2024, 5, 17, 12, 30, 45, tzinfo=UTC),
    "Data": b"\x00\x01binary\xff",
    "Ratio": 0.25,
    "Nested": {"Deep": ["z"], "Flag": False},
}


def test_synthetic_features_round_trip_through_botocore() -> None:
    model = _synthetic_model()
    operation = model.operation_model("Op")
    request = wire_request(SYNTHETIC_INPUT, operation)
    body = request.body.decode()
    assert "Thing.1=d" in body and "Other.item.1=c" in body and "FlatAttrs.1.key=x" in body
    decoded = QueryCodec("example", model).parse(Route("example", "Op"), request)
    assert decoded == SYNTHETIC_INPUT


def test_synthetic_output_round_trip_through_botocore() -> None:
    model = _synthetic_model()
    output = {"Nested": {"Deep": ["p", "q"], "Flag": True}, "Attrs": {"a": "1", "b": "<&>"}}
    response = QueryCodec("example", model).serialize(Route("example", "Op"), output, "rid")
    assert b"<Deep>p</Deep><Deep>q</Deep>" in response.body
    assert b"<Attrs><entry><Name>a</Name><Val>1</Val></entry>" in response.body
    parsed = botocore_reads(response, model.operation_model("Op"))
    parsed.pop("ResponseMetadata")
    assert parsed == output


# ------------------------------------------------------------------------------------------ a real client


def real_client(service: str, outputs: dict[str, Any], seen: dict[str, dict[str, Any]]) -> Any:
    """A botocore client whose requests go through the codec instead of a socket."""
    codec = QueryCodec(service)

    def send(request: Any, event_name: str, **_: Any) -> AWSResponse:
        route = Route(service, event_name.rsplit(".", 1)[-1])
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        body = request.body.encode() if isinstance(request.body, str) else request.body or b""
        try:
            seen[route.operation] = codec.parse(route, HttpRequest(request.method, "/", "", headers, body))
            output = outputs[route.operation]
            if isinstance(output, ServiceError):
                raise output
            response = codec.serialize(route, output, "RID")
        except ServiceError as error:
            response = codec.serialize_error(error, "RID")
        return botocore_response(request.url, response)

    return client_sending_to(service, send, Config(retries={"max_attempts": 1}))


def test_botocore_clients_end_to_end() -> None:
    created = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    user = {"Path": "/", "UserName": "bob", "UserId": "AIDAEXAMPLE", "Arn": "arn:aws:iam::1:user/bob"}
    outputs: dict[str, Any] = {
        "CreateUser": {"User": {**user, "CreateDate": created}},
        "ListUsers": {"Users": [{**user, "CreateDate": created}], "IsTruncated": False},
        "GetUser": ServiceError("NoSuchEntity", "The user with name nope cannot be found.", 404),
        "DeleteUser": {},
    }
    seen: dict[str, dict[str, Any]] = {}
    iam = real_client("iam", outputs, seen)
    made = iam.create_user(UserName="bob", Tags=[{"Key": "team", "Value": "edge"}])
    assert made["User"]["CreateDate"] == created
    assert seen["CreateUser"] == {"UserName": "bob", "Tags": [{"Key": "team", "Value": "edge"}]}
    assert [u["UserName"] for u in iam.list_users(MaxItems=10)["Users"]] == ["bob"]
    assert seen["ListUsers"] == {"MaxItems": 10}
    with pytest.raises(iam.exceptions.NoSuchEntityException) as missing:
        iam.get_user(UserName="nope")
    assert missing.value.response["Error"]["Message"] == "The user with name nope cannot be found."
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert iam.delete_user(UserName="bob")["ResponseMetadata"]["RequestId"] == "RID"

    identity = {
        "UserId": "AIDAEXAMPLE",
        "Account": "123456789012",
        "Arn": "arn:aws:iam::123456789012:user/bob",
    }
    sts = real_client("sts", {"GetCallerIdentity": identity}, seen)
    answer = sts.get_caller_identity()
    answer.pop("ResponseMetadata")
    assert answer == identity
