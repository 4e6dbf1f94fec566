"""The console's IoT and Edge Manager pages against a real server: things, certificates (activate, deactivate,
revoke), role aliases, fleets (create with a role, report, devices) and heartbeat status (seed 002)."""

from __future__ import annotations

import html as htmllib
import json
import re
import secrets
import time

import pytest

from tests.console.browser import Browser
from tests.serverfixtures import RunningServer

SAGEMAKER_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["credentials.iot.amazonaws.com", "sagemaker.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def text_of(page: str) -> str:
    return htmllib.unescape(re.sub(r"\s+", " ", page))


@pytest.fixture
def admin_browser(server: RunningServer) -> Browser:
    browser = Browser(server.endpoint)
    status, page = browser.sign_in_with_key(*server.admin_keys())
    assert status == 200, page
    return browser


def test_nav_reaches_every_area(admin_browser: Browser) -> None:
    _status, page = admin_browser.get("/console/")
    for href in (
        "/console/iot/things",
        "/console/iot/certificates",
        "/console/iot/role-aliases",
        "/console/edge/fleets",
        "/console/edge/devices",
        "/console/deeplens/devices",
        "/console/deeplens/register",
    ):
        assert f'href="{href}"' in page
        status, _body = admin_browser.get(href)
        assert status in (200, 303), href


def test_thing_and_certificate_pages_with_status_changes(server: RunningServer, admin_browser: Browser) -> None:
    iot = server.client("iot")
    thing = unique("camera")
    iot.create_thing(thingName=thing, attributePayload={"attributes": {"site": "lab"}})
    created = iot.create_keys_and_certificate(setAsActive=True)
    certificate_id = created["certificateId"]
    iot.attach_thing_principal(thingName=thing, principal=created["certificateArn"])

    _status, things = admin_browser.get("/console/iot/things")
    assert thing in things and "site=lab" in text_of(things)
    status, page = admin_browser.get(f"/console/iot/things/{thing}")
    assert status == 200 and f"/console/iot/certificates/{certificate_id}" in page

    path = f"/console/iot/certificates/{certificate_id}"
    _status, listing = admin_browser.get("/console/iot/certificates")
    assert path in listing
    status, page = admin_browser.submit(path, path, {"action": "deactivate"})
    assert status == 200 and "Certificate deactivated." in page
    assert iot.describe_certificate(certificateId=certificate_id)["certificateDescription"]["status"] == "INACTIVE"
    status, page = admin_browser.submit(path, path, {"action": "revoke"})
    assert "Certificate revoked." in page and 'id="certificate-status">REVOKED' in page
    # A revoked certificate stays revoked: IoT's own refusal, on the page.
    status, page = admin_browser.submit(path, path, {"action": "activate"})
    assert status == 406 and "a revoked certificate cannot be set ACTIVE" in text_of(page)

    status, page = admin_browser.get("/console/iot/certificates/" + "0" * 64)
    assert status == 404


def test_role_aliases_page(server: RunningServer, admin_browser: Browser) -> None:
    role = server.client("iam").create_role(RoleName=unique("AliasRole"), AssumeRolePolicyDocument=SAGEMAKER_TRUST)
    alias = unique("alias")
    server.client("iot").create_role_alias(roleAlias=alias, roleArn=role["Role"]["Arn"], credentialDurationSeconds=900)
    _status, page = admin_browser.get("/console/iot/role-aliases")
    assert alias in page and role["Role"]["Arn"] in page and "900 s" in page


def test_create_fleet_with_role_register_device_and_heartbeat_status(
    server: RunningServer, admin_browser: Browser
) -> None:
    role = server.client("iam").create_role(RoleName=unique("EdgeRole"), AssumeRolePolicyDocument=SAGEMAKER_TRUST)
    role_arn = role["Role"]["Arn"]
    fleet = unique("fleet")
    _status, page = admin_browser.get("/console/edge/fleets")
    assert f'<option value="{role_arn}"' in page  # the role selector lists the account's roles
    fields = {"fleet_name": fleet, "role_arn": role_arn, "output_location": "s3://edge-bucket/out"}
    status, page = admin_browser.submit("/console/edge/fleets", "/console/edge/fleets", fields)
    assert status == 200 and f"Device fleet {fleet} created." in page
    assert role_arn in page and 'id="registered-count">0' in page

    # SageMaker's own validation, shown in place.
    bad = {"fleet_name": unique("bad"), "output_location": "not-an-s3-uri"}
    status, page = admin_browser.submit("/console/edge/fleets", "/console/edge/fleets", bad)
    assert status == 400 and 'id="create-fleet-error"' in page

    path = f"/console/edge/fleets/{fleet}"
    quiet, beating = unique("quiet"), unique("beating")
    for device in (quiet, beating):
        status, page = admin_browser.submit(path, path, {"action": "register", "device_name": device})
        assert f"Device {device} registered." in page
    server.client("sagemaker-edge").send_heartbeat(AgentVersion="1.2", DeviceName=beating, DeviceFleetName=fleet)

    _status, page = admin_browser.get(path)
    assert 'id="registered-count">2' in page and 'id="connected-count">1' in page
    _status, devices = admin_browser.get("/console/edge/devices")
    status_of = dict(re.findall(r'devices/([\w-]+)">[\w-]+</a>.*?<span class="badge \w+">(\w+)</span>', devices, re.S))
    assert status_of[beating] == "Online" and status_of[quiet] == "Offline"
    status, page = admin_browser.get(f"{path}/devices/{beating}")
    assert status == 200 and "1.2" in page and "Online" in page

    status, page = admin_browser.submit(path, path, {"action": "deregister", "device_name": quiet})
    assert f"Device {quiet} deregistered." in page
    assert server.client("sagemaker").list_devices(DeviceFleetName=fleet)["DeviceSummaries"][0]["DeviceName"] == beating


def test_pages_show_the_denial_to_a_user_without_rights(server: RunningServer) -> None:
    iam = server.client("iam")
    name = unique("viewer")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    time.sleep(0.3)
    viewer = Browser(server.endpoint)
    status, _page = viewer.sign_in_with_key(key["AccessKeyId"], key["SecretAccessKey"])
    assert status == 200
    account = server.client("sts").get_caller_identity()["Account"]
    for path, action in (
        ("/console/iot/things", "iot:ListThings"),
        ("/console/iot/certificates", "iot:ListCertificates"),
        ("/console/edge/fleets", "sagemaker:ListDeviceFleets"),
        ("/console/edge/devices", "sagemaker:ListDevices"),
    ):
        _status, page = viewer.get(path)
        assert f"User: arn:aws:iam::{account}:user/{name} is not authorized to perform: {action}" in text_of(page)
