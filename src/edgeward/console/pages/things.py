"""IoT things: list, and a thing's attributes and attached certificates."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from edgeward.console.deps import ConsoleDeps
from edgeward.console.page import Page
from edgeward.console.pages.common import collect, error_page
from edgeward.console.web import route
from edgeward.core.errors import ServiceError

CERT_ARN_MARK = ":cert/"


def routes(deps: ConsoleDeps) -> list[Route]:
    return [
        route(deps, "/iot/things", things_page),
        route(deps, "/iot/things/{name}", thing_page),
    ]


def things_page(page: Page) -> Response:
    things: list[dict[str, Any]] = []
    try:
        things = collect(
            page.caller, "iot", "ListThings", {}, "things", ("nextToken", "nextToken"), ("maxResults", 250)
        )
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
    return page.render("things.html", title="Things", things=things)


def thing_page(page: Page, name: str) -> Response:
    try:
        thing = page.caller.call("iot", "DescribeThing", {"thingName": name})
    except ServiceError as exc:
        return error_page(page, "Thing", exc)
    principals: list[dict[str, str]] = []
    try:
        arns = collect(
            page.caller,
            "iot",
            "ListThingPrincipals",
            {"thingName": name},
            "principals",
            ("nextToken", "nextToken"),
            ("maxResults", 250),
        )
        principals = [_principal(arn) for arn in arns]
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
    return page.render("thing.html", title=f"Thing {name}", thing=thing, principals=principals)


def _principal(arn: str) -> dict[str, str]:
    """A principal ARN, with its certificate id when it names a certificate (to link to its page)."""
    certificate_id = arn.split(CERT_ARN_MARK, 1)[1] if CERT_ARN_MARK in arn else ""
    return {"arn": arn, "certificate_id": certificate_id}
