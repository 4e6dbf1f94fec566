"""IoT static thing groups through boto3 and the AWS CLI: the hierarchy, membership by name and ARN, listings
and pagination, versions, deletion rules, the groups a thing's policies come from, and denials.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from botocore.exceptions import ClientError

from edgeward.storage.repos import iot_things
from tests.serverfixtures import RunningServer
from tests.services.test_iam_roles import error_of, limited_client, server_account, server_db


def group_arn(server: RunningServer, name: str) -> str:
    return f"arn:aws:iot:us-east-1:{server_account(server)}:thinggroup/{name}"


def test_hierarchy_and_describe(server: RunningServer) -> None:
    iot = server.client("iot")
    root = iot.create_thing_group(
        thingGroupName="building",
        thingGroupProperties={"thingGroupDescription": "HQ", "attributePayload": {"attributes": {"city": "Berlin"}}},
        tags=[{"Key": "team", "Value": "edge"}],
    )
    assert root["thingGroupArn"] == group_arn(server, "building")
    iot.create_thing_group(thingGroupName="floor-1", parentGroupName="building")
    iot.create_thing_group(thingGroupName="room-101", parentGroupName="floor-1")

    described = iot.describe_thing_group(thingGroupName="room-101")
    assert described["thingGroupMetadata"]["parentGroupName"] == "floor-1"
    assert described["thingGroupMetadata"]["rootToParentThingGroups"] == [
        {"groupName": "building", "groupArn": group_arn(server, "building")},
        {"groupName": "floor-1", "groupArn": group_arn(server, "floor-1")},
    ]
    top = iot.describe_thing_group(thingGroupName="building")
    assert top["thingGroupId"] == root["thingGroupId"] and top["version"] == 1
    assert top["thingGroupProperties"] == {
        "thingGroupDescription": "HQ",
        "attributePayload": {"attributes": {"city": "Berlin"}},
    }
    assert "parentGroupName" not in top["thingGroupMetadata"]


def test_create_twice_and_missing_parent(server: RunningServer) -> None:
    iot = server.client("iot")
    first = iot.create_thing_group(thingGroupName="again")
    assert iot.create_thing_group(thingGroupName="again")["thingGroupId"] == first["thingGroupId"]
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException):
        iot.create_thing_group(thingGroupName="again", thingGroupProperties={"thingGroupDescription": "changed"})
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.create_thing_group(thingGroupName="orphan", parentGroupName="no-such-group")
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as caught:
        iot.describe_thing_group(thingGroupName="no-such-group")
    assert error_of(caught)[1:] == ("Thing group no-such-group cannot be found.", 404)


def test_hierarchy_depth_is_limited_to_seven(server: RunningServer) -> None:
    iot = server.client("iot")
    iot.create_thing_group(thingGroupName="depth-1")
    for level in range(2, 8):
        iot.create_thing_group(thingGroupName=f"depth-{level}", parentGroupName=f"depth-{level - 1}")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.create_thing_group(thingGroupName="depth-8", parentGroupName="depth-7")


def test_membership_by_name_and_arn(server: RunningServer) -> None:
    iot = server.client("iot")
    account = server_account(server)
    iot.create_thing_group(thingGroupName="site")
    iot.create_thing_group(thingGroupName="line-a", parentGroupName="site")
    iot.create_thing_group(thingGroupName="line-b", parentGroupName="site")
    for name in ("press-1", "press-2", "robot-1"):
        iot.create_thing(thingName=name)
    iot.add_thing_to_thing_group(thingGroupName="line-a", thingName="press-1")
    iot.add_thing_to_thing_group(thingGroupArn=group_arn(server, "line-a"), thingName="press-2")
    press_arn = iot.describe_thing(thingName="press-1")["thingArn"]
    iot.add_thing_to_thing_group(thingGroupName="line-b", thingArn=press_arn)
    iot.add_thing_to_thing_group(thingGroupName="line-b", thingName="robot-1")
    iot.add_thing_to_thing_group(thingGroupName="line-b", thingName="robot-1")  # again: no change

    assert iot.list_things_in_thing_group(thingGroupName="line-a")["things"] == ["press-1", "press-2"]
    assert iot.list_things_in_thing_group(thingGroupName="site")["things"] == []
    assert iot.list_things_in_thing_group(thingGroupName="site", recursive=True)["things"] == [
        "press-1",
        "press-2",
        "robot-1",
    ]
    groups = iot.list_thing_groups_for_thing(thingName="press-1")["thingGroups"]
    assert groups == [
        {"groupName": "line-a", "groupArn": group_arn(server, "line-a")},
        {"groupName": "line-b", "groupArn": group_arn(server, "line-b")},
    ]
    with server_db(server) as conn:
        assert iot_things.thing_group_arns_for_thing(conn, account, "press-1") == sorted(
            group_arn(server, name) for name in ("line-a", "line-b", "site")
        )
        assert iot_things.thing_group_arns_for_thing(conn, account, "no-such-thing") == []

    iot.remove_thing_from_thing_group(thingGroupName="line-a", thingName="press-1")
    iot.remove_thing_from_thing_group(thingGroupName="line-a", thingName="press-1")  # again: nothing to do
    assert iot.list_things_in_thing_group(thingGroupName="line-a")["things"] == ["press-2"]

    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.add_thing_to_thing_group(thingGroupName="line-a", thingName="no-such-thing")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.add_thing_to_thing_group(thingGroupName="no-such-group", thingName="press-1")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.add_thing_to_thing_group(thingName="press-1")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        foreign = "arn:aws:iot:us-east-1:000000000000:thinggroup/x"
        iot.add_thing_to_thing_group(thingGroupArn=foreign, thingName="press-1")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.list_thing_groups_for_thing(thingName="no-such-thing")


def test_a_thing_is_in_at_most_ten_groups(server: RunningServer) -> None:
    iot = server.client("iot")
    iot.create_thing(thingName="joiner")
    for index in range(11):
        iot.create_thing_group(thingGroupName=f"club-{index:02d}")
    for index in range(10):
        iot.add_thing_to_thing_group(thingGroupName=f"club-{index:02d}", thingName="joiner")
    iot.add_thing_to_thing_group(thingGroupName="club-00", thingName="joiner")  # already in: fine
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.add_thing_to_thing_group(thingGroupName="club-10", thingName="joiner")
    pages = iot.get_paginator("list_thing_groups_for_thing").paginate(
        thingName="joiner", PaginationConfig={"PageSize": 3}
    )
    assert [g["groupName"] for page in pages for g in page["thingGroups"]] == [f"club-{i:02d}" for i in range(10)]


def test_list_thing_groups(server: RunningServer) -> None:
    iot = server.client("iot")
    iot.create_thing_group(thingGroupName="zone")
    for name in ("zone-a", "zone-b", "zone-c"):
        iot.create_thing_group(thingGroupName=name, parentGroupName="zone")
    iot.create_thing_group(thingGroupName="zone-a-1", parentGroupName="zone-a")

    def names(**kwargs: Any) -> list[str]:
        pages = iot.get_paginator("list_thing_groups").paginate(**kwargs, PaginationConfig={"PageSize": 2})
        return [group["groupName"] for page in pages for group in page["thingGroups"]]

    assert names(parentGroup="zone") == ["zone-a", "zone-b", "zone-c"]
    assert names(parentGroup="zone", recursive=True) == ["zone-a", "zone-a-1", "zone-b", "zone-c"]
    assert names(namePrefixFilter="zone-a") == ["zone-a", "zone-a-1"]
    everything = names()
    assert {"zone", "zone-a-1"} <= set(everything) and everything == sorted(everything)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.list_thing_groups(parentGroup="no-such-group")


def test_update_versions_and_delete_rules(server: RunningServer) -> None:
    iot = server.client("iot")
    iot.create_thing_group(
        thingGroupName="versioned", thingGroupProperties={"attributePayload": {"attributes": {"a": "1"}}}
    )
    iot.create_thing_group(thingGroupName="versioned-child", parentGroupName="versioned")
    iot.create_thing(thingName="member")
    iot.add_thing_to_thing_group(thingGroupName="versioned", thingName="member")

    properties = {"thingGroupDescription": "v2", "attributePayload": {"attributes": {"b": "2"}, "merge": True}}
    assert iot.update_thing_group(thingGroupName="versioned", thingGroupProperties=properties)["version"] == 2
    with pytest.raises(iot.exceptions.VersionConflictException):
        iot.update_thing_group(thingGroupName="versioned", thingGroupProperties=properties, expectedVersion=1)
    described = iot.describe_thing_group(thingGroupName="versioned")
    assert described["thingGroupProperties"] == {
        "thingGroupDescription": "v2",
        "attributePayload": {"attributes": {"a": "1", "b": "2"}},
    }

    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.delete_thing_group(thingGroupName="versioned")  # it has a child group
    with pytest.raises(iot.exceptions.VersionConflictException):
        iot.delete_thing_group(thingGroupName="versioned-child", expectedVersion=7)
    iot.delete_thing_group(thingGroupName="versioned-child", expectedVersion=1)
    iot.delete_thing_group(thingGroupName="versioned")  # its things just leave it
    iot.delete_thing_group(thingGroupName="versioned")  # missing: succeeds
    assert iot.list_thing_groups_for_thing(thingName="member")["thingGroups"] == []
    iot.delete_thing(thingName="member")


def test_deleting_a_thing_removes_its_memberships(server: RunningServer) -> None:
    iot = server.client("iot")
    iot.create_thing_group(thingGroupName="ephemeral-group")
    iot.create_thing(thingName="ephemeral")
    iot.add_thing_to_thing_group(thingGroupName="ephemeral-group", thingName="ephemeral")
    iot.delete_thing(thingName="ephemeral")
    assert iot.list_things_in_thing_group(thingGroupName="ephemeral-group")["things"] == []


def test_user_without_permissions_is_denied(server: RunningServer) -> None:
    iot = server.client("iot")
    iot.create_thing_group(thingGroupName="guarded-group")
    iot.create_thing(thingName="guarded-member")
    limited = limited_client(server, "iot", "groupless-user")
    account = server_account(server)
    user = f"arn:aws:iam::{account}:user/groupless-user"
    group = group_arn(server, "guarded-group")
    thing = f"arn:aws:iot:us-east-1:{account}:thing/guarded-member"
    member = {"thingGroupName": "guarded-group", "thingName": "guarded-member"}
    calls = [
        ("CreateThingGroup", group_arn(server, "g2"), lambda: limited.create_thing_group(thingGroupName="g2")),
        ("DescribeThingGroup", group, lambda: limited.describe_thing_group(thingGroupName="guarded-group")),
        ("UpdateThingGroup", group, lambda: limited.update_thing_group(
            thingGroupName="guarded-group", thingGroupProperties={"thingGroupDescription": "x"})),
        ("DeleteThingGroup", group, lambda: limited.delete_thing_group(thingGroupName="guarded-group")),
        ("ListThingGroups", "*", lambda: limited.list_thing_groups()),
        ("AddThingToThingGroup", group, lambda: limited.add_thing_to_thing_group(**member)),
        ("RemoveThingFromThingGroup", group, lambda: limited.remove_thing_from_thing_group(**member)),
        ("ListThingsInThingGroup", group, lambda: limited.list_things_in_thing_group(thingGroupName="guarded-group")),
        ("ListThingGroupsForThing", thing, lambda: limited.list_thing_groups_for_thing(thingName="guarded-member")),
    ]  # fmt: skip
    for action, resource, call in calls:
        with pytest.raises(ClientError) as caught:
            call()
        code, message, status = error_of(caught)
        assert (code, status) == ("AccessDeniedException", 403), action
        assert message.startswith(f"User: {user} is not authorized to perform: iot:{action} on resource: {resource} ")
    assert iot.describe_thing_group(thingGroupName="guarded-group")["version"] == 1


def test_thing_groups_with_the_aws_cli(server: RunningServer) -> None:
    env = server.env()

    def aws(*args: str) -> Any:
        done = subprocess.run(["aws", "iot", *args], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    aws("create-thing-group", "--thing-group-name", "cli-group")
    aws("create-thing", "--thing-name", "cli-member")
    aws("add-thing-to-thing-group", "--thing-group-name", "cli-group", "--thing-name", "cli-member")
    assert aws("list-things-in-thing-group", "--thing-group-name", "cli-group")["things"] == ["cli-member"]
    groups = aws("list-thing-groups-for-thing", "--thing-name", "cli-member")["thingGroups"]
    assert [group["groupName"] for group in groups] == ["cli-group"]
