"""IAM users and access keys through boto3: the parts of seed 002 the core service already carries."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer


def test_user_lifecycle(server: RunningServer) -> None:
    iam = server.client("iam")
    created = iam.create_user(UserName="Alice", Path="/engineering/", Tags=[{"Key": "team", "Value": "edge"}])["User"]
    assert created["Arn"].endswith(":user/engineering/Alice") and created["UserId"].startswith("AIDA")
    assert iam.get_user(UserName="alice")["User"]["UserName"] == "Alice"  # names are case-insensitive
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_user(UserName="ALICE")
    names = [u["UserName"] for u in iam.list_users(PathPrefix="/engineering/")["Users"]]
    assert names == ["Alice"]
    iam.delete_user(UserName="Alice")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.get_user(UserName="Alice")
    assert caught.value.response["Error"]["Message"] == "The user with name Alice cannot be found."


def test_list_users_paginates(server: RunningServer) -> None:
    iam = server.client("iam")
    for index in range(5):
        iam.create_user(UserName=f"page-user-{index}", Path="/paging/")
    pages = list(iam.get_paginator("list_users").paginate(PathPrefix="/paging/", PaginationConfig={"PageSize": 2}))
    assert [len(p["Users"]) for p in pages] == [2, 2, 1]


def test_access_keys_two_at_most_secret_once(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="mateojackson")
    first = iam.create_access_key(UserName="mateojackson")["AccessKey"]
    second = iam.create_access_key(UserName="mateojackson")["AccessKey"]
    assert first["AccessKeyId"].startswith("AKIA") and len(first["SecretAccessKey"]) == 40
    with pytest.raises(iam.exceptions.LimitExceededException) as caught:
        iam.create_access_key(UserName="mateojackson")
    assert caught.value.response["Error"]["Message"] == "Cannot exceed quota for AccessKeysPerUser: 2"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    listed = iam.list_access_keys(UserName="mateojackson")["AccessKeyMetadata"]
    assert {k["AccessKeyId"] for k in listed} == {first["AccessKeyId"], second["AccessKeyId"]}
    assert all("SecretAccessKey" not in k for k in listed)


def test_new_key_authenticates_and_inactive_key_does_not(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="keyuser")
    key = iam.create_access_key(UserName="keyuser")["AccessKey"]
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert sts.get_caller_identity()["Arn"].endswith(":user/keyuser")
    last_used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert last_used["UserName"] == "keyuser"
    iam.update_access_key(UserName="keyuser", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "InvalidClientTokenId"
    iam.delete_access_key(UserName="keyuser", AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName="keyuser")


def test_user_without_policies_is_denied_in_aws_words(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="nopolicy")
    key = iam.create_access_key(UserName="nopolicy")["AccessKey"]
    limited = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as caught:
        limited.list_users()
    error = caught.value.response["Error"]
    account = server.client("sts").get_caller_identity()["Account"]
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        f"User: arn:aws:iam::{account}:user/nopolicy is not authorized to perform: iam:ListUsers on resource: "
        f"arn:aws:iam::{account}:user/ because no identity-based policy allows the iam:ListUsers action"
    )


def test_delete_user_with_keys_conflicts(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="haskeys")
    iam.create_access_key(UserName="haskeys")
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_user(UserName="haskeys")
