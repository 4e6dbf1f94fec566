"""One console page request: the form, the signed-in caller, CSRF, rendering and redirects."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from edgeward.console.calls import Caller
from edgeward.console.deps import ConsoleDeps
from edgeward.core.principal import Principal
from edgeward.storage.repos.console_sessions import ConsoleSession

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


class CsrfFailed(Exception):
    """A POST without this session's CSRF token."""


@dataclass
class Page:
    request: Request
    form: dict[str, str]
    deps: ConsoleDeps
    session: ConsoleSession | None = None
    principal: Principal | None = None
    flashes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def caller(self) -> Caller:
        assert self.principal is not None
        client = self.request.client
        return Caller(self.deps, self.principal, client.host if client else "", self.request.url.scheme == "https")

    def field(self, name: str) -> str:
        return self.form.get(name, "").strip()

    def check_csrf(self) -> None:
        expected = self.session.csrf_token if self.session else ""
        if not expected or not hmac.compare_digest(self.form.get("csrf", "").encode(), expected.encode()):
            raise CsrfFailed

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        body = TEMPLATES.get_template(template).render(
            principal=self.principal,
            csrf=self.session.csrf_token if self.session else "",
            account=self.deps.account,
            flashes=self.flashes,
            path=self.request.url.path,
            **values,
        )
        return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)

    def redirect(self, to: str, notice: str = "") -> Response:
        target = f"{to}{'&' if '?' in to else '?'}notice={quote(notice)}" if notice else to
        return RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
