"""The router against botocore's own serializer: every operation of every service edgeward speaks."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.model import OperationModel

from edgeward.protocol import catalog
from edgeward.protocol.codec import Route
from edgeward.protocol.http import HttpRequest
from edgeward.protocol.router import RouteError, resolve, warm_up
from tests.unit.protocol.botowire import operations, sample_input, wire_request

# Wire-identical on AWS: the deprecated operation and its successor send the same method, path and query,
# so a server cannot tell them apart and answers with the current one (whose input is a superset).
WIRE_TWINS = {
    "GetBucketLifecycle": "GetBucketLifecycleConfiguration",
    "PutBucketLifecycle": "PutBucketLifecycleConfiguration",
    "GetBucketNotification": "GetBucketNotificationConfiguration",
    "PutBucketNotification": "PutBucketNotificationConfiguration",
}


def _cases() -> list[Any]:
    return [
        pytest.param(service, operation, id=f"{service}.{operation.name}")
        for service in catalog.SERVICES
        for operation in operations(service)
    ]


def _uri_params(operation: OperationModel, params: dict[str, Any]) -> dict[str, str]:
    shape = operation.input_shape
    expected: dict[str, str] = {}
    if shape is None:
        return expected
    for name, member in shape.members.items():
        if member.serialization.get("location") == "uri" and name in params:
            value = params[name]
            expected[member.serialization.get("name", name)] = (
                str(value).lower() if isinstance(value, bool) else str(value)
            )
    return expected


@pytest.mark.parametrize(("service", "operation"), _cases())
def test_every_operation_routes(service: str, operation: OperationModel) -> None:
    params = sample_input(operation)
    request = wire_request(service, operation, params)
    route = resolve(request, catalog.SERVICES[service])
    expected_operation = WIRE_TWINS.get(operation.name, operation.name) if service == "s3" else operation.name
    assert route == Route(service, expected_operation, _uri_params(operation, params))


def test_every_service_is_covered() -> None:
    assert set(catalog.SERVICES) == {"iam", "sts", "iot", "sagemaker", "sagemaker-edge", "s3"}


def _s3(operation: str, **params: Any) -> HttpRequest:
    return wire_request("s3", catalog.operation_model("s3", operation), params)


@pytest.mark.parametrize(
    "key",
    [
        "plain.txt",
        "dir/sub/file name with spaces.bin",
        "a%2Fb",  # a literal percent sign: sent as %252F, decoded once
        "/leading/and//double//slashes/",
        "query?hash#plus+tilde~semicolon;colon:at@equals=amp&",
        "ünïcødé/日本語/😀",
        "trailing-slash/",
        "..",
    ],
)
def test_s3_keys_decode_exactly(key: str) -> None:
    route = resolve(_s3("GetObject", Bucket="my-bucket", Key=key), "s3")
    assert route == Route("s3", "GetObject", {"Bucket": "my-bucket", "Key": key})


def test_s3_encoded_slash_in_key_is_a_slash() -> None:
    request = HttpRequest("GET", "/b/dir%2Ffile")
    assert resolve(request, "s3").uri_params == {"Bucket": "b", "Key": "dir/file"}


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("PutObject", {}, "PutObject"),
        ("UploadPart", {"PartNumber": 2, "UploadId": "u"}, "UploadPart"),
        ("CopyObject", {"CopySource": "src/k"}, "CopyObject"),
        ("UploadPartCopy", {"CopySource": "src/k", "PartNumber": 1, "UploadId": "u"}, "UploadPartCopy"),
        ("DeleteObject", {}, "DeleteObject"),
        ("AbortMultipartUpload", {"UploadId": "u"}, "AbortMultipartUpload"),
        ("GetObject", {}, "GetObject"),
        ("GetObject", {"PartNumber": 1, "Range": "bytes=0-1"}, "GetObject"),
        ("ListParts", {"UploadId": "u"}, "ListParts"),
        ("CreateMultipartUpload", {}, "CreateMultipartUpload"),
        ("CompleteMultipartUpload", {"UploadId": "u"}, "CompleteMultipartUpload"),
    ],
)
def test_s3_object_operations_sharing_a_path(operation: str, params: dict[str, Any], expected: str) -> None:
    request = _s3(operation, Bucket="b", Key="k", **params)
    assert resolve(request, "s3") == Route("s3", expected, {"Bucket": "b", "Key": "k"})


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("ListObjects", {}),
        ("ListObjects", {"Prefix": "p", "Delimiter": "/"}),
        ("ListObjectsV2", {"Prefix": "", "Delimiter": "/", "EncodingType": "url"}),
        ("ListMultipartUploads", {}),
        ("ListBucketMetricsConfigurations", {}),
        ("GetBucketMetricsConfiguration", {"Id": "m"}),
        ("HeadBucket", {}),
        ("CreateBucket", {}),
        ("DeleteBucket", {}),
        ("DeleteObjects", {"Delete": {"Objects": [{"Key": "k"}]}}),
    ],
)
def test_s3_bucket_operations(operation: str, params: dict[str, Any]) -> None:
    assert resolve(_s3(operation, Bucket="b", **params), "s3") == Route("s3", operation, {"Bucket": "b"})


def test_s3_list_buckets_and_directory_buckets() -> None:
    assert resolve(_s3("ListBuckets"), "s3").operation == "ListBuckets"
    assert resolve(_s3("ListDirectoryBuckets", MaxDirectoryBuckets=5), "s3").operation == "ListDirectoryBuckets"


def test_s3_bucket_with_trailing_slash_is_a_bucket_operation() -> None:
    request = HttpRequest("GET", "/b/", query_string="list-type=2&prefix=&delimiter=%2F")
    assert resolve(request, "s3") == Route("s3", "ListObjectsV2", {"Bucket": "b"})


def test_s3_virtual_host_hook() -> None:
    request = HttpRequest("GET", "/dir/k", headers={"host": "b.s3.edgeward.test"})
    assert resolve(request, "s3", bucket_from_host="b") == Route("s3", "GetObject", {"Bucket": "b", "Key": "dir/k"})
    listing = HttpRequest("GET", "/", query_string="list-type=2")
    assert resolve(listing, "s3", bucket_from_host="b") == Route("s3", "ListObjectsV2", {"Bucket": "b"})


def test_iot_trailing_slash_templates_accept_both_forms() -> None:
    for path in ("/authorizers/", "/authorizers"):
        assert resolve(HttpRequest("GET", path), "iot") == Route("iot", "ListAuthorizers")


def test_iot_label_with_encoded_slash() -> None:
    request = wire_request("iot", catalog.operation_model("iot", "DescribeThing"), {"thingName": "a/b c"})
    assert request.raw_path == "/things/a%2Fb%20c"
    assert resolve(request, "iot") == Route("iot", "DescribeThing", {"thingName": "a/b c"})


def test_iot_role_alias_operations() -> None:
    assert resolve(HttpRequest("GET", "/role-aliases/edge-alias"), "iot") == Route(
        "iot", "DescribeRoleAlias", {"roleAlias": "edge-alias"}
    )
    assert resolve(HttpRequest("GET", "/role-aliases", query_string="pageSize=5"), "iot").operation == (
        "ListRoleAliases"
    )
    assert resolve(HttpRequest("GET", "/endpoint", query_string="endpointType=iot%3AData-ATS"), "iot") == Route(
        "iot", "DescribeEndpoint"
    )


# --- the service for a request ----------------------------------------------------------------------------


def _form(body: str, **headers: str) -> HttpRequest:
    return HttpRequest(
        "POST",
        "/",
        headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8", **headers},
        body=body.encode(),
    )


def test_unsigned_query_requests_by_version() -> None:
    sts = _form("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=r")
    assert resolve(sts, None) == Route("sts", "AssumeRoleWithWebIdentity")
    iam = _form("Action=ListUsers&Version=2010-05-08")
    assert resolve(iam, None) == Route("iam", "ListUsers")
    get = HttpRequest("GET", "/", query_string="Action=GetCallerIdentity&Version=2011-06-15")
    assert resolve(get, None) == Route("sts", "GetCallerIdentity")


def test_unsigned_sagemaker_target() -> None:
    request = HttpRequest("POST", "/", headers={"x-amz-target": "SageMaker.ListDeviceFleets"}, body=b"{}")
    assert resolve(request, None) == Route("sagemaker", "ListDeviceFleets")


def test_unsigned_anything_else_is_anonymous_s3() -> None:
    assert resolve(HttpRequest("GET", "/public/photo.jpg"), None) == Route(
        "s3", "GetObject", {"Bucket": "public", "Key": "photo.jpg"}
    )
    assert resolve(HttpRequest("GET", "/"), None) == Route("s3", "ListBuckets")


def test_signed_query_get() -> None:
    request = HttpRequest("GET", "/", query_string="Action=GetUser&Version=2010-05-08")
    assert resolve(request, "iam") == Route("iam", "GetUser")


def test_sagemaker_signing_name_covers_edge_data_plane() -> None:
    heartbeat = HttpRequest("POST", "/SendHeartbeat", headers={"content-type": "application/json"}, body=b"{}")
    assert resolve(heartbeat, "sagemaker") == Route("sagemaker-edge", "SendHeartbeat")
    control = HttpRequest("POST", "/", headers={"x-amz-target": "SageMaker.DescribeDeviceFleet"})
    assert resolve(control, "sagemaker") == Route("sagemaker", "DescribeDeviceFleet")


# --- no route ------------------------------------------------------------------------------------------


def _route_error(request: HttpRequest, signing: str | None) -> RouteError:
    with pytest.raises(RouteError) as caught:
        resolve(request, signing)
    return caught.value


@pytest.mark.parametrize(
    ("service", "body", "message"),
    [
        ("iam", "Action=Nope&Version=2010-05-08", "Could not find operation Nope for version 2010-05-08"),
        (
            "sts",
            "Action=ListUsers&Version=2011-06-15",
            "Could not find operation ListUsers for version 2011-06-15",
        ),
        ("iam", "Version=2010-05-08", "Missing Action"),
    ],
)
def test_unknown_query_action(service: str, body: str, message: str) -> None:
    error = _route_error(_form(body), service)
    assert (error.service, error.error.code, error.error.message, error.error.status) == (
        service,
        "InvalidAction",
        message,
        400,
    )


def test_unsigned_unknown_action() -> None:
    error = _route_error(_form("Action=Nope&Version=2011-06-15"), None)
    assert (error.service, error.error.code) == ("sts", "InvalidAction")


@pytest.mark.parametrize("target", ["SageMaker.Nope", "Other.ListDeviceFleets", "SageMaker", ""])
def test_unknown_sagemaker_target(target: str) -> None:
    request = HttpRequest("POST", "/", headers={"x-amz-target": target}, body=b"{}")
    error = _route_error(request, "sagemaker")
    assert (error.service, error.error.code, error.error.status) == (
        "sagemaker",
        "UnknownOperationException",
        400,
    )


@pytest.mark.parametrize(
    ("method", "path", "signing", "service", "code", "status"),
    [
        ("GET", "/no-such-thing-collection", "iot", "iot", "UnknownOperationException", 404),
        ("PUT", "/things", "iot", "iot", "UnknownOperationException", 404),
        ("GET", "/SendHeartbeat", "sagemaker", "sagemaker-edge", "UnknownOperationException", 404),
        ("POST", "/Nope", "sagemaker", "sagemaker-edge", "UnknownOperationException", 404),
        ("PATCH", "/bucket", "s3", "s3", "MethodNotAllowed", 405),
        ("POST", "/bucket", "s3", "s3", "MethodNotAllowed", 405),
        ("GET", "//k", "s3", "s3", "MethodNotAllowed", 405),
        ("GET", "/", "ec2", "s3", "MethodNotAllowed", 405),
    ],
)
def test_no_matching_path(method: str, path: str, signing: str, service: str, code: str, status: int) -> None:
    error = _route_error(HttpRequest(method, path), signing)
    assert (error.service, error.error.code, error.error.status) == (service, code, status)


def test_unknown_signing_service_answers_in_the_guessed_protocol() -> None:
    error = _route_error(_form("Action=DescribeInstances&Version=2016-11-15"), "ec2")
    assert error.service == "sts"
    assert "ec2" in error.error.message


def test_invalid_utf8_in_label() -> None:
    error = _route_error(HttpRequest("GET", "/b/%FF%FE"), "s3")
    assert (error.service, error.error.code, error.error.status) == ("s3", "InvalidArgument", 400)


def test_warm_up_compiles_every_table() -> None:
    warm_up()
    assert resolve(HttpRequest("GET", "/things"), "iot") == Route("iot", "ListThings")
