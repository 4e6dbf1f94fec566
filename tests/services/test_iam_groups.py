"""IAM groups and membership through boto3 and the AWS CLI."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer
from tests.services.test_iam_roles import (
    attach_policy_row,
    delete_policy_rows,
    entity_id,
    error_of,
    limited_client,
    put_inline_policy_row,
    server_account,
)


def test_group_lifecycle(server: RunningServer) -> None:
    iam = server.client("iam")
    account = server_account(server)
    group = iam.create_group(GroupName="Developers", Path="/eng/")["Group"]
    assert group["Arn"] == f"arn:aws:iam::{account}:group/eng/Developers"
    assert group["GroupId"].startswith("AGPA") and group["Path"] == "/eng/"
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as caught:
        iam.create_group(GroupName="DEVELOPERS")
    assert error_of(caught) == ("EntityAlreadyExists", "Group with name DEVELOPERS already exists.", 409)
    got = iam.get_group(GroupName="developers")
    assert got["Group"]["GroupName"] == "Developers" and got["Users"] == [] and got["IsTruncated"] is False
    assert [g["GroupName"] for g in iam.list_groups(PathPrefix="/eng/")["Groups"]] == ["Developers"]
    iam.update_group(GroupName="Developers", NewGroupName="Engineers", NewPath="/staff/")
    moved = iam.get_group(GroupName="Engineers")["Group"]
    assert moved["Arn"] == f"arn:aws:iam::{account}:group/staff/Engineers" and moved["GroupId"] == group["GroupId"]
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.get_group(GroupName="Developers")
    assert error_of(caught) == ("NoSuchEntity", "The group with name Developers cannot be found.", 404)
    iam.update_group(GroupName="engineers", NewGroupName="ENGINEERS")  # a new letter case is a rename
    assert iam.get_group(GroupName="Engineers")["Group"]["GroupName"] == "ENGINEERS"
    iam.create_group(GroupName="Taken")
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as caught:
        iam.update_group(GroupName="ENGINEERS", NewGroupName="taken")
    assert error_of(caught)[1] == "Group with name taken already exists."
    iam.delete_group(GroupName="ENGINEERS")
    iam.delete_group(GroupName="Taken")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_group(GroupName="Taken")


def test_membership(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_group(GroupName="Operators")
    iam.create_group(GroupName="Auditors")
    for name in ("op-carol", "op-alice", "op-bob"):
        iam.create_user(UserName=name)
        iam.add_user_to_group(GroupName="Operators", UserName=name)
    iam.add_user_to_group(GroupName="operators", UserName="OP-ALICE")  # again: no error, no change
    iam.add_user_to_group(GroupName="Auditors", UserName="op-alice")
    members = iam.get_group(GroupName="Operators")["Users"]
    assert [u["UserName"] for u in members] == ["op-alice", "op-bob", "op-carol"]
    assert all(u["UserId"].startswith("AIDA") for u in members)
    groups = iam.list_groups_for_user(UserName="op-alice")["Groups"]
    assert [g["GroupName"] for g in groups] == ["Auditors", "Operators"]
    iam.remove_user_from_group(GroupName="Operators", UserName="op-bob")
    iam.remove_user_from_group(GroupName="Operators", UserName="op-bob")  # not a member: no error
    assert [u["UserName"] for u in iam.get_group(GroupName="Operators")["Users"]] == ["op-alice", "op-carol"]
    assert iam.list_groups_for_user(UserName="op-bob")["Groups"] == []


def test_membership_of_missing_entities(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_group(GroupName="Lonely")
    iam.create_user(UserName="loner")
    calls = [
        (lambda: iam.add_user_to_group(GroupName="Nobody", UserName="loner"), "The group with name Nobody"),
        (lambda: iam.add_user_to_group(GroupName="Lonely", UserName="ghost"), "The user with name ghost"),
        (lambda: iam.remove_user_from_group(GroupName="Nobody", UserName="loner"), "The group with name Nobody"),
        (lambda: iam.remove_user_from_group(GroupName="Lonely", UserName="ghost"), "The user with name ghost"),
        (lambda: iam.list_groups_for_user(UserName="ghost"), "The user with name ghost"),
        (lambda: iam.update_group(GroupName="Nobody", NewGroupName="x"), "The group with name Nobody"),
    ]
    for call, subject in calls:
        with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
            call()
        assert error_of(caught) == ("NoSuchEntity", f"{subject} cannot be found.", 404)


def test_group_listings_paginate(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_group(GroupName="Big", Path="/paging/")
    for index in range(5):
        iam.create_group(GroupName=f"pg-{index}", Path="/paging/")
        iam.create_user(UserName=f"pager-{index}")
        iam.add_user_to_group(GroupName="Big", UserName=f"pager-{index}")
        iam.add_user_to_group(GroupName=f"pg-{index}", UserName="pager-0")
    groups = iam.get_paginator("list_groups").paginate(PathPrefix="/paging/", PaginationConfig={"PageSize": 2})
    assert [len(p["Groups"]) for p in groups] == [2, 2, 2]
    members = list(iam.get_paginator("get_group").paginate(GroupName="Big", PaginationConfig={"PageSize": 2}))
    assert [[u["UserName"] for u in p["Users"]] for p in members] == [
        ["pager-0", "pager-1"],
        ["pager-2", "pager-3"],
        ["pager-4"],
    ]
    assert all(p["Group"]["GroupName"] == "Big" for p in members)
    first = iam.list_groups_for_user(UserName="pager-0", MaxItems=4)
    assert first["IsTruncated"] and len(first["Groups"]) == 4
    rest = iam.list_groups_for_user(UserName="pager-0", Marker=first["Marker"])
    assert not rest["IsTruncated"] and [g["GroupName"] for g in rest["Groups"]] == ["pg-3", "pg-4"]


def test_delete_group_conflicts(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_group(GroupName="Busy")
    iam.create_user(UserName="busy-member")
    iam.add_user_to_group(GroupName="Busy", UserName="busy-member")
    with pytest.raises(iam.exceptions.DeleteConflictException) as caught:
        iam.delete_group(GroupName="Busy")
    assert error_of(caught) == ("DeleteConflict", "Cannot delete entity, must remove users from group first.", 409)
    with pytest.raises(iam.exceptions.DeleteConflictException) as caught:
        iam.delete_user(UserName="busy-member")
    assert error_of(caught)[1] == "Cannot delete entity, must remove users from group first."
    iam.remove_user_from_group(GroupName="Busy", UserName="busy-member")
    group_id = entity_id(server, "group", "Busy")
    attach_policy_row(server, "group", group_id, "arn:aws:iam::aws:policy/ReadOnlyAccess")
    with pytest.raises(iam.exceptions.DeleteConflictException) as caught:
        iam.delete_group(GroupName="Busy")
    assert error_of(caught)[1] == "Cannot delete entity, must detach all policies first."
    delete_policy_rows(server, "group", group_id)
    put_inline_policy_row(server, "group", group_id, "group-inline")
    with pytest.raises(iam.exceptions.DeleteConflictException) as caught:
        iam.delete_group(GroupName="Busy")
    assert error_of(caught)[1] == "Cannot delete entity, must delete policies first."
    delete_policy_rows(server, "group", group_id)
    iam.delete_group(GroupName="Busy")
    iam.delete_user(UserName="busy-member")


def test_user_without_permissions_is_denied_group_operations(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_group(GroupName="Guarded")
    limited = limited_client(server, "iam", "groupless")
    account = server_account(server)
    group = f"arn:aws:iam::{account}:group/Guarded"
    calls = [
        ("CreateGroup", f"arn:aws:iam::{account}:group/Fresh", lambda: limited.create_group(GroupName="Fresh")),
        ("GetGroup", group, lambda: limited.get_group(GroupName="Guarded")),
        ("ListGroups", f"arn:aws:iam::{account}:group/", lambda: limited.list_groups()),
        ("UpdateGroup", group, lambda: limited.update_group(GroupName="Guarded", NewGroupName="G2")),
        ("DeleteGroup", group, lambda: limited.delete_group(GroupName="Guarded")),
        ("AddUserToGroup", group, lambda: limited.add_user_to_group(GroupName="Guarded", UserName="groupless")),
        ("RemoveUserFromGroup", group, lambda: limited.remove_user_from_group(GroupName="Guarded", UserName="x")),
        (
            "ListGroupsForUser",
            f"arn:aws:iam::{account}:user/groupless",
            lambda: limited.list_groups_for_user(UserName="groupless"),
        ),
    ]
    for action, resource, call in calls:
        with pytest.raises(ClientError) as caught:
            call()
        code, message, status = error_of(caught)
        assert (code, status) == ("AccessDenied", 403)
        assert message.startswith(
            f"User: arn:aws:iam::{account}:user/groupless is not authorized to perform: iam:{action} "
            f"on resource: {resource} "
        ), message
    assert iam.get_group(GroupName="Guarded")["Users"] == []


def test_groups_with_the_aws_cli(server: RunningServer) -> None:
    env = server.env()

    def aws(*args: str) -> Any:
        done = subprocess.run(["aws", "iam", *args], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    aws("create-group", "--group-name", "CliGroup")
    aws("create-user", "--user-name", "cli-member")
    aws("add-user-to-group", "--group-name", "CliGroup", "--user-name", "cli-member")
    groups = aws("list-groups-for-user", "--user-name", "cli-member")["Groups"]
    assert [g["GroupName"] for g in groups] == ["CliGroup"]
    users = aws("get-group", "--group-name", "CliGroup")["Users"]
    assert [u["UserName"] for u in users] == ["cli-member"]
