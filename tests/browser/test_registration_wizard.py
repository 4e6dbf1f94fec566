"""Seed 000 in Chromium: the registration wizard step for step ("Create role in IAM", a flagged role and
"Refresh IAM roles"), the one-time certificate download, and the device coming online with edgeward-agent."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

from tests.browser.conftest import PHONE, Steps, no_horizontal_scroll, open_steps, sign_in_with_key
from tests.e2e.mtls import Provider

ROLE_FIELDS = ("service_role", "greengrass_role", "greengrass_group_role", "sage_maker_role", "lambda_role")
LAMBDA_POLICY = "arn:aws:iam::aws:policy/AWSLambdaFullAccess"
WRONG_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def agent_command() -> list[str]:
    installed = Path(sys.executable).with_name("edgeward-agent")
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "edgeward.agent.cli"]


def agent(*args: str) -> str:
    done = subprocess.run([*agent_command(), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"edgeward-agent {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def device_name() -> str:
    return f"deeplens-{uuid.uuid4().hex[:8]}"


def name_step(steps: Steps, name: str) -> None:
    steps.go("/console/deeplens/devices")
    steps.page.locator("main").get_by_role("link", name="Register device", exact=True).click()
    steps.page.get_by_label("Device name").fill(name)
    steps.page.get_by_role("button", name="Next").click()
    steps.page.wait_for_url(re.compile(r"/deeplens/register/permissions\?"))


def create_missing_roles(steps: Steps) -> int:
    """Click "Create role in IAM" for every role the account lacks; how many were created."""
    created = 0
    for field in ROLE_FIELDS:
        button = steps.page.locator(f"#create-{field}")
        if button.count():
            button.click()
            steps.page.wait_for_load_state()
            assert "created in IAM" in steps.text(".flash.notice")
            created += 1
    return created


def download_bundle(steps: Steps, folder: Path, name: str) -> Path:
    with steps.page.expect_download() as waiting:
        steps.page.get_by_role("button", name="Download certificate").click()
    download = waiting.value
    assert download.suggested_filename == f"{name}-certificates.zip"
    target = folder / download.suggested_filename
    download.save_as(str(target))
    return target


def test_wizard_with_create_role_flagged_role_refresh_and_one_time_download(
    steps: Steps, provider: Provider, tmp_path: Path
) -> None:
    iam = provider.server.client("iam")
    # The account has a Lambda role of the expected name that trusts the wrong service and lacks its policy.
    try:
        iam.create_role(RoleName="AWSDeepLensLambdaRole", AssumeRolePolicyDocument=WRONG_TRUST)
    except iam.exceptions.EntityAlreadyExistsException:
        iam.update_assume_role_policy(RoleName="AWSDeepLensLambdaRole", PolicyDocument=WRONG_TRUST)
        iam.detach_role_policy(RoleName="AWSDeepLensLambdaRole", PolicyArn=LAMBDA_POLICY)
    sign_in_with_key(steps, *provider.server.admin_keys())
    page = steps.page

    # Step 1: the name, checked inline.
    steps.go("/console/deeplens/devices")
    steps.shot("devices-before")
    page.locator("main").get_by_role("link", name="Register device", exact=True).click()
    page.get_by_label("Device name").fill("my camera!")
    page.get_by_role("button", name="Next").click()
    assert "Use only letters, digits and dashes (-) in the device name." in steps.text("#device-name-error")
    steps.shot("step1-invalid-name")
    name = device_name()
    page.get_by_label("Device name").fill(name)
    steps.shot("step1-name")
    page.get_by_role("button", name="Next").click()

    # Step 2: five selectors; the missing roles are created in one click each; the wrong one is flagged.
    page.wait_for_url(re.compile(r"/deeplens/register/permissions\?"))
    for label in (
        "IAM role for AWS DeepLens",
        "IAM role for AWS Greengrass service",
        "IAM role for AWS Greengrass device groups",
        "IAM role for Amazon SageMaker",
        "IAM role for AWS Lambda",
    ):
        assert page.get_by_label(label, exact=True).count() == 1
    assert "does not trust lambda.amazonaws.com" in steps.text("#problem-lambda_role")
    steps.shot("step2-roles-missing")
    create_missing_roles(steps)
    assert page.locator(".role-choice.flagged").count() == 1
    assert page.locator("#service_role").input_value() == "AWSDeepLensServiceRole"
    steps.shot("step2-roles-created")
    page.get_by_role("button", name="Next").click()
    assert "Fix the flagged roles before you go on" in steps.text(".flash.error")
    steps.shot("step2-flagged-role-blocks")

    # Fixed in IAM; "Refresh IAM roles" shows it.
    iam.update_assume_role_policy(RoleName="AWSDeepLensLambdaRole", PolicyDocument=WRONG_TRUST.replace("ec2", "lambda"))
    iam.attach_role_policy(RoleName="AWSDeepLensLambdaRole", PolicyArn=LAMBDA_POLICY)
    page.get_by_role("button", name="Refresh IAM roles").click()
    page.wait_for_load_state()
    assert "IAM roles reloaded." in steps.text(".flash.notice")
    assert page.locator(".role-choice.flagged").count() == 0
    steps.shot("step2-refreshed")
    page.get_by_role("button", name="Next").click()

    # Step 3: the certificate, once.
    page.wait_for_url(re.compile(r"/deeplens/register/certificate\?"))
    steps.shot("step3-download")
    bundle = download_bundle(steps, tmp_path, name)  # a private key: never among the artifacts
    with zipfile.ZipFile(io.BytesIO(bundle.read_bytes())) as archive:
        assert json.loads(archive.read("config/config.json"))["deviceName"] == name
        assert "certs/device.pem.key" in archive.namelist()
    page.get_by_role("button", name="Download certificate").click()
    refusal = steps.text(".flash.error")
    assert f"The certificate bundle of device {name} was downloaded already" in refusal
    assert "it can be downloaded only once" in refusal
    steps.shot("step3-second-download-refused")

    # Step 4: registered, awaiting the device.
    page.locator("main").get_by_role("link", name="Register", exact=True).click()
    assert steps.text("#registration-status") == "Awaiting credentials"
    assert steps.text("#device-status") == "Offline"
    steps.shot("step4-awaiting-credentials")


def test_device_comes_online_with_the_agent(steps: Steps, provider: Provider, tmp_path: Path) -> None:
    sign_in_with_key(steps, *provider.server.admin_keys())
    name = device_name()
    name_step(steps, name)
    create_missing_roles(steps)
    iam = provider.server.client("iam")
    # The Lambda role may have been left flagged by another test: make sure it carries its policy and trust.
    iam.update_assume_role_policy(RoleName="AWSDeepLensLambdaRole", PolicyDocument=WRONG_TRUST.replace("ec2", "lambda"))
    iam.attach_role_policy(RoleName="AWSDeepLensLambdaRole", PolicyArn=LAMBDA_POLICY)
    steps.page.get_by_role("button", name="Refresh IAM roles").click()
    steps.page.get_by_role("button", name="Next").click()
    steps.page.wait_for_url(re.compile(r"/deeplens/register/certificate\?"))
    bundle = download_bundle(steps, tmp_path, name)
    steps.page.locator("main").get_by_role("link", name="Register", exact=True).click()
    assert steps.text("#registration-status") == "Awaiting credentials"
    steps.shot("awaiting-credentials")

    # The device side: the zip as it is, then one cycle of the agent (credentials over mTLS, a heartbeat).
    config = tmp_path / "agent" / "config.json"
    agent("setup", "--certificates", str(bundle), "--config", str(config))
    agent("run", "--once", "--config", str(config))

    steps.page.reload()
    assert steps.text("#registration-status") == "Registered"
    assert steps.text("#device-status") == "Online"
    steps.shot("registered-and-online")
    steps.go("/console/deeplens/devices")
    row = steps.text(f"tr:has(a:text-is('{name}'))")
    assert "Registered" in row and "Online" in row
    steps.shot("devices-list-online")
    steps.go("/console/edge/devices")
    assert "Online" in steps.text(f"tr:has(a:text-is('{name}'))")
    steps.shot("edge-devices-online")

    # Deregistering revokes the certificate.
    steps.go(f"/console/deeplens/devices/{name}")
    certificate_id = steps.page.locator("dd a[href*='/console/iot/certificates/']").get_attribute("href")
    steps.page.get_by_role("button", name=f"Deregister {name}").click()
    assert f"Device {name} deregistered" in steps.text(".flash.notice")
    assert certificate_id is not None
    steps.go(certificate_id)
    assert steps.text("#certificate-status") == "REVOKED"
    steps.shot("deregistered-certificate-revoked")


def test_wizard_is_usable_by_keyboard_and_at_phone_width(chromium: object, provider: Provider, artifacts: Path) -> None:
    steps = open_steps(chromium, provider.server.endpoint, artifacts, PHONE)  # type: ignore[arg-type]
    try:
        sign_in_with_key(steps, *provider.server.admin_keys())
        assert no_horizontal_scroll(steps.page)
        steps.shot("home-phone")
        steps.go("/console/deeplens/register")
        # The name field has focus; Enter submits the step.
        steps.page.keyboard.type(device_name())
        steps.page.keyboard.press("Enter")
        steps.page.wait_for_url(re.compile(r"/deeplens/register/permissions\?"))
        assert no_horizontal_scroll(steps.page)
        steps.shot("step2-phone")
        # Tab reaches the first selector from the top of the form.
        steps.page.locator("#service_role").focus()
        steps.page.keyboard.press("Tab")
        focused = steps.page.evaluate("document.activeElement.tagName")
        assert focused in ("BUTTON", "SELECT")
        for path in ("/console/deeplens/devices", "/console/edge/fleets", "/console/iot/certificates"):
            steps.go(path)
            assert no_horizontal_scroll(steps.page), path
        steps.shot("certificates-phone")
    finally:
        steps.page.context.close()
