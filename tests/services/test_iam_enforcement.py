"""IAM policies enforced on every request (spec 4.3, 4.4, 4.5; seed 002).

Through a real server with boto3: denials in AWS's words, explicit deny over allow, group policies, permissions
boundaries, role sessions and session policies, changes taking effect on the next request. At the authorizer's
own level (a Context on a real database, SQLite and PostgreSQL): the seed's SageMaker denial, `iam:PassRole`,
condition keys, and the decision log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import Connection

from edgeward.core import arn as arns
from edgeward.core.errors import ServiceError
from edgeward.core.principal import Principal, PrincipalKind
from edgeward.services import authorization, decisions, policy_cache
from edgeward.services.authorization import authorize, check_pass_role, identity_policies
from edgeward.services.context import Context
from edgeward.storage.database import Database
from edgeward.storage.repos import accounts, attachments
from edgeward.storage.repos import groups as group_repo
from edgeward.storage.repos import inline_policies as inline_repo
from edgeward.storage.repos import policies as policy_repo
from edgeward.storage.repos import roles as role_repo
from edgeward.storage.repos import users as user_repo
from edgeward.storage.secrets import SecretBox
from tests.serverfixtures import RunningServer

AWS_POLICY = "arn:aws:iam::aws:policy/"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource}


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


# -- through the server ----------------------------------------------------------------------------------------


@dataclass
class Person:
    name: str
    arn: str
    iam: Any
    sts: Any


@pytest.fixture(scope="module")
def account(server: RunningServer) -> str:
    return str(server.client("sts").get_caller_identity()["Account"])


def person(server: RunningServer, name: str) -> Person:
    admin = server.client("iam")
    user = admin.create_user(UserName=name)["User"]
    key = admin.create_access_key(UserName=name)["AccessKey"]
    return Person(
        name,
        user["Arn"],
        server.client("iam", key["AccessKeyId"], key["SecretAccessKey"]),
        server.client("sts", key["AccessKeyId"], key["SecretAccessKey"]),
    )


def test_user_without_policies_is_denied_in_aws_words(server: RunningServer, account: str) -> None:
    mateo = person(server, "mateojackson")
    with pytest.raises(ClientError) as caught:
        mateo.iam.list_policies()
    assert error_of(caught) == (
        "AccessDenied",
        f"User: {mateo.arn} is not authorized to perform: iam:ListPolicies on resource: "
        f"arn:aws:iam::{account}:policy/ because no identity-based policy allows the iam:ListPolicies action",
    )
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as caught:
        mateo.iam.get_policy(PolicyArn=f"{AWS_POLICY}ReadOnlyAccess")
    assert error_of(caught)[1] == (
        f"User: {mateo.arn} is not authorized to perform: iam:GetPolicy on resource: policy "
        f"{AWS_POLICY}ReadOnlyAccess because no identity-based policy allows the iam:GetPolicy action"
    )
    # authentication alone needs no permission
    assert mateo.sts.get_caller_identity()["Arn"] == mateo.arn


def test_denied_before_revealing_whether_something_exists(server: RunningServer, account: str) -> None:
    nosy = person(server, "nosy")
    with pytest.raises(ClientError) as caught:
        nosy.iam.get_user_policy(UserName="ghost", PolicyName="p")
    assert error_of(caught)[0] == "AccessDenied"
    assert f"on resource: arn:aws:iam::{account}:user/ghost because" in error_of(caught)[1]


def test_explicit_deny_in_an_inline_policy_beats_an_attached_allow(server: RunningServer) -> None:
    admin = server.client("iam")
    alice = person(server, "alice-deny")
    admin.attach_user_policy(UserName=alice.name, PolicyArn=f"{AWS_POLICY}IAMFullAccess")
    assert alice.iam.list_policies(MaxItems=1)["Policies"]
    admin.put_user_policy(UserName=alice.name, PolicyName="no-listing", PolicyDocument=doc(deny("iam:List*")))
    with pytest.raises(ClientError) as caught:
        alice.iam.list_policies(MaxItems=1)
    assert error_of(caught)[1].endswith("with an explicit deny in an identity-based policy")
    alice.iam.get_policy(PolicyArn=f"{AWS_POLICY}ReadOnlyAccess")  # the rest of IAMFullAccess still applies


def test_group_policies_apply_to_members(server: RunningServer) -> None:
    admin = server.client("iam")
    bob = person(server, "bob-member")
    admin.create_group(GroupName="PolicyReaders")
    admin.put_group_policy(
        GroupName="PolicyReaders", PolicyName="read", PolicyDocument=doc(allow(["iam:GetPolicy", "iam:ListPolicies"]))
    )
    with pytest.raises(ClientError):
        bob.iam.list_policies(MaxItems=1)
    admin.add_user_to_group(GroupName="PolicyReaders", UserName=bob.name)
    assert bob.iam.list_policies(MaxItems=1)["Policies"]
    admin.attach_group_policy(GroupName="PolicyReaders", PolicyArn=f"{AWS_POLICY}AmazonS3ReadOnlyAccess")
    admin.create_group(GroupName="Denied")
    admin.put_group_policy(GroupName="Denied", PolicyName="d", PolicyDocument=doc(deny("iam:GetPolicy")))
    admin.add_user_to_group(GroupName="Denied", UserName=bob.name)
    with pytest.raises(ClientError) as caught:
        bob.iam.get_policy(PolicyArn=f"{AWS_POLICY}ReadOnlyAccess")
    assert error_of(caught)[1].endswith("with an explicit deny in an identity-based policy")
    admin.remove_user_from_group(GroupName="PolicyReaders", UserName=bob.name)
    with pytest.raises(ClientError) as caught:
        bob.iam.list_policies(MaxItems=1)
    assert "because no identity-based policy allows the iam:ListPolicies action" in error_of(caught)[1]


def test_permissions_boundary_limits(server: RunningServer) -> None:
    admin = server.client("iam")
    carol = person(server, "carol-bounded")
    admin.attach_user_policy(UserName=carol.name, PolicyArn=f"{AWS_POLICY}AdministratorAccess")
    assert carol.iam.list_policies(MaxItems=1)["Policies"]
    boundary = admin.create_policy(
        PolicyName="OnlyGetPolicy", PolicyDocument=doc(allow("iam:GetPolicy"), deny("iam:GetPolicyVersion"))
    )["Policy"]["Arn"]
    admin.put_user_permissions_boundary(UserName=carol.name, PermissionsBoundary=boundary)
    with pytest.raises(ClientError) as caught:
        carol.iam.list_policies(MaxItems=1)
    assert error_of(caught)[1] == (
        f"User: {carol.arn} is not authorized to perform: iam:ListPolicies on resource: "
        f"{boundary.rsplit(':', 1)[0]}:policy/ because no permissions boundary allows the iam:ListPolicies action"
    )
    carol.iam.get_policy(PolicyArn=boundary)  # allowed by both
    with pytest.raises(ClientError) as caught:
        carol.iam.get_policy_version(PolicyArn=boundary, VersionId="v1")
    assert error_of(caught)[1].endswith("with an explicit deny in a permissions boundary")
    admin.delete_user_permissions_boundary(UserName=carol.name)
    assert carol.iam.list_policies(MaxItems=1)["Policies"]


def test_policy_changes_take_effect_on_the_next_request(server: RunningServer) -> None:
    admin = server.client("iam")
    dave = person(server, "dave-changes")
    arn = admin.create_policy(PolicyName="DaveList", PolicyDocument=doc(allow("iam:ListPolicies")))["Policy"]["Arn"]
    with pytest.raises(ClientError):
        dave.iam.list_policies(MaxItems=1)
    admin.attach_user_policy(UserName=dave.name, PolicyArn=arn)
    assert dave.iam.list_policies(MaxItems=1)["Policies"]
    admin.create_policy_version(PolicyArn=arn, PolicyDocument=doc(allow("iam:GetPolicy")), SetAsDefault=True)
    with pytest.raises(ClientError):
        dave.iam.list_policies(MaxItems=1)
    dave.iam.get_policy(PolicyArn=arn)
    admin.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    assert dave.iam.list_policies(MaxItems=1)["Policies"]
    admin.detach_user_policy(UserName=dave.name, PolicyArn=arn)
    with pytest.raises(ClientError):
        dave.iam.list_policies(MaxItems=1)


def test_conditions_see_the_request(server: RunningServer) -> None:
    admin = server.client("iam")
    erin = person(server, "erin-conditions")
    admin.put_user_policy(
        UserName=erin.name,
        PolicyName="regional",
        PolicyDocument=doc(
            allow(
                "iam:ListPolicies",
                Condition={"StringEquals": {"aws:RequestedRegion": "us-east-1", "aws:username": "erin-conditions"}},
            ),
            allow("iam:GetPolicy", "arn:aws:iam::*:policy/${aws:username}-*"),
        ),
    )
    assert erin.iam.list_policies(MaxItems=1)["Policies"]
    keys = admin.create_access_key(UserName=erin.name)["AccessKey"]
    elsewhere = server.client("iam", keys["AccessKeyId"], keys["SecretAccessKey"], region="eu-west-1")
    with pytest.raises(ClientError):
        elsewhere.list_policies(MaxItems=1)
    own = admin.create_policy(PolicyName="erin-conditions-own", PolicyDocument=doc(allow("s3:Get*")))["Policy"]["Arn"]
    erin.iam.get_policy(PolicyArn=own)
    with pytest.raises(ClientError):
        erin.iam.get_policy(PolicyArn=f"{AWS_POLICY}ReadOnlyAccess")


def test_role_sessions_use_the_roles_policies(server: RunningServer, account: str) -> None:
    admin = server.client("iam")
    frank = person(server, "frank-assumer")
    trust = doc({"Effect": "Allow", "Principal": {"AWS": frank.arn}, "Action": "sts:AssumeRole"})
    role = admin.create_role(RoleName="PolicyLister", AssumeRolePolicyDocument=trust)["Role"]
    admin.put_role_policy(
        RoleName="PolicyLister", PolicyName="list", PolicyDocument=doc(allow(["iam:ListPolicies", "iam:GetPolicy"]))
    )
    creds = frank.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
    session = server.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert session.list_policies(MaxItems=1)["Policies"]
    with pytest.raises(ClientError) as caught:
        session.list_entities_for_policy(PolicyArn=f"{AWS_POLICY}ReadOnlyAccess")
    assert error_of(caught)[1].startswith(
        f"User: arn:aws:sts::{account}:assumed-role/PolicyLister/s1 is not authorized to perform: "
        "iam:ListEntitiesForPolicy"
    )
    limited = frank.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s2", Policy=doc(allow("iam:GetPolicy")))[
        "Credentials"
    ]
    narrow = server.client("iam", limited["AccessKeyId"], limited["SecretAccessKey"], limited["SessionToken"])
    narrow.get_policy(PolicyArn=f"{AWS_POLICY}ReadOnlyAccess")
    with pytest.raises(ClientError) as caught:
        narrow.list_policies(MaxItems=1)
    assert error_of(caught)[1].endswith("because no session policy allows the iam:ListPolicies action")
    admin.delete_role_policy(RoleName="PolicyLister", PolicyName="list")
    with pytest.raises(ClientError):
        session.list_policies(MaxItems=1)  # the role's policies are read on every request


# -- the authorizer itself, on a database ----------------------------------------------------------------------

ACCOUNT = "123456789012"


@pytest.fixture
def conn(database: Database) -> Iterator[Connection]:
    with database.transaction() as connection:
        accounts.create_account(connection, ACCOUNT)
        yield connection


def context(conn: Connection, principal: Principal, service: str = "iam", region: str = "us-east-1") -> Context:
    return Context(
        principal=principal,
        region=region,
        request_id="req-1",
        service=service,
        operation="Test",
        conn=conn,
        secrets=SecretBox.generate(),
        authorizer=authorize,
        source_ip="192.0.2.10",
        secure=True,
    )


def user_principal(conn: Connection, name: str) -> Principal:
    user = user_repo.create_user(conn, ACCOUNT, name)
    return Principal(
        kind=PrincipalKind.USER,
        account=ACCOUNT,
        arn=user.arn,
        user_id=user.unique_id,
        name=user.name,
        access_key_id="AKIAEXAMPLEEXAMPLE00",
        entity_id=user.id,
    )


def denial(call: Any) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        call()
    return caught.value


def test_seed_002_describe_device_message(conn: Connection) -> None:
    mateo = user_principal(conn, "mateojackson")
    device = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:device-fleet/fleet-1/device/device-1"
    error = denial(lambda: context(conn, mateo, "sagemaker").authorize("sagemaker:DescribeDevice", device))
    assert error.code == "AccessDeniedException"
    assert error.message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/mateojackson is not authorized to perform: sagemaker:DescribeDevice "
        f"on resource: {device} because no identity-based policy allows the sagemaker:DescribeDevice action"
    )
    attachments.attach_policy(conn, ACCOUNT, "user", mateo.entity_id or 0, f"{AWS_POLICY}AmazonSageMakerFullAccess")
    policy_cache.bump_generation(conn)
    context(conn, mateo, "sagemaker").authorize("sagemaker:DescribeDevice", device)


def test_pass_role(conn: Connection) -> None:
    mary = user_principal(conn, "marymajor")
    role = role_repo.create_role(conn, ACCOUNT, "SageMakerEdgeRole", doc(allow("sts:AssumeRole")))
    ctx = context(conn, mary, "iot")
    error = denial(lambda: check_pass_role(ctx, role.arn, "credentials.iot.amazonaws.com"))
    assert (error.code, error.status) == ("AccessDeniedException", 403)
    assert error.message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/marymajor is not authorized to perform: iam:PassRole on resource: "
        f"{role.arn} because no identity-based policy allows the iam:PassRole action"
    )
    fleet_policy = f"{AWS_POLICY}service-role/AmazonSageMakerEdgeDeviceFleetPolicy"
    attachments.attach_policy(conn, ACCOUNT, "user", mary.entity_id or 0, fleet_policy)
    policy_cache.bump_generation(conn)
    ctx = context(conn, mary, "iot")  # a new request: policies are loaded once per request
    check_pass_role(ctx, role.arn, "credentials.iot.amazonaws.com")
    check_pass_role(ctx, role.arn, "iot.amazonaws.com")
    error = denial(lambda: check_pass_role(ctx, role.arn, "sagemaker.amazonaws.com"))
    assert error.message.endswith("because no identity-based policy allows the iam:PassRole action")
    missing = f"arn:aws:iam::{ACCOUNT}:role/SageMakerNoSuchRole"
    error = denial(lambda: check_pass_role(ctx, missing, "iot.amazonaws.com"))
    assert (error.code, error.message) == ("NoSuchEntity", "The role with name SageMakerNoSuchRole cannot be found.")
    foreign = "arn:aws:iam::210987654321:role/SageMakerTheirs"
    error = denial(lambda: check_pass_role(ctx, foreign, "iot.amazonaws.com"))
    assert error.code == "AccessDeniedException" and f"iam:PassRole on resource: {foreign}" in error.message
    root = replace(mary, kind=PrincipalKind.ROOT, arn=arns.root(ACCOUNT), entity_id=None, user_id=ACCOUNT)
    check_pass_role(context(conn, root, "iot"), role.arn, "iot.amazonaws.com")
    assert denial(lambda: check_pass_role(context(conn, root, "iot"), foreign, "iot.amazonaws.com"))


def test_groups_boundary_and_identity_policies(conn: Connection) -> None:
    gina = user_principal(conn, "gina")
    user = user_repo.get_user(conn, ACCOUNT, "gina")
    assert user is not None
    group = group_repo.create_group(conn, ACCOUNT, "Builders")
    group_repo.add_member(conn, group, user)
    inline_repo.put(conn, ACCOUNT, "group", group.id, "build", doc(allow("iot:CreateThing")))
    ctx = context(conn, gina, "iot")
    ctx.authorize("iot:CreateThing", f"arn:aws:iot:us-east-1:{ACCOUNT}:thing/t1")
    assert [p.source_id for p in identity_policies(ctx)] == ["group_Builders_build"]
    bounded = replace(gina, boundary_arn=f"{AWS_POLICY}AmazonS3ReadOnlyAccess")
    error = denial(lambda: context(conn, bounded, "iot").authorize("iot:CreateThing", "*"))
    assert error.message.endswith("because no permissions boundary allows the iot:CreateThing action")
    gone = replace(gina, boundary_arn=f"arn:aws:iam::{ACCOUNT}:policy/Deleted")
    assert denial(lambda: context(conn, gone, "iot").authorize("iot:CreateThing", "*"))  # fails closed


def test_role_session_policies_and_session_context(conn: Connection) -> None:
    role = role_repo.create_role(conn, ACCOUNT, "DeviceRole", doc(allow("sts:AssumeRole")))
    policy = policy_repo.create_policy(
        conn, ACCOUNT, "ThingData", "/", doc(allow("iot:Publish", "arn:aws:iot:*:*:topic/${credentials-iot:ThingName}"))
    )
    attachments.attach_policy(conn, ACCOUNT, "role", role.id, policy.arn)
    policy_cache.bump_generation(conn)
    session = Principal(
        kind=PrincipalKind.ASSUMED_ROLE,
        account=ACCOUNT,
        arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/DeviceRole/cert-1",
        user_id=f"{role.unique_id}:cert-1",
        name="DeviceRole",
        access_key_id="ASIAEXAMPLEEXAMPLE00",
        entity_id=role.id,
        parent_arn=role.arn,
        session_context={"credentials-iot:ThingName": "thing-1"},
    )
    topic = f"arn:aws:iot:us-east-1:{ACCOUNT}:topic/"
    context(conn, session, "iot").authorize("iot:Publish", topic + "thing-1")
    error = denial(lambda: context(conn, session, "iot").authorize("iot:Publish", topic + "thing-2"))
    assert error.message.startswith(f"User: {session.arn} is not authorized")
    narrowed = replace(session, session_policy=doc(allow("iot:Connect")))
    error = denial(lambda: context(conn, narrowed, "iot").authorize("iot:Publish", topic + "thing-1"))
    assert error.message.endswith("because no session policy allows the iot:Publish action")
    by_arn = replace(session, session_policy_arns=(policy.arn,))
    context(conn, by_arn, "iot").authorize("iot:Publish", topic + "thing-1")
    mfa_only = policy_repo.create_policy(
        conn,
        ACCOUNT,
        "MfaOnly",
        "/",
        doc(allow("iot:Connect", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})),
    )
    attachments.attach_policy(conn, ACCOUNT, "role", role.id, mfa_only.arn)
    policy_cache.bump_generation(conn)
    assert denial(lambda: context(conn, session, "iot").authorize("iot:Connect", "*"))
    context(conn, replace(session, mfa=True), "iot").authorize("iot:Connect", "*")


def test_request_condition_keys(conn: Connection) -> None:
    hank = user_principal(conn, "hank")
    inline_repo.put(
        conn,
        ACCOUNT,
        "user",
        hank.entity_id or 0,
        "conditions",
        doc(
            allow(
                "s3:GetObject",
                Condition={
                    "Bool": {"aws:SecureTransport": "true"},
                    "IpAddress": {"aws:SourceIp": "192.0.2.0/24"},
                    "StringEquals": {"aws:ResourceAccount": ACCOUNT, "s3:prefix": "home/"},
                },
            ),
            allow("iam:GetUser", Condition={"Null": {"aws:MultiFactorAuthPresent": "true"}}),
        ),
    )
    ctx = context(conn, hank, "s3")
    bucket_object = f"arn:aws:iam::{ACCOUNT}:user/hank"  # any ARN naming the account
    ctx.authorize("s3:GetObject", bucket_object, {"s3:prefix": "home/"})
    assert denial(lambda: ctx.authorize("s3:GetObject", bucket_object, {"s3:prefix": "other/"}))
    plain = context(conn, hank, "s3")
    plain.secure = False
    assert denial(lambda: plain.authorize("s3:GetObject", bucket_object, {"s3:prefix": "home/"}))
    ctx.authorize("iam:GetUser", bucket_object)  # long-term keys carry no aws:MultiFactorAuthPresent


def test_every_decision_is_logged(conn: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str, bool, str]] = []
    monkeypatch.setattr(
        decisions,
        "record",
        lambda ctx, action, resource, decision, message: seen.append((action, resource, decision.allowed, message)),
    )
    ivy = user_principal(conn, "ivy")
    inline_repo.put(conn, ACCOUNT, "user", ivy.entity_id or 0, "p", doc(allow("iot:DescribeThing")))
    ctx = context(conn, ivy, "iot")
    ctx.authorize("iot:DescribeThing", "arn:aws:iot:us-east-1:123456789012:thing/a")
    error = denial(lambda: ctx.authorize("iot:DeleteThing", "arn:aws:iot:us-east-1:123456789012:thing/a"))
    root = replace(ivy, kind=PrincipalKind.ROOT, arn=arns.root(ACCOUNT), entity_id=None)
    context(conn, root, "iot").authorize("iot:DeleteThing", "*")
    assert seen == [
        ("iot:DescribeThing", "arn:aws:iot:us-east-1:123456789012:thing/a", True, ""),
        ("iot:DeleteThing", "arn:aws:iot:us-east-1:123456789012:thing/a", False, error.message),
        ("iot:DeleteThing", "*", True, ""),
    ]


def test_policy_denials_name_the_policy_like_iam() -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:policy/team/P"
    assert authorization.shown_resource("iam:DeletePolicyVersion", arn) == f"policy {arn}"
    assert authorization.shown_resource("iam:ListPolicies", f"arn:aws:iam::{ACCOUNT}:policy/") == (
        f"arn:aws:iam::{ACCOUNT}:policy/"
    )
    assert authorization.shown_resource("s3:GetObject", "arn:aws:s3:::b/policy/x") == "arn:aws:s3:::b/policy/x"
