"""IoT certificates: list, a certificate's description and things, and activate / deactivate / revoke
(UpdateCertificate: a revoked certificate stays revoked and is refused by the credentials provider at once)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from edgeward.console.deps import ConsoleDeps
from edgeward.console.page import Page
from edgeward.console.pages.common import collect, error_page, status_of
from edgeward.console.web import PREFIX, route
from edgeward.core.errors import ServiceError

CERTIFICATES = PREFIX + "/iot/certificates"
# The statuses a person sets from the console, and what the notice says afterwards.
ACTIONS = {
    "activate": ("ACTIVE", "activated"),
    "deactivate": ("INACTIVE", "deactivated"),
    "revoke": ("REVOKED", "revoked"),
}


def routes(deps: ConsoleDeps) -> list[Route]:
    return [
        route(deps, "/iot/certificates", certificates_page),
        route(deps, "/iot/certificates/{certificate_id}", certificate_page, methods=("GET", "POST")),
    ]


def certificates_page(page: Page) -> Response:
    certificates: list[dict[str, Any]] = []
    try:
        certificates = collect(
            page.caller, "iot", "ListCertificates", {}, "certificates", ("marker", "nextMarker"), ("pageSize", 250)
        )
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
    return page.render("certificates.html", title="Certificates", certificates=certificates)


def certificate_page(page: Page, certificate_id: str) -> Response:
    status = 200
    if page.request.method == "POST":
        new_status, done = ACTIONS.get(page.field("action"), ("", ""))
        try:
            if not new_status:
                raise ServiceError("InvalidRequestException", "Choose activate, deactivate or revoke.", 400)
            page.caller.call("iot", "UpdateCertificate", {"certificateId": certificate_id, "newStatus": new_status})
            return page.redirect(f"{CERTIFICATES}/{certificate_id}", f"Certificate {done}.")
        except ServiceError as exc:
            page.flashes.append(("error", exc.message))
            status = status_of(exc)
    try:
        answer = page.caller.call("iot", "DescribeCertificate", {"certificateId": certificate_id})
    except ServiceError as exc:
        return error_page(page, "Certificate", exc)
    certificate = answer["certificateDescription"]
    things: list[str] = []
    try:
        things = collect(
            page.caller,
            "iot",
            "ListPrincipalThings",
            {"principal": certificate["certificateArn"]},
            "things",
            ("nextToken", "nextToken"),
            ("maxResults", 250),
        )
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
    return page.render(
        "certificate.html", status, title=f"Certificate {certificate_id[:12]}…", certificate=certificate, things=things
    )
