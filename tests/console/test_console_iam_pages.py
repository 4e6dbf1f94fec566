"""Seed 002 through the console: groups, roles, a managed policy with its JSON editor, and "Why was I denied?"."""

from __future__ import annotations

import html as htmllib
import json
import re

import pytest

from tests.console.browser import Browser
from tests.serverfixtures import RunningServer


@pytest.fixture
def admin(server: RunningServer) -> Browser:
    browser = Browser(server.endpoint)
    status, page = browser.sign_in_with_key(*server.admin_keys())
    assert status == 200, page
    return browser


def text(page: str) -> str:
    return htmllib.unescape(page)


def test_policy_editor_shows_iam_validation_in_place(admin: Browser) -> None:
    status, page = admin.submit(
        "/console/iam/policies", "/console/iam/policies", {"policy_name": "broken", "document": '{"Version": "2012'}
    )
    assert status == 400
    assert 'aria-invalid="true"' in page and "document-error" in page
    assert '{"Version": "2012' in text(page)  # what was typed stays in the editor
    good = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    status, page = admin.submit(
        "/console/iam/policies", "/console/iam/policies", {"policy_name": "edge-s3", "document": good}
    )
    assert status == 200 and "Policy edge-s3 created." in page
    arn = re.search(r"<code>(arn:aws:iam::\d{12}:policy/edge-s3)</code>", page)
    assert arn
    _status, listing = admin.get("/console/iam/policies?scope=AWS")
    assert "AWSDeepLensServiceRolePolicy" in listing


def test_group_with_member_and_policy(admin: Browser) -> None:
    admin.submit("/console/iam/users", "/console/iam/users", {"user_name": "dana"})
    status, page = admin.submit("/console/iam/groups", "/console/iam/groups", {"group_name": "edge-operators"})
    assert status == 200 and "Group edge-operators created." in page
    status, page = admin.submit(
        "/console/iam/groups/edge-operators",
        "/console/iam/groups/edge-operators",
        {"action": "add", "user_name": "dana"},
    )
    assert "User added." in page and "dana" in page
    readonly = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    status, page = admin.submit(
        "/console/iam/groups/edge-operators",
        "/console/iam/groups/edge-operators",
        {"action": "attach", "policy_arn": readonly},
    )
    assert "Policy attached." in page and readonly in page


def test_create_service_role_in_one_step(admin: Browser) -> None:
    fields = {
        "role_name": "AWSDeepLensServiceRole",
        "service": "deeplens.amazonaws.com",
        "policy_arn": "arn:aws:iam::aws:policy/service-role/AWSDeepLensServiceRolePolicy",
    }
    status, page = admin.submit("/console/iam/roles", "/console/iam/roles", fields)
    assert status == 200 and "Role AWSDeepLensServiceRole created." in page
    assert "deeplens.amazonaws.com" in page and "service-role/AWSDeepLensServiceRolePolicy" in page


def test_why_was_i_denied_explains_a_pasted_message(server: RunningServer, admin: Browser) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="mateojackson")
    key = iam.create_access_key(UserName="mateojackson")["AccessKey"]
    mateo = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(mateo.exceptions.ClientError) as denied:
        mateo.list_roles()
    message = denied.value.response["Error"]["Message"]
    status, page = admin.submit("/console/why-denied", "/console/why-denied", {"message": message})
    assert status == 200
    assert 'id="decision" class="decision implicitDeny"' in page
    suggestion = re.search(r'<pre class="code" id="suggestion">(.*?)</pre>', page, re.S)
    assert suggestion and '"iam:ListRoles"' in text(suggestion.group(1))
    status, page = admin.submit("/console/why-denied", "/console/why-denied", {"message": "nothing like a denial"})
    assert status == 400 and "does not look like an AccessDenied message" in page
