"""Console passwords (login profiles), the account password policy and ChangePassword, through boto3 and the
AWS CLI.

The password policy is one per account, so the tests that change it restore "no policy" when done.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest
from botocore.exceptions import ClientError

from edgeward.storage.repos import access_keys
from edgeward.storage.secrets import SecretBox
from tests.serverfixtures import RunningServer
from tests.services.test_iam_roles import attach_policy_row, entity_id, error_of, server_account, server_db

STRONG = "Correct-Horse-42"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
VIOLATION = ("PasswordPolicyViolation", "Password does not conform to the account password policy.", 400)


@pytest.fixture
def policy(server: RunningServer) -> Iterator[Any]:
    """The admin's IAM client; the account password policy is removed again afterwards."""
    iam = server.client("iam")
    yield iam
    with suppress(iam.exceptions.NoSuchEntityException):
        iam.delete_account_password_policy()


def user_client(server: RunningServer, name: str, *, admin: bool = False) -> Any:
    iam = server.client("iam")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    if admin:
        attach_policy_row(server, "user", entity_id(server, "user", name), ADMINISTRATOR_ACCESS)
    return server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])


def test_no_password_policy_until_one_is_set(server: RunningServer, policy: Any) -> None:
    iam = policy
    account = server_account(server)
    missing = ("NoSuchEntity", f"The Password Policy with domain name {account} cannot be found.", 404)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.get_account_password_policy()
    assert error_of(caught) == missing
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.delete_account_password_policy()
    assert error_of(caught) == missing
    iam.update_account_password_policy()
    assert iam.get_account_password_policy()["PasswordPolicy"] == {
        "MinimumPasswordLength": 6,
        "RequireSymbols": False,
        "RequireNumbers": False,
        "RequireUppercaseCharacters": False,
        "RequireLowercaseCharacters": False,
        "AllowUsersToChangePassword": False,
        "ExpirePasswords": False,
    }
    iam.update_account_password_policy(
        MinimumPasswordLength=14,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=5,
        HardExpiry=False,
    )
    got = iam.get_account_password_policy()["PasswordPolicy"]
    assert got["MinimumPasswordLength"] == 14 and got["ExpirePasswords"] is True and got["MaxPasswordAge"] == 90
    assert got["PasswordReusePrevention"] == 5 and got["HardExpiry"] is False and got["RequireSymbols"] is True
    iam.update_account_password_policy(MinimumPasswordLength=8)  # replaces the whole policy
    got = iam.get_account_password_policy()["PasswordPolicy"]
    assert got["MinimumPasswordLength"] == 8 and got["RequireSymbols"] is False and "MaxPasswordAge" not in got
    iam.delete_account_password_policy()
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_account_password_policy()


def test_password_policy_bounds_are_validated(server: RunningServer) -> None:
    iam = server.client("iam", parameter_validation=False)
    with pytest.raises(ClientError) as caught:
        iam.update_account_password_policy(MinimumPasswordLength=5)
    assert error_of(caught) == (
        "ValidationError",
        "1 validation error detected: Value '5' at 'minimumPasswordLength' failed to satisfy constraint: "
        "Member must have value greater than or equal to 6",
        400,
    )


def test_login_profile_lifecycle(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="console-user")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.get_login_profile(UserName="console-user")
    assert error_of(caught) == ("NoSuchEntity", "Login Profile for User console-user cannot be found.", 404)
    created = iam.create_login_profile(UserName="console-user", Password=STRONG, PasswordResetRequired=True)
    assert created["LoginProfile"]["UserName"] == "console-user"
    assert created["LoginProfile"]["PasswordResetRequired"] is True
    assert "Password" not in created["LoginProfile"]
    got = iam.get_login_profile(UserName="CONSOLE-USER")["LoginProfile"]
    assert got["PasswordResetRequired"] is True and got["CreateDate"] == created["LoginProfile"]["CreateDate"]
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as caught:
        iam.create_login_profile(UserName="console-user", Password=STRONG)
    assert error_of(caught) == ("EntityAlreadyExists", "Login Profile for user console-user already exists.", 409)
    iam.update_login_profile(UserName="console-user", PasswordResetRequired=False)
    assert iam.get_login_profile(UserName="console-user")["LoginProfile"]["PasswordResetRequired"] is False
    iam.update_login_profile(UserName="console-user", Password="Another-Str0ng-One")
    with pytest.raises(iam.exceptions.DeleteConflictException) as caught:
        iam.delete_user(UserName="console-user")
    assert error_of(caught) == ("DeleteConflict", "Cannot delete entity, must delete login profile first.", 409)
    iam.delete_login_profile(UserName="console-user")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.delete_login_profile(UserName="console-user")
    assert error_of(caught)[1] == "Login Profile for User console-user cannot be found."
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.update_login_profile(UserName="console-user", PasswordResetRequired=True)
    assert error_of(caught)[1] == "Login Profile for User console-user cannot be found."
    iam.delete_user(UserName="console-user")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.create_login_profile(UserName="console-user", Password=STRONG)
    assert error_of(caught)[1] == "The user with name console-user cannot be found."


@pytest.mark.parametrize("password", ["Short1!", "alllowercaseletters", "lowercase-and-symbols", "UPPER1234567"])
def test_default_password_policy(server: RunningServer, password: str) -> None:
    """No custom policy: at least 8 characters and three of upper, lower, numbers, symbols."""
    iam = server.client("iam")
    iam.create_user(UserName=f"weak-{len(password)}-{password[:3].lower()}")
    with pytest.raises(iam.exceptions.PasswordPolicyViolationException) as caught:
        iam.create_login_profile(UserName=f"weak-{len(password)}-{password[:3].lower()}", Password=password)
    assert error_of(caught) == VIOLATION


def test_custom_password_policy_is_enforced(server: RunningServer, policy: Any) -> None:
    iam = policy
    iam.update_account_password_policy(MinimumPasswordLength=12, RequireSymbols=True, RequireNumbers=True)
    iam.create_user(UserName="policy-user")
    for password in ("Sh0rt!", "NoSymbolsHere123", "No-Numbers-Here!"):
        with pytest.raises(iam.exceptions.PasswordPolicyViolationException) as caught:
            iam.create_login_profile(UserName="policy-user", Password=password)
        assert error_of(caught) == VIOLATION
    iam.create_login_profile(UserName="policy-user", Password="all-lower-but-1!")  # no case rule in this policy
    with pytest.raises(iam.exceptions.PasswordPolicyViolationException):
        iam.update_login_profile(UserName="policy-user", Password="too-short-1")


def test_password_reuse_prevention(server: RunningServer, policy: Any) -> None:
    iam = policy
    iam.update_account_password_policy(MinimumPasswordLength=8, PasswordReusePrevention=2)
    iam.create_user(UserName="reuser")
    iam.create_login_profile(UserName="reuser", Password="first-Pass-1")
    with pytest.raises(iam.exceptions.PasswordPolicyViolationException):
        iam.update_login_profile(UserName="reuser", Password="first-Pass-1")
    iam.update_login_profile(UserName="reuser", Password="second-Pass-2")
    with pytest.raises(iam.exceptions.PasswordPolicyViolationException):
        iam.update_login_profile(UserName="reuser", Password="first-Pass-1")  # one of the last two
    iam.update_login_profile(UserName="reuser", Password="third-Pass-3")
    iam.update_login_profile(UserName="reuser", Password="first-Pass-1")  # three passwords ago: allowed


def test_change_password(server: RunningServer) -> None:
    iam = server.client("iam")
    me = user_client(server, "changer", admin=True)
    iam.create_login_profile(UserName="changer", Password=STRONG, PasswordResetRequired=True)
    with pytest.raises(ClientError) as caught:
        me.change_password(OldPassword="not-my-password-1A", NewPassword="Brand-New-Pass-7")
    assert error_of(caught) == ("AccessDenied", "The old password was incorrect.", 403)
    with pytest.raises(iam.exceptions.PasswordPolicyViolationException):
        me.change_password(OldPassword=STRONG, NewPassword="weak")
    assert iam.get_login_profile(UserName="changer")["LoginProfile"]["PasswordResetRequired"] is True
    me.change_password(OldPassword=STRONG, NewPassword="Brand-New-Pass-7")
    assert iam.get_login_profile(UserName="changer")["LoginProfile"]["PasswordResetRequired"] is False
    me.change_password(OldPassword="Brand-New-Pass-7", NewPassword="Newer-Still-Pass-8")  # the new one is in force
    with pytest.raises(ClientError) as caught:
        me.change_password(OldPassword="Brand-New-Pass-7", NewPassword="Another-Pass-9")
    assert error_of(caught)[0] == "AccessDenied"
    assert me.get_login_profile()["LoginProfile"]["UserName"] == "changer"  # the caller's own, by default


def test_change_password_needs_a_profile_and_a_user(server: RunningServer) -> None:
    me = user_client(server, "profileless", admin=True)
    with pytest.raises(ClientError) as caught:
        me.change_password(OldPassword="whatever-1A!", NewPassword="Brand-New-Pass-7")
    assert error_of(caught) == ("NoSuchEntity", "Login Profile for User profileless cannot be found.", 404)
    with root_client(server) as root:
        with pytest.raises(ClientError) as caught:
            root.change_password(OldPassword="whatever-1A!", NewPassword="Brand-New-Pass-7")
        assert error_of(caught)[0] == "InvalidUserType"


@contextmanager
def root_client(server: RunningServer) -> Iterator[Any]:
    """An IAM client signed with a new access key of the account root, deleted again afterwards."""
    account = server_account(server)
    box = SecretBox.load_or_create(server.data_dir / "kek")
    with server_db(server) as conn:
        key, secret = access_keys.create_access_key(conn, account, None, box)
    try:
        yield server.client("iam", key.access_key_id, secret)
    finally:
        with server_db(server) as conn:
            access_keys.delete_access_key(conn, account, None, key.access_key_id)


def test_user_without_permissions_is_denied(server: RunningServer) -> None:
    iam = server.client("iam")
    limited = user_client(server, "passwordless")
    iam.create_login_profile(UserName="passwordless", Password=STRONG)
    account = server_account(server)
    user = f"arn:aws:iam::{account}:user/passwordless"
    calls = [
        ("CreateLoginProfile", lambda: limited.create_login_profile(UserName="passwordless", Password=STRONG)),
        ("GetLoginProfile", lambda: limited.get_login_profile(UserName="passwordless")),
        ("UpdateLoginProfile", lambda: limited.update_login_profile(UserName="passwordless", Password=STRONG)),
        ("DeleteLoginProfile", lambda: limited.delete_login_profile(UserName="passwordless")),
        ("ChangePassword", lambda: limited.change_password(OldPassword=STRONG, NewPassword="Brand-New-Pass-7")),
    ]
    for action, call in calls:
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught)[1].startswith(
            f"User: {user} is not authorized to perform: iam:{action} on resource: {user} "
        ), error_of(caught)
    for action, call in [
        ("GetAccountPasswordPolicy", limited.get_account_password_policy),
        ("UpdateAccountPasswordPolicy", limited.update_account_password_policy),
        ("DeleteAccountPasswordPolicy", limited.delete_account_password_policy),
    ]:
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught)[1].startswith(
            f"User: {user} is not authorized to perform: iam:{action} on resource: * "
        ), error_of(caught)


def test_login_profiles_with_the_aws_cli(server: RunningServer, policy: Any) -> None:
    env = server.env()

    def aws(*args: str) -> Any:
        done = subprocess.run(["aws", "iam", *args], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    aws("update-account-password-policy", "--minimum-password-length", "10", "--require-numbers")
    assert aws("get-account-password-policy")["PasswordPolicy"]["MinimumPasswordLength"] == 10
    aws("create-user", "--user-name", "cli-console")
    profile = aws("create-login-profile", "--user-name", "cli-console", "--password", STRONG)["LoginProfile"]
    assert profile["UserName"] == "cli-console"
    assert aws("get-login-profile", "--user-name", "cli-console")["LoginProfile"]["PasswordResetRequired"] is False
