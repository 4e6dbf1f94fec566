"""The console's sign-in, sessions, CSRF and IAM user administration, against a real server (seed 002)."""

from __future__ import annotations

import base64
import html as htmllib
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.console.browser import Browser, csrf_of
from tests.serverfixtures import RunningServer


@pytest.fixture
def admin_browser(server: RunningServer) -> Browser:
    browser = Browser(server.endpoint)
    key_id, secret = server.admin_keys()
    status, page = browser.sign_in_with_key(key_id, secret)
    assert status == 200, page
    return browser


def test_sign_in_with_access_key_shows_who_you_are(server: RunningServer, admin_browser: Browser) -> None:
    status, page = admin_browser.get("/console/")
    assert status == 200
    assert "user/admin" in page
    cookie = admin_browser.last_headers
    assert cookie is not None


def test_session_cookie_is_http_only_and_strict(server: RunningServer) -> None:
    browser = Browser(server.endpoint)
    key_id, secret = server.admin_keys()
    _status, html = browser.get("/console/signin")
    token = re.search(r'name="signin_token" value="([^"]+)"', html)
    assert token
    request = urllib.request.Request(
        server.endpoint + "/console/signin",
        data=urllib.parse.urlencode(
            {
                "signin_token": token.group(1),
                "method": "access-key",
                "access_key_id": key_id,
                "secret_access_key": secret,
            }
        ).encode(),
        method="POST",
    )
    for cookie in browser.jar:
        request.add_header("Cookie", f"{cookie.name}={cookie.value}")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(request, timeout=30)
        raise AssertionError("expected a redirect")
    except urllib.error.HTTPError as answer:
        assert answer.code == 303
        set_cookie = [value for name, value in answer.headers.items() if name.lower() == "set-cookie"]
    session = next(value for value in set_cookie if value.startswith("edgeward_console="))
    assert "HttpOnly" in session
    assert "SameSite=strict" in session or "SameSite=Strict" in session
    assert "Path=/console" in session


def test_wrong_credentials_are_refused_without_saying_which_part(server: RunningServer) -> None:
    browser = Browser(server.endpoint)
    status, page = browser.sign_in_with_password("admin", "not-the-password")
    assert status == 401
    assert "Your authentication information is incorrect" in page
    status, page = browser.sign_in_with_key("AKIAIOSFODNN7EXAMPLE", "x" * 40)
    assert status == 401
    status, page = browser.get("/console/iam/users")
    assert "Sign in" in page  # still signed out: sent to the sign-in page


def test_post_without_csrf_token_is_refused(admin_browser: Browser) -> None:
    status, page = admin_browser.post("/console/iam/users", {"user_name": "csrf-victim"})
    assert status == 403
    assert "did not come from this console" in page
    _status, listing = admin_browser.get("/console/iam/users")
    assert "csrf-victim" not in listing


def test_user_lifecycle_password_keys_and_denial(server: RunningServer, admin_browser: Browser) -> None:
    status, page = admin_browser.submit("/console/iam/users", "/console/iam/users", {"user_name": "carol"})
    assert status == 200 and "User carol created." in page
    status, page = admin_browser.submit(
        "/console/iam/users/carol", "/console/iam/users/carol/password", {"password": "Corr3ct-Horse-Battery!"}
    )
    assert status == 200 and "Console password set." in page

    # The secret is shown once, with a CSV download, and never again.
    status, page = admin_browser.submit("/console/iam/users/carol", "/console/iam/users/carol/keys", {})
    assert status == 200
    secret = re.search(r'id="new-secret-access-key">([^<]+)<', page)
    key_id = re.search(r'id="new-access-key-id">([^<]+)<', page)
    assert secret and key_id and len(secret.group(1)) == 40
    csv_href = htmllib.unescape(re.search(r'id="download-csv" href="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    csv = base64.b64decode(csv_href.split(",", 1)[1]).decode()
    assert f"{key_id.group(1)},{secret.group(1)}" in csv
    _status, again = admin_browser.get("/console/iam/users/carol")
    assert secret.group(1) not in again

    # The two-key limit, explained.
    admin_browser.submit("/console/iam/users/carol", "/console/iam/users/carol/keys", {})
    status, page = admin_browser.submit("/console/iam/users/carol", "/console/iam/users/carol/keys", {})
    assert status == 409
    assert "Cannot exceed quota for AccessKeysPerUser: 2" in page
    assert "at most two access keys" in page

    # carol has no policies: the console shows AWS's denial, not a blank page.
    carol = Browser(server.endpoint)
    status, page = carol.sign_in_with_password("carol", "Corr3ct-Horse-Battery!")
    assert status == 200
    status, page = carol.get("/console/iam/users")
    text = htmllib.unescape(page)
    account = server.client("sts").get_caller_identity()["Account"]
    assert f"User: arn:aws:iam::{account}:user/carol is not authorized to perform: iam:ListUsers" in text


def test_sign_out_ends_the_session(server: RunningServer, admin_browser: Browser) -> None:
    _status, page = admin_browser.get("/console/")
    _status, page = admin_browser.post("/console/signout", {"csrf": csrf_of(page)})
    assert "You are signed out." in page
    _status, page = admin_browser.get("/console/iam/users")
    assert "Sign in" in page and "Create user" not in page
