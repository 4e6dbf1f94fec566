"""The console's ASGI application: routes, sessions (cookie → database), CSRF, static files.

Views are plain functions `view(page, **path_params) -> Response`, run on a worker thread (they use the
database). Pages that need a signed-in principal are declared with `signed_in=True`; a POST to any of them
must carry the session's CSRF token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from edgeward.console import identity
from edgeward.console.deps import ConsoleDeps
from edgeward.console.page import SECURITY_HEADERS, CsrfFailed, Page
from edgeward.storage.repos import console_sessions

COOKIE = "edgeward_console"
PREFIX = "/console"
View = Callable[..., Response]
CSRF_FAILED = "This form has expired or did not come from this console. Reload the page and try again."
log = logging.getLogger("edgeward.console")


def route(
    deps: ConsoleDeps, path: str, view: View, *, signed_in: bool = True, methods: tuple[str, ...] = ("GET",)
) -> Route:
    async def endpoint(request: Request) -> Response:
        form: dict[str, str] = {}
        if request.method == "POST":
            data = await request.form(max_files=0, max_fields=200)
            form = {key: value for key, value in data.items() if isinstance(value, str)}
        return await run_in_threadpool(_serve, deps, request, form, view, signed_in)

    return Route(PREFIX + path, endpoint, methods=list(methods))


def _serve(deps: ConsoleDeps, request: Request, form: dict[str, str], view: View, signed_in: bool) -> Response:
    page = Page(request, form, deps)
    notice = request.query_params.get("notice")
    if notice:
        page.flashes.append(("notice", notice[:300]))
    _load_session(page)
    if signed_in and page.principal is None:
        return page.redirect(f"{PREFIX}/signin?next={request.url.path}")
    try:
        if request.method == "POST" and signed_in:
            page.check_csrf()
        return view(page, **request.path_params)
    except CsrfFailed:
        return page.render("error.html", 403, title="Request refused", message=CSRF_FAILED)


def _load_session(page: Page) -> None:
    token = page.request.cookies.get(COOKIE)
    if not token:
        return
    with page.deps.db.read() as conn:
        session = console_sessions.get_session(conn, token)
        principal = identity.principal_of(conn, page.deps.box, session) if session else None
    if session is not None and principal is not None:
        page.session, page.principal = session, principal


def build_app(deps: ConsoleDeps) -> Starlette:
    from edgeward.console.pages import (
        auth,
        certificates,
        deeplens,
        deeplens_devices,
        denied,
        devices,
        fleets,
        groups,
        policies,
        role_aliases,
        roles,
        things,
        users,
    )

    pages = (
        auth,
        users,
        groups,
        roles,
        policies,
        denied,
        fleets,
        devices,
        things,
        certificates,
        role_aliases,
        deeplens,
        deeplens_devices,
    )
    routes: list[Any] = [
        *(view for module in pages for view in module.routes(deps)),
        Mount(PREFIX + "/static", StaticFiles(directory=Path(__file__).with_name("static")), name="static"),
    ]
    app = Starlette(routes=routes)
    return app


def set_session_cookie(response: Response, token: str, secure: bool, max_age: int) -> None:
    response.set_cookie(COOKIE, token, max_age=max_age, path=PREFIX, secure=secure, httponly=True, samesite="strict")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PREFIX)


__all__ = ["SECURITY_HEADERS", "build_app", "route"]
