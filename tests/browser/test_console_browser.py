"""Seed 002 in Chromium: sign-in (password and access key), an access key's secret shown once, and AWS's
denial message for an under-privileged user."""

from __future__ import annotations

import re
import uuid

from tests.browser.conftest import Steps, sign_in_with_key, sign_in_with_password
from tests.e2e.mtls import Provider

PASSWORD = "Corr3ct-Horse-Battery!"


def user_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_sign_in_with_password_and_with_access_key(steps: Steps, provider: Provider) -> None:
    iam = provider.server.client("iam")
    name = user_name("ops")
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password=PASSWORD)
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")

    steps.go("/console/deeplens/devices")  # signed out: sent to sign in
    steps.page.wait_for_url(re.compile(r"/console/signin\?"))
    steps.shot("signin-form")
    steps.page.get_by_label("IAM user name", exact=True).fill(name)
    steps.page.get_by_label("Password", exact=True).fill("wrong-password")
    steps.page.get_by_role("button", name="Sign in").click()
    assert "Your authentication information is incorrect" in steps.text("#signin-error")
    steps.shot("signin-refused")
    sign_in_with_password(steps, name, PASSWORD)
    assert f"Welcome, {name}" in steps.text("h1")
    steps.shot("signed-in-with-password")
    steps.page.get_by_role("button", name="Sign out").click()
    assert "You are signed out." in steps.text(".flash.notice")

    sign_in_with_key(steps, *provider.server.admin_keys())
    assert "user/admin" in steps.text()
    steps.shot("signed-in-with-access-key")


def test_access_key_secret_is_shown_once(steps: Steps, provider: Provider) -> None:
    sign_in_with_key(steps, *provider.server.admin_keys())
    name = user_name("builder")
    steps.go("/console/iam/users")
    steps.page.get_by_label("User name").fill(name)
    steps.page.get_by_role("button", name="Create user").click()
    steps.page.wait_for_url(re.compile(f"/console/iam/users/{name}"))
    steps.page.get_by_role("button", name="Create access key").click()
    secret = steps.text("#new-secret-access-key")
    key_id = steps.text("#new-access-key-id")
    assert len(secret) == 40 and key_id.startswith("AKIA")
    assert "This is the only time the secret access key can be viewed or downloaded" in steps.text()
    steps.shot("secret-shown-once")
    with steps.page.expect_download() as waiting:
        steps.page.get_by_role("link", name="Download .csv file").click()
    assert secret in waiting.value.path().read_text()

    steps.go(f"/console/iam/users/{name}")
    assert secret not in steps.page.content() and key_id in steps.text()
    steps.shot("secret-gone-after-reload")


def test_under_privileged_user_sees_the_aws_denial(steps: Steps, provider: Provider) -> None:
    iam = provider.server.client("iam")
    name = user_name("intern")
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password=PASSWORD)
    account = provider.server.client("sts").get_caller_identity()["Account"]
    sign_in_with_password(steps, name, PASSWORD)
    denial = f"User: arn:aws:iam::{account}:user/{name} is not authorized to perform:"

    steps.go("/console/deeplens/devices")
    assert f"{denial} deeplens:ListDevices" in steps.text(".flash.error")
    steps.shot("deeplens-devices-denied")
    steps.go("/console/deeplens/register")
    steps.page.get_by_label("Device name").fill("camera-1")
    steps.page.get_by_role("button", name="Next").click()
    assert f"{denial} deeplens:DescribeDevice" in steps.text("#device-name-error")
    steps.shot("wizard-denied")
    steps.go("/console/edge/fleets")
    assert f"{denial} sagemaker:ListDeviceFleets" in steps.text(".flash.error")
    steps.shot("fleets-denied")
