"""IAM roles through boto3 and the AWS CLI: the DeepLens roles of seed 000, case-insensitive names, trust
policies, updates, tags, deletion conflicts and denials.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import Connection, insert

from edgeward.core import clock
from edgeward.services import policy_cache
from edgeward.storage.database import Database, sqlite_url
from edgeward.storage.repos import attachments, groups, roles, users
from edgeward.storage.tables_policies import iam_inline_policies
from tests.serverfixtures import RunningServer


def trust(*services: str) -> str:
    principal: Any = services[0] if len(services) == 1 else list(services)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}],
        }
    )


# Seed 000: the roles the DeepLens console creates, and the service each trusts.
DEEPLENS_ROLES = {
    "AWSDeepLensServiceRole": "deeplens.amazonaws.com",
    "AWSDeepLensGreengrassRole": "greengrass.amazonaws.com",
    "AWSDeepLensGreengrassGroupRole": "greengrass.amazonaws.com",
    "AWSDeepLensSageMakerRole": "sagemaker.amazonaws.com",
    "AWSDeepLensLambdaRole": "lambda.amazonaws.com",
}


@contextmanager
def server_db(server: RunningServer) -> Iterator[Connection]:
    """A transaction on the server's own database, for setting up what other IAM areas own (policies)."""
    args = [str(arg) for arg in server.process.args]
    url = args[args.index("--database-url") + 1] if "--database-url" in args else sqlite_url(server.data_dir)
    db = Database(url)
    try:
        with db.transaction() as conn:
            yield conn
    finally:
        db.dispose()


def entity_id(server: RunningServer, kind: str, name: str) -> int:
    """The database id of a user, group or role (what attachments and inline policies refer to)."""
    lookups = {"user": users.get_user, "group": groups.get_group, "role": roles.get_role}
    account = server_account(server)
    with server_db(server) as conn:
        entity = lookups[kind](conn, account, name)
    assert entity is not None, (kind, name)
    return entity.id


def attach_policy_row(server: RunningServer, kind: str, entity_id: int, policy_arn: str) -> None:
    account = server_account(server)
    with server_db(server) as conn:
        attachments.attach_policy(conn, account, kind, entity_id, policy_arn)
        policy_cache.bump_generation(conn)


def put_inline_policy_row(server: RunningServer, kind: str, entity_id: int, name: str) -> None:
    document = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    account = server_account(server)
    with server_db(server) as conn:
        conn.execute(
            insert(iam_inline_policies).values(
                account_id=account,
                principal_type=kind,
                principal_id=entity_id,
                name=name,
                document=document,
                updated_at=clock.now(),
            )
        )


def delete_policy_rows(server: RunningServer, kind: str, entity_id: int) -> None:
    with server_db(server) as conn:
        conn.execute(
            iam_inline_policies.delete().where(
                iam_inline_policies.c.principal_type == kind, iam_inline_policies.c.principal_id == entity_id
            )
        )
        for policy_arn in attachments.attached_policy_arns(conn, kind, entity_id):
            attachments.detach_policy(conn, kind, entity_id, policy_arn)


def server_account(server: RunningServer) -> str:
    return str(server.client("sts").get_caller_identity()["Account"])


def limited_client(server: RunningServer, service: str, user_name: str) -> Any:
    """A client for a new IAM user with no policies at all."""
    iam = server.client("iam")
    iam.create_user(UserName=user_name)
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    return server.client(service, key["AccessKeyId"], key["SecretAccessKey"])


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


# -- tests -----------------------------------------------------------------------------------------------


def test_the_five_deeplens_roles_are_created_and_listed(server: RunningServer) -> None:
    iam = server.client("iam")
    account = server_account(server)
    for name, service in DEEPLENS_ROLES.items():
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(service))["Role"]
        assert role["Arn"] == f"arn:aws:iam::{account}:role/{name}"
        assert role["RoleId"].startswith("AROA") and len(role["RoleId"]) == 21
        assert role["AssumeRolePolicyDocument"] == json.loads(trust(service))  # botocore decodes the URL-encoded doc
    listed = {r["RoleName"]: r for r in iam.list_roles()["Roles"]}
    assert set(DEEPLENS_ROLES) <= set(listed)
    for name, service in DEEPLENS_ROLES.items():
        statement = listed[name]["AssumeRolePolicyDocument"]["Statement"][0]
        assert statement["Principal"] == {"Service": service}
        assert listed[name]["MaxSessionDuration"] == 3600
        assert "Tags" not in listed[name] and "RoleLastUsed" not in listed[name]
    got = iam.get_role(RoleName="AWSDeepLensServiceRole")["Role"]
    assert got["RoleLastUsed"] == {} and got["MaxSessionDuration"] == 3600 and got["Path"] == "/"


def test_role_names_are_case_insensitive_the_deeplens_sagemaker_spelling(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_role(RoleName="CaseRoleSageMaker", AssumeRolePolicyDocument=trust("sagemaker.amazonaws.com"))
    assert iam.get_role(RoleName="CaseRoleSagemaker")["Role"]["RoleName"] == "CaseRoleSageMaker"
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as caught:
        iam.create_role(RoleName="CaseRoleSagemaker", AssumeRolePolicyDocument=trust("sagemaker.amazonaws.com"))
    assert error_of(caught) == ("EntityAlreadyExists", "Role with name CaseRoleSagemaker already exists.", 409)


def test_concurrent_creates_of_one_name_in_different_cases(server: RunningServer) -> None:
    """The database's unique key decides a race, whatever the letter case each request used."""
    spellings = ["RaceRole", "RACEROLE", "raceRole", "racerole", "RaCeRoLe", "RACErole"]

    def create(name: str) -> str:
        iam = server.client("iam")
        try:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))
        except iam.exceptions.EntityAlreadyExistsException as exc:
            assert exc.response["Error"]["Message"] == f"Role with name {name} already exists."
            return "exists"
        return "created"

    with ThreadPoolExecutor(max_workers=len(spellings)) as pool:
        outcomes = list(pool.map(create, spellings))
    assert sorted(outcomes) == ["created"] + ["exists"] * (len(spellings) - 1)
    names = [r["RoleName"] for r in server.client("iam").list_roles()["Roles"] if r["RoleName"].lower() == "racerole"]
    assert names == [spellings[outcomes.index("created")]]


def test_deeplens_sagemaker_role_either_spelling(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_role(RoleName="AWSDeepLensSagemakerRole2", AssumeRolePolicyDocument=trust("sagemaker.amazonaws.com"))
    role = iam.get_role(RoleName="AWSDeepLensSageMakerRole2")["Role"]
    assert role["RoleName"] == "AWSDeepLensSagemakerRole2"
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName="AWSDeepLensSageMakerRole2", AssumeRolePolicyDocument=trust("sagemaker.amazonaws.com"))


def test_create_role_with_every_option(server: RunningServer) -> None:
    iam = server.client("iam")
    role = iam.create_role(
        RoleName="EdgeFleetRole",
        Path="/edge/fleet/",
        AssumeRolePolicyDocument=trust("credentials.iot.amazonaws.com", "sagemaker.amazonaws.com"),
        Description="The fleet's role",
        MaxSessionDuration=43200,
        PermissionsBoundary="arn:aws:iam::aws:policy/AdministratorAccess",
        Tags=[{"Key": "team", "Value": "edge"}, {"Key": "env", "Value": ""}],
    )["Role"]
    assert role["Arn"].endswith(":role/edge/fleet/EdgeFleetRole") and role["Path"] == "/edge/fleet/"
    got = iam.get_role(RoleName="edgefleetrole")["Role"]
    assert got["Description"] == "The fleet's role" and got["MaxSessionDuration"] == 43200
    assert got["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": "arn:aws:iam::aws:policy/AdministratorAccess",
    }
    assert got["Tags"] == [{"Key": "team", "Value": "edge"}, {"Key": "env", "Value": ""}]
    principals = got["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    assert principals == ["credentials.iot.amazonaws.com", "sagemaker.amazonaws.com"]
    listed = iam.list_roles(PathPrefix="/edge/")["Roles"]
    assert [r["RoleName"] for r in listed] == ["EdgeFleetRole"]
    assert listed[0]["Description"] == "The fleet's role" and "PermissionsBoundary" not in listed[0]


@pytest.mark.parametrize(
    ("duration", "rule"),
    [(3599, "have value greater than or equal to 3600"), (43201, "have value less than or equal to 43200")],
)
def test_max_session_duration_is_bounded(server: RunningServer, duration: int, rule: str) -> None:
    iam = server.client("iam", parameter_validation=False)  # the server's own check, not botocore's
    with pytest.raises(ClientError) as caught:
        iam.create_role(
            RoleName="TooLong", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"), MaxSessionDuration=duration
        )
    assert error_of(caught) == (
        "ValidationError",
        f"1 validation error detected: Value '{duration}' at 'maxSessionDuration' failed to satisfy constraint: "
        f"Member must {rule}",
        400,
    )


@pytest.mark.parametrize(
    "document",
    [
        "{not json",
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}),
    ],
)
def test_malformed_trust_policy(server: RunningServer, document: str) -> None:
    iam = server.client("iam")
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException) as caught:
        iam.create_role(RoleName="BadTrust", AssumeRolePolicyDocument=document)
    assert error_of(caught)[2] == 400
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="BadTrust")


def test_trust_policy_size_quota(server: RunningServer) -> None:
    iam = server.client("iam")
    services = [f"service{i:04d}.amazonaws.com" for i in range(100)]
    with pytest.raises(iam.exceptions.LimitExceededException) as caught:
        iam.create_role(RoleName="HugeTrust", AssumeRolePolicyDocument=trust(*services))
    assert error_of(caught) == ("LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048", 409)


def test_update_role_description_and_trust_policy(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_role(RoleName="Updatable", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))
    iam.update_role(RoleName="updatable", Description="first", MaxSessionDuration=7200)
    role = iam.get_role(RoleName="Updatable")["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("first", 7200)
    described = iam.update_role_description(RoleName="Updatable", Description="second")["Role"]
    assert described["Description"] == "second" and described["MaxSessionDuration"] == 7200
    iam.update_assume_role_policy(RoleName="Updatable", PolicyDocument=trust("greengrass.amazonaws.com"))
    statement = iam.get_role(RoleName="Updatable")["Role"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "greengrass.amazonaws.com"}
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.update_assume_role_policy(RoleName="Updatable", PolicyDocument="[]")
    for call in (
        lambda: iam.update_role(RoleName="NoSuchRole", Description="x"),
        lambda: iam.update_role_description(RoleName="NoSuchRole", Description="x"),
        lambda: iam.update_assume_role_policy(RoleName="NoSuchRole", PolicyDocument=trust("lambda.amazonaws.com")),
        lambda: iam.get_role(RoleName="NoSuchRole"),
        lambda: iam.delete_role(RoleName="NoSuchRole"),
    ):
        with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
            call()
        assert error_of(caught) == ("NoSuchEntity", "The role with name NoSuchRole cannot be found.", 404)


def test_list_roles_paginates(server: RunningServer) -> None:
    iam = server.client("iam")
    for index in range(5):
        iam.create_role(RoleName=f"PageRole{index}", Path="/paging/", AssumeRolePolicyDocument=trust("a.amazonaws.com"))
    first = iam.list_roles(PathPrefix="/paging/", MaxItems=2)
    assert first["IsTruncated"] and [r["RoleName"] for r in first["Roles"]] == ["PageRole0", "PageRole1"]
    pages = list(iam.get_paginator("list_roles").paginate(PathPrefix="/paging/", PaginationConfig={"PageSize": 2}))
    assert [[r["RoleName"] for r in p["Roles"]] for p in pages] == [
        ["PageRole0", "PageRole1"],
        ["PageRole2", "PageRole3"],
        ["PageRole4"],
    ]


def test_delete_role_conflicts_until_its_policies_are_gone(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_role(RoleName="WithPolicies", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))
    role_id = entity_id(server, "role", "WithPolicies")
    attach_policy_row(server, "role", role_id, "arn:aws:iam::aws:policy/AWSLambdaFullAccess")
    put_inline_policy_row(server, "role", role_id, "inline")
    with pytest.raises(iam.exceptions.DeleteConflictException) as caught:
        iam.delete_role(RoleName="WithPolicies")
    assert error_of(caught) == ("DeleteConflict", "Cannot delete entity, must detach all policies first.", 409)
    with server_db(server) as conn:
        attachments.detach_policy(conn, "role", role_id, "arn:aws:iam::aws:policy/AWSLambdaFullAccess")
    with pytest.raises(iam.exceptions.DeleteConflictException) as caught:
        iam.delete_role(RoleName="WithPolicies")
    assert error_of(caught) == ("DeleteConflict", "Cannot delete entity, must delete policies first.", 409)
    delete_policy_rows(server, "role", role_id)
    iam.delete_role(RoleName="withpolicies")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="WithPolicies")


def test_role_tags(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_role(RoleName="Tagged", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))
    iam.tag_role(RoleName="Tagged", Tags=[{"Key": f"k{i:02d}", "Value": str(i)} for i in range(5)])
    iam.tag_role(RoleName="Tagged", Tags=[{"Key": "K00", "Value": "replaced"}])  # keys are case-insensitive
    tags = iam.list_role_tags(RoleName="tagged")["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"K00": "replaced", "k01": "1", "k02": "2", "k03": "3", "k04": "4"}
    pages = list(iam.get_paginator("list_role_tags").paginate(RoleName="Tagged", PaginationConfig={"PageSize": 2}))
    assert [len(p["Tags"]) for p in pages] == [2, 2, 1]
    iam.untag_role(RoleName="Tagged", TagKeys=["k00", "k01", "absent"])
    assert [t["Key"] for t in iam.list_role_tags(RoleName="Tagged")["Tags"]] == ["k02", "k03", "k04"]
    assert len(iam.get_role(RoleName="Tagged")["Role"]["Tags"]) == 3
    with pytest.raises(ClientError) as caught:
        iam.tag_role(RoleName="Tagged", Tags=[{"Key": "dup", "Value": "1"}, {"Key": "DUP", "Value": "2"}])
    assert error_of(caught) == (
        "InvalidInput",
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        400,
    )
    with pytest.raises(iam.exceptions.LimitExceededException) as caught:
        iam.tag_role(RoleName="Tagged", Tags=[{"Key": f"more{i}", "Value": ""} for i in range(48)])
    assert error_of(caught) == ("LimitExceeded", "Cannot exceed quota for TagsPerRole: 50", 409)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.list_role_tags(RoleName="Untagged")
    assert error_of(caught)[1] == "The role with name Untagged cannot be found."


def test_user_without_permissions_is_denied_every_role_operation(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_role(RoleName="Protected", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))
    limited = limited_client(server, "iam", "rolelessuser")
    account = server_account(server)
    user = f"arn:aws:iam::{account}:user/rolelessuser"
    role = f"arn:aws:iam::{account}:role/Protected"
    calls = [
        ("CreateRole", f"arn:aws:iam::{account}:role/NewRole", lambda: limited.create_role(
            RoleName="NewRole", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))),
        ("GetRole", role, lambda: limited.get_role(RoleName="Protected")),
        ("ListRoles", f"arn:aws:iam::{account}:role/", lambda: limited.list_roles()),
        ("UpdateRole", role, lambda: limited.update_role(RoleName="Protected", Description="x")),
        ("UpdateRoleDescription", role, lambda: limited.update_role_description(RoleName="Protected", Description="")),
        ("UpdateAssumeRolePolicy", role, lambda: limited.update_assume_role_policy(
            RoleName="Protected", PolicyDocument=trust("lambda.amazonaws.com"))),
        ("DeleteRole", role, lambda: limited.delete_role(RoleName="Protected")),
        ("TagRole", role, lambda: limited.tag_role(RoleName="Protected", Tags=[{"Key": "a", "Value": "b"}])),
        ("UntagRole", role, lambda: limited.untag_role(RoleName="Protected", TagKeys=["a"])),
        ("ListRoleTags", role, lambda: limited.list_role_tags(RoleName="Protected")),
    ]  # fmt: skip
    for action, resource, call in calls:
        with pytest.raises(ClientError) as caught:
            call()
        code, message, status = error_of(caught)
        assert (code, status) == ("AccessDenied", 403)
        assert message.startswith(
            f"User: {user} is not authorized to perform: iam:{action} on resource: {resource} "
        ), message
    assert iam.get_role(RoleName="Protected")["Role"].get("Description") is None


def test_roles_with_the_aws_cli(server: RunningServer, tmp_path: Any) -> None:
    document = tmp_path / "trust.json"
    document.write_text(trust("deeplens.amazonaws.com"))
    env = server.env()

    def aws(*args: str) -> Any:
        done = subprocess.run(["aws", "iam", *args], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    created = aws("create-role", "--role-name", "CliRole", "--assume-role-policy-document", f"file://{document}")
    assert created["Role"]["RoleName"] == "CliRole"
    got = aws("get-role", "--role-name", "clirole")["Role"]
    assert got["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "deeplens.amazonaws.com"}
    aws("tag-role", "--role-name", "CliRole", "--tags", "Key=team,Value=edge")
    assert aws("list-role-tags", "--role-name", "CliRole")["Tags"] == [{"Key": "team", "Value": "edge"}]
    aws("delete-role", "--role-name", "CliRole")
    failed = subprocess.run(
        ["aws", "iam", "get-role", "--role-name", "CliRole"], env=env, capture_output=True, text=True, timeout=60
    )
    assert failed.returncode != 0 and "NoSuchEntity" in failed.stderr
