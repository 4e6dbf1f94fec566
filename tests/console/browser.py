"""A minimal cookie-keeping HTTP client for console tests without a browser (the Playwright tests drive
Chromium; these check the server's answers, cookies and CSRF handling directly)."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from typing import Any


class Browser:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.last_headers: Any = None

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        data = urllib.parse.urlencode(fields).encode()
        return self._open(urllib.request.Request(self.base + path, data=data, method="POST"))

    def submit(self, page_path: str, form_action: str, fields: dict[str, str]) -> tuple[int, str]:
        """POST like a person would: from the page, with the CSRF token the page carries."""
        _status, html = self.get(page_path)
        return self.post(form_action, {"csrf": csrf_of(html), **fields})

    def sign_in_with_key(self, key_id: str, secret: str) -> tuple[int, str]:
        return self._sign_in({"method": "access-key", "access_key_id": key_id, "secret_access_key": secret})

    def sign_in_with_password(self, user: str, password: str) -> tuple[int, str]:
        return self._sign_in({"method": "password", "user_name": user, "password": password})

    def _sign_in(self, fields: dict[str, str]) -> tuple[int, str]:
        _status, html = self.get("/console/signin")
        token = re.search(r'name="signin_token" value="([^"]+)"', html)
        assert token, html
        return self.post("/console/signin", {"signin_token": token.group(1), "next": "/console/", **fields})

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                self.last_headers = response.headers
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            self.last_headers = error.headers
            return error.code, error.read().decode()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)
