"""DeepLens devices: the list with registration and device status, one device's page (step 4 of the wizard),
the certificate bundle's one download, and deregistration."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from edgeward.console.deps import ConsoleDeps
from edgeward.console.page import SECURITY_HEADERS, Page
from edgeward.console.pages import deeplens_api as api
from edgeward.console.pages.common import error_page, status_of
from edgeward.console.web import PREFIX, route
from edgeward.core.errors import ServiceError

DEVICES = PREFIX + "/deeplens/devices"
# While a device is not yet Registered and Online its page reloads itself this often (seconds).
REFRESH_SECONDS = 5


def routes(deps: ConsoleDeps) -> list[Route]:
    return [
        route(deps, "/deeplens/devices", devices_page),
        route(deps, "/deeplens/devices/{name}", device_page),
        route(deps, "/deeplens/devices/{name}/certificate", download, methods=("POST",)),
        route(deps, "/deeplens/devices/{name}/deregister", deregister, methods=("POST",)),
    ]


def devices_page(page: Page) -> Response:
    devices: list[api.DeepLensDevice] = []
    try:
        devices = api.list_devices(page.caller)
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
    return page.render("deeplens_devices.html", title="DeepLens devices", devices=devices)


def device_page(page: Page, name: str, status: int = 200) -> Response:
    try:
        device = api.describe(page.caller, name)
    except ServiceError as exc:
        return error_page(page, "DeepLens device", exc)
    if device is None:
        return page.render("error.html", 404, title="DeepLens device", message=f"There is no DeepLens device {name}.")
    ready = device.registration_status == "Registered" and device.device_status == "Online"
    refresh = 0 if ready or device.registration_status == "Failed" else REFRESH_SECONDS
    return page.render("deeplens_device.html", status, title=f"DeepLens device {name}", device=device, refresh=refresh)


def download(page: Page, name: str) -> Response:
    """The bundle as a file download; a refused download (the second one, say) is shown on step 3 with why."""
    try:
        file_name, bundle = api.download_bundle(page.caller, name)
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
        device = _quietly_described(page, name)
        if device is None:
            return error_page(page, "Download certificate", exc)
        return page.render(
            "deeplens_certificate.html",
            status_of(exc),
            title="Register device: download certificate",
            device=device,
        )
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{file_name}"'}
    return Response(bundle, media_type="application/zip", headers=headers)


def deregister(page: Page, name: str) -> Response:
    try:
        api.deregister(page.caller, name)
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
        return device_page(page, name, status_of(exc))
    return page.redirect(DEVICES, f"Device {name} deregistered: its certificate is revoked.")


def _quietly_described(page: Page, name: str) -> api.DeepLensDevice | None:
    try:
        return api.describe(page.caller, name)
    except ServiceError:
        return None
