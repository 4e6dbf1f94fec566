"""UpdateUser, user tags, CreateUser's boundary, and DeleteUser's conflicts in IAM's order."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from botocore.exceptions import ClientError

from edgeward.storage.repos import attachments
from tests.serverfixtures import RunningServer
from tests.services.test_iam_roles import (
    attach_policy_row,
    delete_policy_rows,
    entity_id,
    error_of,
    limited_client,
    put_inline_policy_row,
    server_account,
    server_db,
)


def test_rename_and_move_a_user(server: RunningServer) -> None:
    iam = server.client("iam")
    account = server_account(server)
    created = iam.create_user(UserName="renamee")["User"]
    key = iam.create_access_key(UserName="renamee")["AccessKey"]
    iam.create_group(GroupName="RenameGroup")
    iam.add_user_to_group(GroupName="RenameGroup", UserName="renamee")
    iam.update_user(UserName="renamee", NewUserName="renamed", NewPath="/moved/")
    user = iam.get_user(UserName="renamed")["User"]
    assert user["Arn"] == f"arn:aws:iam::{account}:user/moved/renamed" and user["Path"] == "/moved/"
    assert user["UserId"] == created["UserId"] and user["CreateDate"] == created["CreateDate"]
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.get_user(UserName="renamee")
    assert error_of(caught) == ("NoSuchEntity", "The user with name renamee cannot be found.", 404)
    # What hangs off the user follows it: its key signs as the new ARN, its group lists the new name.
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{account}:user/moved/renamed"
    assert [u["UserName"] for u in iam.get_group(GroupName="RenameGroup")["Users"]] == ["renamed"]
    assert iam.list_access_keys(UserName="renamed")["AccessKeyMetadata"][0]["UserName"] == "renamed"
    iam.update_user(UserName="renamed", NewUserName="Renamed")  # only the letter case changes
    assert iam.get_user(UserName="renamed")["User"]["UserName"] == "Renamed"
    iam.update_user(UserName="Renamed", NewPath="/")
    assert iam.get_user(UserName="Renamed")["User"]["Arn"] == f"arn:aws:iam::{account}:user/Renamed"


def test_rename_conflicts_and_missing_users(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="first-name")
    iam.create_user(UserName="second-name")
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as caught:
        iam.update_user(UserName="first-name", NewUserName="SECOND-NAME")
    assert error_of(caught) == ("EntityAlreadyExists", "User with name SECOND-NAME already exists.", 409)
    assert iam.get_user(UserName="first-name")["User"]["UserName"] == "first-name"
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.update_user(UserName="nobody-here", NewUserName="x")
    assert error_of(caught)[1] == "The user with name nobody-here cannot be found."


def test_user_tags(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="tagged-user", Tags=[{"Key": "Team", "Value": "edge"}])
    iam.tag_user(UserName="tagged-user", Tags=[{"Key": "team", "Value": "core"}, {"Key": "site", "Value": "lab"}])
    assert iam.list_user_tags(UserName="TAGGED-USER")["Tags"] == [
        {"Key": "site", "Value": "lab"},
        {"Key": "team", "Value": "core"},
    ]
    user = iam.get_user(UserName="tagged-user")["User"]
    assert {t["Key"]: t["Value"] for t in user["Tags"]} == {"team": "core", "site": "lab"}
    listed = [u for u in iam.list_users()["Users"] if u["UserName"] == "tagged-user"]
    assert listed and "Tags" not in listed[0]
    first = iam.list_user_tags(UserName="tagged-user", MaxItems=1)
    assert first["IsTruncated"] and first["Tags"] == [{"Key": "site", "Value": "lab"}]
    rest = iam.list_user_tags(UserName="tagged-user", Marker=first["Marker"])
    assert not rest["IsTruncated"] and rest["Tags"] == [{"Key": "team", "Value": "core"}]
    iam.untag_user(UserName="tagged-user", TagKeys=["SITE"])
    assert iam.list_user_tags(UserName="tagged-user")["Tags"] == [{"Key": "team", "Value": "core"}]
    with pytest.raises(ClientError) as caught:
        iam.create_user(UserName="dup-tags", Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])
    assert error_of(caught) == (
        "InvalidInput",
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        400,
    )
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="dup-tags")
    iam.tag_user(UserName="tagged-user", Tags=[{"Key": f"k{i}", "Value": ""} for i in range(49)])
    with pytest.raises(iam.exceptions.LimitExceededException) as caught:
        iam.tag_user(UserName="tagged-user", Tags=[{"Key": "one-too-many", "Value": ""}])
    assert error_of(caught) == ("LimitExceeded", "Cannot exceed quota for TagsPerUser: 50", 409)
    iam.tag_user(UserName="tagged-user", Tags=[{"Key": "K0", "Value": "replacing is fine at 50"}])
    for call in (
        lambda: iam.tag_user(UserName="ghost-user", Tags=[{"Key": "a", "Value": "b"}]),
        lambda: iam.untag_user(UserName="ghost-user", TagKeys=["a"]),
        lambda: iam.list_user_tags(UserName="ghost-user"),
    ):
        with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
            call()
        assert error_of(caught)[1] == "The user with name ghost-user cannot be found."


def test_create_user_with_a_permissions_boundary(server: RunningServer) -> None:
    iam = server.client("iam")
    boundary = "arn:aws:iam::aws:policy/AdministratorAccess"
    created = iam.create_user(UserName="bounded", PermissionsBoundary=boundary)["User"]
    expected = {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": boundary}
    assert created["PermissionsBoundary"] == expected
    assert iam.get_user(UserName="bounded")["User"]["PermissionsBoundary"] == expected


def test_delete_user_conflicts_come_in_iams_order(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="entangled")
    iam.create_login_profile(UserName="entangled", Password="Entangled-Pass-1")
    key = iam.create_access_key(UserName="entangled")["AccessKey"]
    iam.create_group(GroupName="EntangledGroup")
    iam.add_user_to_group(GroupName="EntangledGroup", UserName="entangled")
    user_id = entity_id(server, "user", "entangled")
    attach_policy_row(server, "user", user_id, "arn:aws:iam::aws:policy/ReadOnlyAccess")
    put_inline_policy_row(server, "user", user_id, "entangled-inline")
    steps = [
        ("login profile", lambda: iam.delete_login_profile(UserName="entangled")),
        ("access keys", lambda: iam.delete_access_key(UserName="entangled", AccessKeyId=key["AccessKeyId"])),
        ("users from group", lambda: iam.remove_user_from_group(GroupName="EntangledGroup", UserName="entangled")),
        ("detach all policies", lambda: delete_attachments(server, user_id)),
        ("delete policies", lambda: delete_policy_rows(server, "user", user_id)),
    ]
    expected = {
        "login profile": "Cannot delete entity, must delete login profile first.",
        "access keys": "Cannot delete entity, must delete access keys first.",
        "users from group": "Cannot delete entity, must remove users from group first.",
        "detach all policies": "Cannot delete entity, must detach all policies first.",
        "delete policies": "Cannot delete entity, must delete policies first.",
    }
    for blocker, remove in steps:
        with pytest.raises(iam.exceptions.DeleteConflictException) as caught:
            iam.delete_user(UserName="entangled")
        assert error_of(caught) == ("DeleteConflict", expected[blocker], 409)
        remove()
    iam.delete_user(UserName="entangled")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="entangled")


def delete_attachments(server: RunningServer, user_id: int) -> None:
    """Detach the managed policies only (the inline one stays, for the next step)."""
    with server_db(server) as conn:
        for policy_arn in attachments.attached_policy_arns(conn, "user", user_id):
            attachments.detach_policy(conn, "user", user_id, policy_arn)


def test_user_without_permissions_is_denied(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="bystander")
    limited = limited_client(server, "iam", "powerless")
    account = server_account(server)
    target = f"arn:aws:iam::{account}:user/bystander"
    calls = [
        ("UpdateUser", lambda: limited.update_user(UserName="bystander", NewUserName="hijacked")),
        ("TagUser", lambda: limited.tag_user(UserName="bystander", Tags=[{"Key": "a", "Value": "b"}])),
        ("UntagUser", lambda: limited.untag_user(UserName="bystander", TagKeys=["a"])),
        ("ListUserTags", lambda: limited.list_user_tags(UserName="bystander")),
        ("DeleteUser", lambda: limited.delete_user(UserName="bystander")),
    ]
    for action, call in calls:
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught)[1].startswith(
            f"User: arn:aws:iam::{account}:user/powerless is not authorized to perform: iam:{action} "
            f"on resource: {target} "
        ), error_of(caught)
    assert iam.get_user(UserName="bystander")["User"]["UserName"] == "bystander"


def test_user_updates_with_the_aws_cli(server: RunningServer) -> None:
    env = server.env()

    def aws(*args: str) -> Any:
        done = subprocess.run(["aws", "iam", *args], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    aws("create-user", "--user-name", "cli-old")
    aws("update-user", "--user-name", "cli-old", "--new-user-name", "cli-new")
    aws("tag-user", "--user-name", "cli-new", "--tags", "Key=team,Value=edge")
    assert aws("list-user-tags", "--user-name", "cli-new")["Tags"] == [{"Key": "team", "Value": "edge"}]
    assert aws("get-user", "--user-name", "cli-new")["User"]["Arn"].endswith(":user/cli-new")
