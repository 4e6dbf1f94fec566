"""STS through boto3 and the AWS CLI: AssumeRole, GetSessionToken, and temporary credentials at work.

Some facts need the server's database directly (`Backstage`): attaching managed policies (until the
IAM-policies work offers AttachUserPolicy/AttachRolePolicy) and an already expired session (no API can make
one, and waiting 15 minutes for a real one is not a test).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from edgeward.core import clock, ids
from edgeward.services import policy_cache
from edgeward.services.iam.managed import ADMINISTRATOR_ACCESS
from edgeward.storage.database import Database, sqlite_url
from edgeward.storage.repos import attachments, roles, sessions, users
from edgeward.storage.repos.sessions import NewSession
from edgeward.storage.secrets import SecretBox
from tests.serverfixtures import RunningServer


@dataclass
class Backstage:
    db: Database
    box: SecretBox
    account: str

    def attach(self, principal_type: str, name: str, policy_arn: str = ADMINISTRATOR_ACCESS) -> None:
        with self.db.transaction() as conn:
            entity = (
                users.get_user(conn, self.account, name)
                if principal_type == "user"
                else roles.get_role(conn, self.account, name)
            )
            assert entity is not None
            attachments.attach_policy(conn, self.account, principal_type, entity.id, policy_arn)
            policy_cache.bump_generation(conn)
        time.sleep(policy_cache.POLL_INTERVAL * 2)  # another process: its cache sees the bump within the poll

    def root_keys(self) -> tuple[str, str]:
        from edgeward.storage.repos import access_keys

        with self.db.transaction() as conn:
            key, secret = access_keys.create_access_key(conn, self.account, None, self.box)
        return key.access_key_id, secret

    def expired_session(self, role_name: str) -> dict[str, str]:
        with self.db.transaction() as conn:
            role = roles.get_role(conn, self.account, role_name)
            assert role is not None
            issued = clock.now().replace(microsecond=0) - timedelta(hours=1)
            session = NewSession(
                access_key_id=ids.access_key_id(temporary=True),
                account=self.account,
                kind=sessions.ASSUMED_ROLE,
                secret=ids.secret_access_key(),
                token=secrets.token_urlsafe(96),
                issued_at=issued,
                expires_at=issued + timedelta(minutes=15),
                role_id=role.id,
                session_name="expired",
            )
            sessions.create_session(conn, self.box, session)
        return {"AccessKeyId": session.access_key_id, "SecretAccessKey": session.secret, "SessionToken": session.token}


def _database_url(server: RunningServer) -> str:
    if server.backend == "sqlite":
        return sqlite_url(server.data_dir)
    args = [str(arg) for arg in server.process.args]  # type: ignore[union-attr]
    return args[args.index("--database-url") + 1]


@pytest.fixture(scope="module")
def backstage(server: RunningServer) -> Iterator[Backstage]:
    db = Database(_database_url(server))
    account = server.client("sts").get_caller_identity()["Account"]
    try:
        yield Backstage(db, SecretBox.resolve(server.data_dir / "kek"), account)
    finally:
        db.dispose()


# -- helpers ---------------------------------------------------------------------------------------


def _unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def trust(principal: dict[str, Any], *actions: str, condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": list(actions or ("sts:AssumeRole",)),
    }
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def make_role(server: RunningServer, name: str, trust_policy: str, **extra: Any) -> str:
    role_arn: str = server.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy, **extra)[
        "Role"
    ]["Arn"]
    return role_arn


def make_user(server: RunningServer, name: str) -> tuple[str, str, str]:
    iam = server.client("iam")
    user_arn: str = iam.create_user(UserName=name)["User"]["Arn"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return user_arn, key["AccessKeyId"], key["SecretAccessKey"]


def with_credentials(server: RunningServer, service: str, credentials: dict[str, Any]) -> Any:
    return server.client(
        service, credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials.get("SessionToken")
    )


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def _close_to(moment: datetime, expected: datetime) -> bool:
    return abs((moment - expected).total_seconds()) < 120


# -- AssumeRole: who is trusted ----------------------------------------------------------------------


def test_trust_naming_the_user_grants_without_identity_policy(server: RunningServer, backstage: Backstage) -> None:
    user_arn, akid, secret = make_user(server, _unique("trusted"))
    role_arn = make_role(server, _unique("Direct"), trust({"AWS": user_arn}), Path="/edge/")
    role_name = role_arn.rsplit("/", 1)[1]
    out = server.client("sts", akid, secret).assume_role(RoleArn=role_arn, RoleSessionName="device-1")
    credentials, assumed = out["Credentials"], out["AssumedRoleUser"]
    assert credentials["AccessKeyId"].startswith("ASIA") and len(credentials["AccessKeyId"]) == 20
    assert len(credentials["SecretAccessKey"]) == 40 and len(credentials["SessionToken"]) >= 128
    assert _close_to(credentials["Expiration"], datetime.now(UTC) + timedelta(hours=1))
    role_id = server.client("iam").get_role(RoleName=role_name)["Role"]["RoleId"]
    assert assumed == {
        "AssumedRoleId": f"{role_id}:device-1",
        "Arn": f"arn:aws:sts::{backstage.account}:assumed-role/{role_name}/device-1",
    }
    assert "PackedPolicySize" not in out and "SourceIdentity" not in out
    who = with_credentials(server, "sts", credentials).get_caller_identity()
    assert (who["UserId"], who["Arn"], who["Account"]) == (f"{role_id}:device-1", assumed["Arn"], backstage.account)
    last_used = server.client("iam").get_role(RoleName=role_name)["Role"]["RoleLastUsed"]
    assert last_used["Region"] == "us-east-1" and _close_to(last_used["LastUsedDate"], datetime.now(UTC))


def test_trust_naming_the_account_needs_an_identity_allow(server: RunningServer, backstage: Backstage) -> None:
    name = _unique("acct-trusted")
    user_arn, akid, secret = make_user(server, name)
    role_arn = make_role(server, _unique("AccountTrust"), trust({"AWS": backstage.account}))
    sts = server.client("sts", akid, secret)
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="s1")
    assert error_of(caught) == (
        "AccessDenied",
        f"User: {user_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn} "
        "because no identity-based policy allows the sts:AssumeRole action",
        403,
    )
    backstage.attach("user", name)
    assert sts.assume_role(RoleArn=role_arn, RoleSessionName="s1")["Credentials"]["AccessKeyId"].startswith("ASIA")


def test_a_service_trust_denies_users_in_the_trust_policy_words(server: RunningServer, backstage: Backstage) -> None:
    role_arn = make_role(server, _unique("IotOnly"), trust({"Service": "credentials.iot.amazonaws.com"}))
    with pytest.raises(ClientError) as caught:
        server.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="admin")  # admin: AdministratorAccess
    assert error_of(caught) == (
        "AccessDenied",
        f"User: arn:aws:iam::{backstage.account}:user/admin is not authorized to perform: sts:AssumeRole on "
        f"resource: {role_arn} because no role trust policy allows the sts:AssumeRole action",
        403,
    )


@pytest.mark.parametrize("suffix", ["role/NoSuchRole", "role/wrong-path/{name}", "user/{name}"])
def test_a_role_that_is_not_there_is_denied_naming_no_policy(
    server: RunningServer, backstage: Backstage, suffix: str
) -> None:
    name = _unique("Pathed")
    make_role(server, name, trust({"AWS": backstage.account}), Path="/right-path/")
    role_arn = f"arn:aws:iam::{backstage.account}:{suffix.format(name=name)}"
    with pytest.raises(ClientError) as caught:
        server.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="s1")
    assert error_of(caught) == (
        "AccessDenied",
        f"User: arn:aws:iam::{backstage.account}:user/admin is not authorized to perform: sts:AssumeRole on "
        f"resource: {role_arn}",
        403,
    )


def test_another_accounts_role_is_denied(server: RunningServer, backstage: Backstage) -> None:
    role_arn = "arn:aws:iam::111122223333:role/Elsewhere"
    with pytest.raises(ClientError) as caught:
        server.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="s1")
    assert error_of(caught)[0] == "AccessDenied" and error_of(caught)[1].endswith(f"on resource: {role_arn}")


def test_external_id_condition(server: RunningServer, backstage: Backstage) -> None:
    user_arn, akid, secret = make_user(server, _unique("partner"))
    condition = {"StringEquals": {"sts:ExternalId": "ext-7c1f"}}
    role_arn = make_role(server, _unique("Partner"), trust({"AWS": user_arn}, condition=condition))
    sts = server.client("sts", akid, secret)
    for external_id in (None, "ext-wrong"):
        extra = {} if external_id is None else {"ExternalId": external_id}
        with pytest.raises(ClientError) as caught:
            sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", **extra)
        assert error_of(caught)[1].endswith("because no role trust policy allows the sts:AssumeRole action")
    assert sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", ExternalId="ext-7c1f")["Credentials"]


def test_root_may_not_assume_roles(server: RunningServer, backstage: Backstage) -> None:
    role_arn = make_role(server, _unique("RootTrust"), trust({"AWS": backstage.account}))
    with pytest.raises(ClientError) as caught:
        server.client("sts", *backstage.root_keys()).assume_role(RoleArn=role_arn, RoleSessionName="s1")
    assert error_of(caught) == ("AccessDenied", "Roles may not be assumed by root accounts.", 403)


# -- AssumeRole: duration, session policies, tags ----------------------------------------------------


def test_duration_limits(server: RunningServer, backstage: Backstage) -> None:
    sts = server.client("sts")
    short = make_role(server, _unique("Short"), trust({"AWS": backstage.account}))
    long = make_role(server, _unique("Long"), trust({"AWS": backstage.account}), MaxSessionDuration=43200)
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=short, RoleSessionName="s1", DurationSeconds=3601)
    assert error_of(caught) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        400,
    )
    out = sts.assume_role(RoleArn=long, RoleSessionName="s1", DurationSeconds=43200)
    assert _close_to(out["Credentials"]["Expiration"], datetime.now(UTC) + timedelta(hours=12))
    out = sts.assume_role(RoleArn=short, RoleSessionName="s1", DurationSeconds=900)
    assert _close_to(out["Credentials"]["Expiration"], datetime.now(UTC) + timedelta(minutes=15))
    unchecked = server.client("sts", parameter_validation=False)
    for outside in (899, 43201):
        with pytest.raises(ClientError) as caught:
            unchecked.assume_role(RoleArn=long, RoleSessionName="s1", DurationSeconds=outside)
        assert error_of(caught)[0] == "ValidationError" and "durationSeconds" in error_of(caught)[1]


def test_session_name_is_validated(server: RunningServer, backstage: Backstage) -> None:
    role_arn = make_role(server, _unique("Names"), trust({"AWS": backstage.account}))
    for bad in ("x", "a" * 65, "has space"):
        with pytest.raises(ClientError) as caught:
            server.client("sts", parameter_validation=False).assume_role(RoleArn=role_arn, RoleSessionName=bad)
        assert error_of(caught)[0] == "ValidationError" and "roleSessionName" in error_of(caught)[1]


def test_session_policy_bounds_a_chained_assume_and_chains_cap_at_one_hour(
    server: RunningServer, backstage: Backstage
) -> None:
    user_arn, akid, secret = make_user(server, _unique("chainer"))
    first_name = _unique("ChainA")
    first = make_role(server, first_name, trust({"AWS": user_arn}))
    second = make_role(server, _unique("ChainB"), trust({"AWS": first}), MaxSessionDuration=43200)
    sts = server.client("sts", akid, secret)
    only_s3 = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    )
    narrow = sts.assume_role(RoleArn=first, RoleSessionName="narrow", Policy=only_s3)
    assert 0 < narrow["PackedPolicySize"] <= 100
    with pytest.raises(ClientError) as caught:
        with_credentials(server, "sts", narrow["Credentials"]).assume_role(RoleArn=second, RoleSessionName="next")
    assert error_of(caught) == (
        "AccessDenied",
        f"User: arn:aws:sts::{backstage.account}:assumed-role/{first_name}/narrow is not authorized to perform: "
        f"sts:AssumeRole on resource: {second} because no session policy allows the sts:AssumeRole action",
        403,
    )
    assume_only = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": second}]}
    )
    wide = with_credentials(
        server, "sts", sts.assume_role(RoleArn=first, RoleSessionName="wide", Policy=assume_only)["Credentials"]
    )
    with pytest.raises(ClientError) as caught:
        wide.assume_role(RoleArn=second, RoleSessionName="next", DurationSeconds=3601)
    assert error_of(caught) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        400,
    )
    chained = wide.assume_role(RoleArn=second, RoleSessionName="next")
    assert chained["AssumedRoleUser"]["Arn"].endswith(f":assumed-role/{second.rsplit('/', 1)[1]}/next")


def test_session_policy_validation(server: RunningServer, backstage: Backstage) -> None:
    role_arn = make_role(server, _unique("Policies"), trust({"AWS": backstage.account}))
    sts = server.client("sts")
    with pytest.raises(sts.exceptions.MalformedPolicyDocumentException):
        sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", Policy='{"Version": "2012-10-17"')
    big = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": f"s3:GetObject{i}", "Resource": "*"} for i in range(60)],
        }
    )
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", Policy=big)
    assert error_of(caught)[0] == "ValidationError" and "2048" in error_of(caught)[1]
    missing = f"arn:aws:iam::{backstage.account}:policy/NoSuchPolicy"
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", PolicyArns=[{"arn": missing}])
    assert error_of(caught) == ("ValidationError", f"Policy {missing} does not exist or is not attachable.", 400)
    eleven = [{"arn": ADMINISTRATOR_ACCESS}] * 11
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", PolicyArns=eleven)
    assert error_of(caught)[0] == "ValidationError" and "10" in error_of(caught)[1]
    out = sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", PolicyArns=[{"arn": ADMINISTRATOR_ACCESS}])
    assert 0 < out["PackedPolicySize"] <= 100


def test_session_tags_need_tag_session_and_pass_on_when_transitive(server: RunningServer, backstage: Backstage) -> None:
    user_arn, akid, secret = make_user(server, _unique("tagger"))
    first_name = _unique("Tagged")
    first = make_role(
        server,
        first_name,
        trust({"AWS": user_arn}, "sts:AssumeRole", "sts:TagSession"),
        Tags=[{"Key": "Team", "Value": "from-role"}],
    )
    condition = {"StringEquals": {"aws:PrincipalTag/team": "edge"}}
    second = make_role(server, _unique("NeedsTag"), trust({"AWS": first}, condition=condition))
    untaggable = make_role(server, _unique("NoTagSession"), trust({"AWS": user_arn}))
    sts = server.client("sts", akid, secret)

    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=untaggable, RoleSessionName="s1", Tags=[{"Key": "team", "Value": "edge"}])
    assert error_of(caught) == (
        "AccessDenied",
        f"User: {user_arn} is not authorized to perform: sts:TagSession on resource: {untaggable} "
        "because no role trust policy allows the sts:TagSession action",
        403,
    )
    plain = with_credentials(server, "sts", sts.assume_role(RoleArn=first, RoleSessionName="plain")["Credentials"])
    with pytest.raises(ClientError) as caught:
        plain.assume_role(RoleArn=second, RoleSessionName="next")  # the role's own tag says from-role
    assert error_of(caught)[1].endswith("because no role trust policy allows the sts:AssumeRole action")

    tagged = sts.assume_role(
        RoleArn=first, RoleSessionName="tagged", Tags=[{"Key": "team", "Value": "edge"}], TransitiveTagKeys=["team"]
    )
    assert 0 < tagged["PackedPolicySize"] <= 100
    session = with_credentials(server, "sts", tagged["Credentials"])
    assert session.assume_role(RoleArn=second, RoleSessionName="next")["Credentials"]  # session tag overrides Team
    with pytest.raises(ClientError) as caught:
        session.assume_role(RoleArn=second, RoleSessionName="next", Tags=[{"Key": "TEAM", "Value": "other"}])
    assert error_of(caught)[0] == "InvalidParameterValue" and "transitive" in error_of(caught)[1]


def test_session_tag_validation(server: RunningServer, backstage: Backstage) -> None:
    role_arn = make_role(
        server, _unique("TagRules"), trust({"AWS": backstage.account}, "sts:AssumeRole", "sts:TagSession")
    )
    sts = server.client("sts")
    with pytest.raises(ClientError) as caught:
        sts.assume_role(
            RoleArn=role_arn, RoleSessionName="s1", Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}]
        )
    assert error_of(caught) == (
        "InvalidParameterValue",
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        400,
    )
    with pytest.raises(ClientError) as caught:
        sts.assume_role(
            RoleArn=role_arn, RoleSessionName="s1", Tags=[{"Key": "a", "Value": "1"}], TransitiveTagKeys=["b"]
        )
    assert error_of(caught)[0] == "InvalidParameterValue"
    noisy = [{"Key": secrets.token_hex(64), "Value": secrets.token_hex(128)} for _ in range(50)]
    with pytest.raises(sts.exceptions.PackedPolicyTooLargeException) as too_large:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", Tags=noisy)
    assert "% of allotted space" in too_large.value.response["Error"]["Message"]


def test_source_identity_needs_set_source_identity(server: RunningServer, backstage: Backstage) -> None:
    user_arn, akid, secret = make_user(server, _unique("sourced"))
    allowed = make_role(server, _unique("Sourced"), trust({"AWS": user_arn}, "sts:AssumeRole", "sts:SetSourceIdentity"))
    refused = make_role(server, _unique("Unsourced"), trust({"AWS": user_arn}))
    sts = server.client("sts", akid, secret)
    assert sts.assume_role(RoleArn=allowed, RoleSessionName="s1", SourceIdentity="alice")["SourceIdentity"] == "alice"
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=refused, RoleSessionName="s1", SourceIdentity="alice")
    assert "sts:SetSourceIdentity" in error_of(caught)[1]


def test_mfa_is_refused_clearly(server: RunningServer, backstage: Backstage) -> None:
    role_arn = make_role(server, _unique("Mfa"), trust({"AWS": backstage.account}))
    serial = f"arn:aws:iam::{backstage.account}:mfa/admin"
    with pytest.raises(ClientError) as caught:
        server.client("sts").assume_role(
            RoleArn=role_arn, RoleSessionName="s1", SerialNumber=serial, TokenCode="123456"
        )
    code, message, _ = error_of(caught)
    assert code == "AccessDenied" and "does not implement MFA devices" in message and serial in message
    with pytest.raises(ClientError) as caught:
        server.client("sts").get_session_token(SerialNumber=serial, TokenCode="123456")
    assert "does not implement MFA devices" in error_of(caught)[1]


# -- temporary credentials at work ---------------------------------------------------------------------


def test_a_wrong_or_missing_session_token_is_an_invalid_client_token(
    server: RunningServer, backstage: Backstage
) -> None:
    role_arn = make_role(server, _unique("Tokens"), trust({"AWS": backstage.account}))
    first = server.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="one")["Credentials"]
    second = server.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="two")["Credentials"]
    for token in (None, "not-the-token", second["SessionToken"], first["SessionToken"][:-4]):
        client = server.client("sts", first["AccessKeyId"], first["SecretAccessKey"], token)
        with pytest.raises(ClientError) as caught:
            client.get_caller_identity()
        assert error_of(caught) == (
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
            403,
        )
    wrong_secret = server.client("sts", first["AccessKeyId"], second["SecretAccessKey"], first["SessionToken"])
    with pytest.raises(ClientError) as caught:
        wrong_secret.get_caller_identity()
    assert error_of(caught)[0] == "SignatureDoesNotMatch"


def test_an_expired_session_is_an_expired_token(server: RunningServer, backstage: Backstage) -> None:
    name = _unique("Expiring")
    make_role(server, name, trust({"AWS": backstage.account}))
    expired = backstage.expired_session(name)
    for service in ("sts", "iam"):
        with pytest.raises(ClientError) as caught:
            client = with_credentials(server, service, expired)
            client.get_caller_identity() if service == "sts" else client.list_users()
        assert error_of(caught) == ("ExpiredToken", "The security token included in the request is expired", 403)


def test_a_session_ends_with_its_role(server: RunningServer, backstage: Backstage) -> None:
    name = _unique("Ephemeral")
    role_arn = make_role(server, name, trust({"AWS": backstage.account}))
    credentials = server.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="s1")["Credentials"]
    session = with_credentials(server, "sts", credentials)
    assert session.get_caller_identity()["Arn"].endswith(f"/{name}/s1")
    server.client("iam").delete_role(RoleName=name)
    with pytest.raises(ClientError) as caught:
        session.get_caller_identity()
    assert error_of(caught)[0] == "InvalidClientTokenId"


def test_role_session_calls_iam_with_the_roles_policies(server: RunningServer, backstage: Backstage) -> None:
    allowed, bare = _unique("Operator"), _unique("Bare")
    for name in (allowed, bare):
        make_role(server, name, trust({"AWS": backstage.account}))
    backstage.attach("role", allowed)
    sts = server.client("sts")
    operator = sts.assume_role(RoleArn=f"arn:aws:iam::{backstage.account}:role/{allowed}", RoleSessionName="op")
    assert "Users" in with_credentials(server, "iam", operator["Credentials"]).list_users()
    nobody = sts.assume_role(RoleArn=f"arn:aws:iam::{backstage.account}:role/{bare}", RoleSessionName="nb")
    with pytest.raises(ClientError) as caught:
        with_credentials(server, "iam", nobody["Credentials"]).list_users()
    assert error_of(caught) == (
        "AccessDenied",
        f"User: arn:aws:sts::{backstage.account}:assumed-role/{bare}/nb is not authorized to perform: "
        f"iam:ListUsers on resource: arn:aws:iam::{backstage.account}:user/ "
        "because no identity-based policy allows the iam:ListUsers action",
        403,
    )


def test_a_session_policy_narrows_the_roles_policies(server: RunningServer, backstage: Backstage) -> None:
    name = _unique("Narrowed")
    role_arn = make_role(server, name, trust({"AWS": backstage.account}))
    backstage.attach("role", name)  # the role may do anything
    list_users_only = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}]}
    )
    out = server.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="narrow", Policy=list_users_only)
    iam = with_credentials(server, "iam", out["Credentials"])
    assert "Users" in iam.list_users()
    with pytest.raises(ClientError) as caught:
        iam.list_roles()
    assert error_of(caught) == (
        "AccessDenied",
        f"User: arn:aws:sts::{backstage.account}:assumed-role/{name}/narrow is not authorized to perform: "
        f"iam:ListRoles on resource: arn:aws:iam::{backstage.account}:role/ "
        "because no session policy allows the iam:ListRoles action",
        403,
    )
    by_arn = server.client("sts").assume_role(
        RoleArn=role_arn, RoleSessionName="managed", PolicyArns=[{"arn": ADMINISTRATOR_ACCESS}]
    )
    assert "Roles" in with_credentials(server, "iam", by_arn["Credentials"]).list_roles()


# -- GetSessionToken -------------------------------------------------------------------------------------


def test_get_session_token_acts_as_the_user_within_aws_limits(server: RunningServer, backstage: Backstage) -> None:
    name = _unique("gst-user")
    user_arn, akid, secret = make_user(server, name)
    backstage.attach("user", name)
    sts = server.client("sts", akid, secret)
    token = sts.get_session_token()["Credentials"]
    assert token["AccessKeyId"].startswith("ASIA")
    assert _close_to(token["Expiration"], datetime.now(UTC) + timedelta(hours=12))
    short = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert _close_to(short["Expiration"], datetime.now(UTC) + timedelta(minutes=15))

    session = with_credentials(server, "sts", token)
    who = session.get_caller_identity()
    user_id = server.client("iam").get_user(UserName=name)["User"]["UserId"]
    assert (who["Arn"], who["UserId"]) == (user_arn, user_id)
    with pytest.raises(ClientError) as caught:
        with_credentials(server, "iam", token).list_users()  # no MFA: IAM refuses these credentials, as AWS does
    assert error_of(caught)[0] == "InvalidClientTokenId"
    with pytest.raises(ClientError) as caught:
        session.get_session_token()
    assert error_of(caught) == ("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
    role_arn = make_role(server, _unique("FromToken"), trust({"AWS": user_arn}))
    assert session.assume_role(RoleArn=role_arn, RoleSessionName="s1")["AssumedRoleUser"]["Arn"].endswith("/s1")


def test_root_session_tokens_last_an_hour_at_most(server: RunningServer, backstage: Backstage) -> None:
    sts = server.client("sts", *backstage.root_keys())
    token = sts.get_session_token(DurationSeconds=7200)["Credentials"]
    assert _close_to(token["Expiration"], datetime.now(UTC) + timedelta(hours=1))
    who = with_credentials(server, "sts", token).get_caller_identity()
    assert (who["Arn"], who["UserId"]) == (f"arn:aws:iam::{backstage.account}:root", backstage.account)


def test_role_credentials_are_refused_by_get_session_token(server: RunningServer, backstage: Backstage) -> None:
    role_arn = make_role(server, _unique("NoToken"), trust({"AWS": backstage.account}))
    credentials = server.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="s1")["Credentials"]
    with pytest.raises(ClientError) as caught:
        with_credentials(server, "sts", credentials).get_session_token()
    assert error_of(caught)[:2] == ("AccessDenied", "Cannot call GetSessionToken with session credentials")


# -- the AWS CLI -----------------------------------------------------------------------------------------


def test_aws_cli_assume_role(server: RunningServer, backstage: Backstage) -> None:
    name = _unique("CliRole")
    role_arn = make_role(server, name, trust({"AWS": backstage.account}))
    done = subprocess.run(
        ["aws", "sts", "assume-role", "--role-arn", role_arn, "--role-session-name", "cli-session", "--output", "json"],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    credentials = json.loads(done.stdout)["Credentials"]
    env = {k: v for k, v in server.env().items() if k != "AWS_SHARED_CREDENTIALS_FILE"}
    env.update(
        AWS_ACCESS_KEY_ID=credentials["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=credentials["SecretAccessKey"],
        AWS_SESSION_TOKEN=credentials["SessionToken"],
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    who = subprocess.run(
        ["aws", "sts", "get-caller-identity", "--output", "json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["Arn"] == f"arn:aws:sts::{backstage.account}:assumed-role/{name}/cli-session"
