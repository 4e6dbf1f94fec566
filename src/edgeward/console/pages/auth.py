"""Sign-in (user name + password, or access key + secret), sign-out, and the home page."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from edgeward.console import identity
from edgeward.console.deps import ConsoleDeps
from edgeward.console.page import Page
from edgeward.console.web import PREFIX, clear_session_cookie, route, set_session_cookie
from edgeward.core.errors import ServiceError
from edgeward.storage.repos import console_sessions

SIGNIN_COOKIE = "edgeward_signin"  # double-submit token: a sign-in form only counts when posted from this console


def routes(deps: ConsoleDeps) -> list[Route]:
    return [
        route(deps, "/signin", signin, signed_in=False, methods=("GET", "POST")),
        route(deps, "/signout", signout, methods=("POST",)),
        route(deps, "/", home),
        route(deps, "", home),
    ]


def signin(page: Page) -> Response:
    if page.request.method == "GET":
        return _signin_form(page)
    token = page.request.cookies.get(SIGNIN_COOKIE, "")
    if not token or not hmac.compare_digest(token.encode(), page.field("signin_token").encode()):
        return _signin_form(page, error="The sign-in form expired. Please try again.")
    try:
        user_id, key_id = _authenticate(page)
    except identity.SignInFailed as failed:
        return _signin_form(page, error=str(failed), status=401)
    with page.deps.db.transaction() as conn:
        token, _session = console_sessions.create_session(
            conn, page.deps.account, user_id, key_id, page.deps.session_lifetime
        )
    response = page.redirect(_safe_next(page.field("next")))
    set_session_cookie(
        response, token, page.request.url.scheme == "https", int(page.deps.session_lifetime.total_seconds())
    )
    response.delete_cookie(SIGNIN_COOKIE, path=PREFIX)
    return response


def _authenticate(page: Page) -> tuple[int | None, str | None]:
    deps = page.deps
    with deps.db.read() as conn:
        if page.field("method") == "access-key":
            return identity.with_access_key(
                conn, deps.box, deps.account, page.field("access_key_id"), page.form.get("secret_access_key", "")
            )
        user = identity.with_password(conn, deps.account, page.field("user_name"), page.form.get("password", ""))
        return user.id, None


def _signin_form(page: Page, *, error: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    values: dict[str, Any] = {
        "error": error,
        "signin_token": token,
        "next": _safe_next(page.request.query_params.get("next") or page.field("next")),
        "method": page.field("method") or "password",
        "user_name": page.field("user_name"),
    }
    response = page.render("signin.html", status, title="Sign in", **values)
    response.set_cookie(
        SIGNIN_COOKIE,
        token,
        max_age=1800,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=page.request.url.scheme == "https",
    )
    return response


def _safe_next(target: str) -> str:
    """Only paths inside the console: never an open redirect."""
    if target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX + "/"


def signout(page: Page) -> Response:
    token = page.request.cookies.get("edgeward_console")
    if token:
        with page.deps.db.transaction() as conn:
            console_sessions.delete_session(conn, token)
    response = page.redirect(PREFIX + "/signin", "You are signed out.")
    clear_session_cookie(response)
    return response


def home(page: Page) -> Response:
    identity_text: dict[str, Any] = {}
    try:
        identity_text = page.caller.call("sts", "GetCallerIdentity")
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
    return page.render("home.html", title="Home", caller_identity=identity_text)
