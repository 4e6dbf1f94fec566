"""The DeepLens registration wizard over plain HTTP (the browser tests drive the same pages in Chromium): name
checks, the five role selectors with "Create role in IAM", flagged roles, "Refresh IAM roles", registration,
the one-time certificate download, the device list and deregistration."""

from __future__ import annotations

import io
import json
import re
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from edgeward.services.deeplens.roles import ROLE_SPECS
from tests.console.browser import Browser, csrf_of
from tests.console.test_console_edge import text_of, unique
from tests.e2e.mtls import Provider, start_provider
from tests.serverfixtures import RunningServer

REGISTER = "/console/deeplens/register"
FIELDS = {
    "ServiceRole": "service_role",
    "GreengrassRole": "greengrass_role",
    "GreengrassGroupRole": "greengrass_group_role",
    "SageMakerRole": "sage_maker_role",
    "LambdaRole": "lambda_role",
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def provider(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    yield from start_provider(tmp_path_factory, request.param)


@pytest.fixture(scope="module")
def server(provider: Provider) -> RunningServer:
    return provider.server


@pytest.fixture
def admin_browser(server: RunningServer) -> Browser:
    browser = Browser(server.endpoint)
    status, page = browser.sign_in_with_key(*server.admin_keys())
    assert status == 200, page
    return browser


def permissions_path(device: str, **chosen: str) -> str:
    return f"{REGISTER}/permissions?{urlencode({'device': device, **chosen})}"


def post_permissions(browser: Browser, device: str, action: str, **chosen: str) -> tuple[int, str]:
    _status, page = browser.get(permissions_path(device, **chosen))
    selected = dict(re.findall(r'<select id="(\w+)".*?<option value="([^"]*)" selected>', page, re.S))
    fields = {"csrf": csrf_of(page), "device": device, **selected, **chosen, "action": action}
    return browser.post(f"{REGISTER}/permissions", fields)


def post_raw(browser: Browser, path: str, fields: dict[str, str]) -> tuple[int, bytes, Any]:
    """A POST whose answer may be binary (the helper decodes text): (status, body, headers)."""
    request = urllib.request.Request(browser.base + path, data=urlencode(fields).encode(), method="POST")
    try:
        with browser.opener.open(request, timeout=30) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def ensure_roles(browser: Browser, device: str) -> None:
    """Every missing role created with its one-click button, as the first registration of an account does."""
    for field in FIELDS.values():
        _status, page = browser.get(permissions_path(device))
        if f'id="create-{field}"' in page:
            status, page = post_permissions(browser, device, f"create:{field}")
            assert status == 200 and "created in IAM" in page, text_of(page)


def register_through_wizard(browser: Browser, device: str) -> str:
    """Steps 1 and 2; the step-3 page."""
    status, page = browser.submit(REGISTER, REGISTER, {"device_name": device})
    assert status == 200 and "Set permissions" in page, text_of(page)
    ensure_roles(browser, device)
    status, page = post_permissions(browser, device, "next")
    assert status == 200 and "Download certificate" in page, text_of(page)
    return page


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "Enter a device name."),
        ("bad name!", "Use only letters, digits and dashes"),
        ("under_score", "Use only letters, digits and dashes"),
        ("x" * 101, "at most 100 characters; this one has 101"),
    ],
)
def test_step_one_names_are_checked_inline(admin_browser: Browser, name: str, why: str) -> None:
    status, page = admin_browser.submit(REGISTER, REGISTER, {"device_name": name})
    assert status == 400
    assert 'id="device-name-error"' in page and why in text_of(page)
    assert 'aria-invalid="true"' in page


def test_step_two_creates_flags_and_refreshes_roles(server: RunningServer, admin_browser: Browser) -> None:
    iam = server.client("iam")
    device = unique("cam")
    # A Lambda role of the expected name that trusts the wrong service and carries no policy: flagged.
    wrong_trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    iam.create_role(RoleName="AWSDeepLensLambdaRole", AssumeRolePolicyDocument=wrong_trust)

    status, page = admin_browser.submit(REGISTER, REGISTER, {"device_name": device})
    assert status == 200
    for spec in ROLE_SPECS:
        assert f'<select id="{FIELDS[spec.kind]}"' in page and spec.label in page
    for kind in ("ServiceRole", "GreengrassRole", "GreengrassGroupRole", "SageMakerRole"):
        assert f'id="create-{FIELDS[kind]}"' in page  # missing: a one-click button
    assert 'id="create-lambda_role"' not in page  # present, so chosen
    assert "Role AWSDeepLensLambdaRole does not trust lambda.amazonaws.com" in text_of(page)

    # "Create role in IAM" makes the role with its trusted service(s) and managed policy.
    status, page = post_permissions(admin_browser, device, "create:service_role")
    assert "Role AWSDeepLensServiceRole created in IAM" in text_of(page)
    assert 'id="ok-service_role"' in page
    role = iam.get_role(RoleName="AWSDeepLensServiceRole")["Role"]
    assert "deeplens.amazonaws.com" in json.dumps(role["AssumeRolePolicyDocument"])
    attached = iam.list_attached_role_policies(RoleName="AWSDeepLensServiceRole")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == ["arn:aws:iam::aws:policy/service-role/AWSDeepLensServiceRolePolicy"]
    ensure_roles(admin_browser, device)
    group = json.dumps(iam.get_role(RoleName="AWSDeepLensGreengrassGroupRole")["Role"]["AssumeRolePolicyDocument"])
    assert "greengrass.amazonaws.com" in group and "credentials.iot.amazonaws.com" in group

    # The flagged role stops the wizard.
    status, page = post_permissions(admin_browser, device, "next")
    assert status == 400 and "Fix the flagged roles before you go on" in page
    assert 'id="problem-lambda_role"' in page

    # Fixed in IAM (trust, then the policy), "Refresh IAM roles" shows each remaining problem, then none.
    lambda_trust = wrong_trust.replace("ec2.amazonaws.com", "lambda.amazonaws.com")
    iam.update_assume_role_policy(RoleName="AWSDeepLensLambdaRole", PolicyDocument=lambda_trust)
    status, page = post_permissions(admin_browser, device, "refresh")
    assert "IAM roles reloaded." in page
    assert "does not have the managed policy AWSLambdaFullAccess attached" in text_of(page)
    iam.attach_role_policy(RoleName="AWSDeepLensLambdaRole", PolicyArn="arn:aws:iam::aws:policy/AWSLambdaFullAccess")
    status, page = post_permissions(admin_browser, device, "refresh")
    assert 'id="problem-' not in page and 'id="ok-lambda_role"' in page

    status, page = post_permissions(admin_browser, device, "next")
    assert status == 200 and 'id="download-certificate"' in page


def test_register_download_once_and_deregister(server: RunningServer, admin_browser: Browser) -> None:
    device = unique("cam")
    page = register_through_wizard(admin_browser, device)
    download = f"/console/deeplens/devices/{device}/certificate"
    status, body, headers = post_raw(admin_browser, download, {"csrf": csrf_of(page)})
    assert status == 200 and headers["Content-Type"] == "application/zip"
    assert f'filename="{device}-certificates.zip"' in headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = set(archive.namelist())
        config = json.loads(archive.read("config/config.json"))
    assert {"certs/device.pem.crt", "certs/device.pem.key", "certs/root.ca.pem", "config/config.json"} <= names
    assert config["deviceName"] == device

    # Taken name: refused at step 1.
    status, again = admin_browser.submit(REGISTER, REGISTER, {"device_name": device})
    assert status == 400 and f"A device named {device} is already registered" in again

    # The second download is refused with the reason, on the certificate step.
    status, refused = admin_browser.post(download, {"csrf": csrf_of(page)})
    assert status == 409
    assert "can be downloaded only once" in text_of(refused) and 'id="download-certificate"' in refused

    status, mine = admin_browser.get(f"/console/deeplens/devices/{device}")
    assert status == 200 and "Awaiting credentials" in mine and "Offline" in mine
    assert 'http-equiv="refresh"' in mine
    _status, listing = admin_browser.get("/console/deeplens/devices")
    assert f"/console/deeplens/devices/{device}" in listing

    thing = server.client("iot").describe_thing(thingName=device)
    assert thing["thingName"] == device
    status, gone = admin_browser.post(f"/console/deeplens/devices/{device}/deregister", {"csrf": csrf_of(mine)})
    assert status == 200 and f"Device {device} deregistered" in gone
    assert f"/console/deeplens/devices/{device}" not in gone


def test_wizard_shows_the_denial_to_a_user_without_rights(server: RunningServer) -> None:
    iam = server.client("iam")
    name = unique("intern")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    intern = Browser(server.endpoint)
    status, _page = intern.sign_in_with_key(key["AccessKeyId"], key["SecretAccessKey"])
    assert status == 200
    account = server.client("sts").get_caller_identity()["Account"]
    status, page = intern.submit(REGISTER, REGISTER, {"device_name": unique("cam")})
    assert status == 403
    denial = f"User: arn:aws:iam::{account}:user/{name} is not authorized to perform: deeplens:DescribeDevice"
    assert denial in text_of(page)
    _status, page = intern.get("/console/deeplens/devices")
    assert f"User: arn:aws:iam::{account}:user/{name} is not authorized to perform: deeplens:ListDevices" in text_of(
        page
    )
