"""IoT things, thing types and thing principals through boto3 and the AWS CLI: seed 001 step 1, attribute and
version semantics, filters and pagination, the principal rules, and denials for a caller without permissions.
"""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from edgeward.storage.repos import iot_things
from tests.serverfixtures import RunningServer
from tests.services.test_iam_roles import error_of, limited_client, server_account, server_db


def cert_arn(server: RunningServer, certificate_id: str) -> str:
    return f"arn:aws:iot:us-east-1:{server_account(server)}:cert/{certificate_id}"


def new_certificate(server: RunningServer) -> str:
    """A real certificate's ARN (principals that are certificate ARNs must exist)."""
    return str(server.client("iot").create_keys_and_certificate(setAsActive=True)["certificateArn"])


def test_seed_001_step_1_thing_type_and_thing(server: RunningServer) -> None:
    iot = server.client("iot")
    account = server_account(server)
    created_type = iot.create_thing_type(thingTypeName="getting-started-demo")
    assert created_type["thingTypeArn"] == f"arn:aws:iot:us-east-1:{account}:thingtype/getting-started-demo"
    created = iot.create_thing(thingName="sample-device", thingTypeName="getting-started-demo")
    assert created["thingArn"] == f"arn:aws:iot:us-east-1:{account}:thing/sample-device"
    described = iot.describe_thing(thingName="sample-device")
    assert described["thingTypeName"] == "getting-started-demo"
    assert described["thingId"] == created["thingId"]
    assert described["defaultClientId"] == "sample-device"
    assert (described["version"], described["attributes"]) == (1, {})


def test_create_thing_is_idempotent_for_the_same_configuration(server: RunningServer) -> None:
    iot = server.client("iot")
    payload = {"attributes": {"room": "lab"}}
    first = iot.create_thing(thingName="twice", attributePayload=payload)
    again = iot.create_thing(thingName="twice", attributePayload=payload)
    assert again["thingId"] == first["thingId"]
    with pytest.raises(ClientError) as caught:
        iot.create_thing(thingName="twice", attributePayload={"attributes": {"room": "hall"}})
    code, message, status = error_of(caught)
    assert (code, status) == ("ResourceAlreadyExistsException", 409)
    assert message == "Thing twice already exists in account with different attributes"
    assert caught.value.response["resourceArn"] == first["thingArn"]


def test_concurrent_creates_of_one_thing_with_different_attributes(server: RunningServer) -> None:
    iot = server.client("iot")

    def create(index: int) -> str:
        try:
            iot.create_thing(thingName="contested", attributePayload={"attributes": {"writer": str(index)}})
            return "created"
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(create, range(6)))
    assert sorted(outcomes) == ["ResourceAlreadyExistsException"] * 5 + ["created"]
    assert len(iot.describe_thing(thingName="contested")["attributes"]) == 1


@pytest.mark.parametrize(
    ("name", "constraint"),
    [
        ("has space", "Member must satisfy regular expression pattern: [a-zA-Z0-9:_-]+"),
        ("x" * 129, "Member must have length less than or equal to 128"),
    ],
)
def test_names_outside_the_pattern(server: RunningServer, name: str, constraint: str) -> None:
    iot = server.client("iot")
    with pytest.raises(ClientError) as caught:
        iot.create_thing(thingName=name)
    code, message, status = error_of(caught)
    assert (code, status) == ("InvalidRequestException", 400)
    assert constraint in message


def test_missing_things_and_types(server: RunningServer) -> None:
    iot = server.client("iot")
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as caught:
        iot.describe_thing(thingName="nowhere")
    assert error_of(caught)[1:] == ("Thing nowhere cannot be found.", 404)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_thing(thingName="nowhere", attributePayload={"attributes": {"a": "b"}})
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.create_thing(thingName="typed", thingTypeName="no-such-type")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_thing_type(thingTypeName="no-such-type")
    iot.delete_thing(thingName="nowhere")  # IoT: deleting a missing thing succeeds


def test_update_thing_attributes_version_and_type(server: RunningServer) -> None:
    iot = server.client("iot")
    iot.create_thing_type(thingTypeName="sensor")
    iot.create_thing(thingName="updatable", attributePayload={"attributes": {"a": "1", "b": "2"}})
    iot.update_thing(thingName="updatable", attributePayload={"attributes": {"b": "3", "c": "4"}, "merge": True})
    described = iot.describe_thing(thingName="updatable")
    assert (described["attributes"], described["version"]) == ({"a": "1", "b": "3", "c": "4"}, 2)
    iot.update_thing(thingName="updatable", attributePayload={"attributes": {"a": ""}, "merge": True})
    assert iot.describe_thing(thingName="updatable")["attributes"] == {"b": "3", "c": "4"}
    iot.update_thing(thingName="updatable", attributePayload={"attributes": {"z": "9"}})
    assert iot.describe_thing(thingName="updatable")["attributes"] == {"z": "9"}

    with pytest.raises(iot.exceptions.VersionConflictException) as caught:
        iot.update_thing(thingName="updatable", thingTypeName="sensor", expectedVersion=1)
    assert error_of(caught)[1:] == ("The version for thing updatable does not match the expected version.", 409)
    iot.update_thing(thingName="updatable", thingTypeName="sensor", expectedVersion=4)
    described = iot.describe_thing(thingName="updatable")
    assert (described["thingTypeName"], described["version"], described["attributes"]) == ("sensor", 5, {"z": "9"})

    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.update_thing(thingName="updatable", thingTypeName="sensor", removeThingType=True)
    iot.update_thing(thingName="updatable", removeThingType=True)
    assert "thingTypeName" not in iot.describe_thing(thingName="updatable")


def test_attribute_quota_depends_on_the_thing_type(server: RunningServer) -> None:
    iot = server.client("iot")
    four = {"attributes": {f"k{i}": "v" for i in range(4)}}
    with pytest.raises(iot.exceptions.InvalidRequestException) as caught:
        iot.create_thing(thingName="untyped-four", attributePayload=four)
    assert "at most 3 attributes" in error_of(caught)[1]
    iot.create_thing_type(thingTypeName="roomy")
    iot.create_thing(thingName="typed-four", thingTypeName="roomy", attributePayload=four)
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.update_thing(thingName="typed-four", removeThingType=True)
    assert iot.describe_thing(thingName="typed-four")["thingTypeName"] == "roomy"


def test_thing_type_deprecation_and_deletion(server: RunningServer) -> None:
    iot = server.client("iot")
    iot.create_thing_type(
        thingTypeName="camera",
        thingTypeProperties={"thingTypeDescription": "DeepLens", "searchableAttributes": ["model"]},
    )
    iot.create_thing(thingName="cam-1", thingTypeName="camera")
    with pytest.raises(iot.exceptions.InvalidRequestException) as caught:
        iot.delete_thing_type(thingTypeName="camera")
    assert "Deprecate the thing type" in error_of(caught)[1]

    iot.deprecate_thing_type(thingTypeName="camera")
    described = iot.describe_thing_type(thingTypeName="camera")
    assert described["thingTypeMetadata"]["deprecated"] is True
    assert "deprecationDate" in described["thingTypeMetadata"]
    assert described["thingTypeProperties"] == {"thingTypeDescription": "DeepLens", "searchableAttributes": ["model"]}
    with pytest.raises(iot.exceptions.InvalidRequestException) as caught:
        iot.create_thing(thingName="cam-2", thingTypeName="camera")
    assert error_of(caught)[1] == "Can not create new thing with deprecated thing type : camera"
    with pytest.raises(iot.exceptions.InvalidRequestException) as caught:
        iot.delete_thing_type(thingTypeName="camera")
    assert "things associated" in error_of(caught)[1]

    iot.deprecate_thing_type(thingTypeName="camera", undoDeprecate=True)
    metadata = iot.describe_thing_type(thingTypeName="camera")["thingTypeMetadata"]
    assert metadata["deprecated"] is False and "deprecationDate" not in metadata
    iot.create_thing(thingName="cam-2", thingTypeName="camera")

    iot.deprecate_thing_type(thingTypeName="camera")
    for name in ("cam-1", "cam-2"):
        iot.delete_thing(thingName=name)
    iot.delete_thing_type(thingTypeName="camera")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_thing_type(thingTypeName="camera")


def test_create_thing_type_twice(server: RunningServer) -> None:
    iot = server.client("iot")
    first = iot.create_thing_type(thingTypeName="repeat", thingTypeProperties={"thingTypeDescription": "d"})
    again = iot.create_thing_type(thingTypeName="repeat", thingTypeProperties={"thingTypeDescription": "d"})
    assert again["thingTypeId"] == first["thingTypeId"]
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException):
        iot.create_thing_type(thingTypeName="repeat", thingTypeProperties={"thingTypeDescription": "other"})


def test_list_thing_types_pages_and_filters(server: RunningServer) -> None:
    iot = server.client("iot")
    for index in range(5):
        iot.create_thing_type(thingTypeName=f"listed-type-{index}")
    pages = iot.get_paginator("list_thing_types").paginate(PaginationConfig={"PageSize": 2})
    names = [item["thingTypeName"] for page in pages for item in page["thingTypes"]]
    assert [name for name in names if name.startswith("listed-type-")] == [f"listed-type-{i}" for i in range(5)]
    assert names == sorted(names)
    only = iot.list_thing_types(thingTypeName="listed-type-3")["thingTypes"]
    assert [item["thingTypeName"] for item in only] == ["listed-type-3"]
    assert only[0]["thingTypeMetadata"]["deprecated"] is False


def test_list_things_filters_and_pagination(server: RunningServer) -> None:
    iot = server.client("iot")
    iot.create_thing_type(thingTypeName="fleet-member")
    fleet = {
        "fleet-0": ("fleet-member", {"site": "berlin-1", "n": "0"}),
        "fleet-1": (None, {"site": "berlin-2"}),
        "fleet-2": ("fleet-member", {"site": "berlin-1", "n": "2"}),
        "fleet-3": (None, {"site": "berlin-2"}),
        "fleet-4": ("fleet-member", {"site": "munich", "n": "4"}),
        "fleet-5": (None, {"site": "munich"}),
        "fleet-6": ("fleet-member", {"site": "munich", "n": "6"}),
    }
    for name, (thing_type, attributes) in fleet.items():
        typed = {"thingTypeName": thing_type} if thing_type else {}
        iot.create_thing(thingName=name, attributePayload={"attributes": attributes}, **typed)

    def names(**kwargs: Any) -> list[str]:
        pages = iot.get_paginator("list_things").paginate(**kwargs, PaginationConfig={"PageSize": 2})
        return [thing["thingName"] for page in pages for thing in page["things"]]

    everything = names()
    assert [n for n in everything if n.startswith("fleet-")] == [f"fleet-{i}" for i in range(7)]
    assert names(attributeName="site", attributeValue="munich") == ["fleet-4", "fleet-5", "fleet-6"]
    assert names(attributeName="site", attributeValue="berlin", usePrefixAttributeValue=True) == [
        "fleet-0",
        "fleet-1",
        "fleet-2",
        "fleet-3",
    ]
    assert names(attributeName="n") == ["fleet-0", "fleet-2", "fleet-4", "fleet-6"]
    assert names(thingTypeName="fleet-member") == ["fleet-0", "fleet-2", "fleet-4", "fleet-6"]
    assert names(thingTypeName="fleet-member", attributeName="site", attributeValue="munich") == ["fleet-4", "fleet-6"]

    first = iot.list_things(maxResults=3, attributeName="site", attributeValue="berlin", usePrefixAttributeValue=True)
    assert len(first["things"]) == 3 and first["nextToken"]
    assert first["things"][0]["attributes"]["site"] == "berlin-1"
    rest = iot.list_things(
        maxResults=3,
        attributeName="site",
        attributeValue="berlin",
        usePrefixAttributeValue=True,
        nextToken=first["nextToken"],
    )
    assert [thing["thingName"] for thing in rest["things"]] == ["fleet-3"] and "nextToken" not in rest
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_things(nextToken="garbage")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_things(maxResults=251)


def test_thing_principals(server: RunningServer) -> None:
    iot = server.client("iot")
    account = server_account(server)
    cert = new_certificate(server)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.attach_thing_principal(thingName="unknown-thing", principal=cert)
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as caught:
        iot.list_thing_principals(thingName="unknown-thing")
    assert error_of(caught)[1] == (
        "Failed to list principals for thing unknown-thing because the thing does not exist in your account"
    )

    for name in ("device-a", "device-b"):
        iot.create_thing(thingName=name)
        iot.attach_thing_principal(thingName=name, principal=cert)
    unknown = cert_arn(server, "a" * 64)
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as caught:
        iot.attach_thing_principal(thingName="device-a", principal=unknown)
    assert error_of(caught)[1] == f"The certificate {unknown} does not exist."
    iot.attach_thing_principal(thingName="device-a", principal=cert)  # again: no change
    assert iot.list_thing_principals(thingName="device-a")["principals"] == [cert]
    assert iot.list_principal_things(principal=cert)["things"] == ["device-a", "device-b"]
    with server_db(server) as conn:
        assert iot_things.is_principal_attached(conn, account, "device-a", cert)
        assert not iot_things.is_principal_attached(conn, account, "device-b", unknown)
        assert iot_things.principal_thing_count(conn, account, cert) == 2
        record = iot_things.get_thing(conn, account, "device-a")
        assert record is not None and record.arn.endswith(":thing/device-a") and record.version == 1

    with pytest.raises(iot.exceptions.InvalidRequestException) as caught:
        iot.delete_thing(thingName="device-a")
    assert error_of(caught)[1] == "Cannot delete. Thing device-a is still attached to one or more principals"
    iot.detach_thing_principal(thingName="device-a", principal=cert)
    iot.detach_thing_principal(thingName="device-a", principal=cert)  # again: nothing to do
    assert iot.list_thing_principals(thingName="device-a")["principals"] == []
    iot.delete_thing(thingName="device-a")
    assert iot.list_principal_things(principal=cert)["things"] == ["device-b"]


def test_principal_pages(server: RunningServer) -> None:
    iot = server.client("iot")
    iot.create_thing(thingName="many-principals")
    # Cognito identities: principals that are not certificates are kept as given
    principals = [f"us-east-1:00000000-0000-0000-0000-00000000000{index}" for index in range(5)]
    for principal in principals:
        iot.attach_thing_principal(thingName="many-principals", principal=principal)
    pages = iot.get_paginator("list_thing_principals").paginate(
        thingName="many-principals", PaginationConfig={"PageSize": 2}
    )
    assert [p for page in pages for p in page["principals"]] == principals


def test_exclusive_thing_principal(server: RunningServer) -> None:
    iot = server.client("iot")
    solo, shared = new_certificate(server), new_certificate(server)
    for name in ("excl-1", "excl-2"):
        iot.create_thing(thingName=name)
    iot.attach_thing_principal(thingName="excl-1", principal=solo, thingPrincipalType="EXCLUSIVE_THING")
    with pytest.raises(iot.exceptions.InvalidRequestException) as caught:
        iot.attach_thing_principal(thingName="excl-2", principal=solo)
    assert "exclusively attached to thing excl-1" in error_of(caught)[1]
    iot.attach_thing_principal(thingName="excl-1", principal=shared)
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.attach_thing_principal(thingName="excl-2", principal=shared, thingPrincipalType="EXCLUSIVE_THING")


def test_user_without_permissions_is_denied(server: RunningServer) -> None:
    iot = server.client("iot")
    iot.create_thing_type(thingTypeName="guarded-type")
    iot.create_thing(thingName="guarded")
    limited = limited_client(server, "iot", "thingless-user")
    account = server_account(server)
    user = f"arn:aws:iam::{account}:user/thingless-user"
    thing = f"arn:aws:iot:us-east-1:{account}:thing/guarded"
    thing_type = f"arn:aws:iot:us-east-1:{account}:thingtype/guarded-type"
    cert = cert_arn(server, "e" * 64)
    prefix = f"arn:aws:iot:us-east-1:{account}"
    calls = [
        ("CreateThing", f"{prefix}:thing/new-one", lambda: limited.create_thing(thingName="new-one")),
        ("DescribeThing", thing, lambda: limited.describe_thing(thingName="guarded")),
        ("UpdateThing", thing, lambda: limited.update_thing(thingName="guarded", removeThingType=True)),
        ("DeleteThing", thing, lambda: limited.delete_thing(thingName="guarded")),
        ("ListThings", "*", lambda: limited.list_things()),
        ("CreateThingType", f"{prefix}:thingtype/t2", lambda: limited.create_thing_type(thingTypeName="t2")),
        ("DescribeThingType", thing_type, lambda: limited.describe_thing_type(thingTypeName="guarded-type")),
        ("DeprecateThingType", thing_type, lambda: limited.deprecate_thing_type(thingTypeName="guarded-type")),
        ("DeleteThingType", thing_type, lambda: limited.delete_thing_type(thingTypeName="guarded-type")),
        ("ListThingTypes", "*", lambda: limited.list_thing_types()),
        ("AttachThingPrincipal", thing, lambda: limited.attach_thing_principal(thingName="guarded", principal=cert)),
        ("DetachThingPrincipal", thing, lambda: limited.detach_thing_principal(thingName="guarded", principal=cert)),
        ("ListThingPrincipals", thing, lambda: limited.list_thing_principals(thingName="guarded")),
        ("ListPrincipalThings", "*", lambda: limited.list_principal_things(principal=cert)),
    ]  # fmt: skip
    for action, resource, call in calls:
        with pytest.raises(ClientError) as caught:
            call()
        code, message, status = error_of(caught)
        assert (code, status) == ("AccessDeniedException", 403), action
        assert message == (
            f"User: {user} is not authorized to perform: iot:{action} on resource: {resource} "
            f"because no identity-based policy allows the iot:{action} action"
        )
    assert iot.describe_thing(thingName="guarded")["version"] == 1
    assert iot.list_thing_principals(thingName="guarded")["principals"] == []


def test_things_with_the_aws_cli(server: RunningServer) -> None:
    env = server.env()

    def aws(*args: str) -> Any:
        done = subprocess.run(["aws", "iot", *args], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    assert aws("create-thing-type", "--thing-type-name", "cli-demo")["thingTypeName"] == "cli-demo"
    created = aws("create-thing", "--thing-name", "cli-device", "--thing-type-name", "cli-demo")
    assert created["thingName"] == "cli-device"
    aws(
        "update-thing",
        "--thing-name",
        "cli-device",
        "--attribute-payload",
        '{"attributes":{"cli-room":"lab"},"merge":true}',
    )
    described = aws("describe-thing", "--thing-name", "cli-device")
    assert (described["thingTypeName"], described["attributes"], described["version"]) == (
        "cli-demo",
        {"cli-room": "lab"},
        2,
    )
    listed = aws("list-things", "--attribute-name", "cli-room", "--attribute-value", "lab")["things"]
    assert [thing["thingName"] for thing in listed] == ["cli-device"]
    aws("delete-thing", "--thing-name", "cli-device")
    failed = subprocess.run(
        ["aws", "iot", "describe-thing", "--thing-name", "cli-device"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode != 0 and "ResourceNotFoundException" in failed.stderr
