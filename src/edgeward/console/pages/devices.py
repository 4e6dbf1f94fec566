"""SageMaker Edge Manager devices across fleets, with their heartbeat status; one device's description."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from edgeward.console.deps import ConsoleDeps
from edgeward.console.page import Page
from edgeward.console.pages.common import error_page, heartbeat_status
from edgeward.console.pages.fleets import list_devices
from edgeward.console.web import route
from edgeward.core.errors import ServiceError


def routes(deps: ConsoleDeps) -> list[Route]:
    return [
        route(deps, "/edge/devices", devices_page),
        route(deps, "/edge/fleets/{fleet}/devices/{name}", device_page),
    ]


def devices_page(page: Page) -> Response:
    devices: list[dict[str, Any]] = []
    try:
        devices = list_devices(page.caller)
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
    online = sum(1 for device in devices if device["Status"] == "Online")
    return page.render("devices.html", title="Edge devices", devices=devices, online=online)


def device_page(page: Page, fleet: str, name: str) -> Response:
    try:
        device = page.caller.call("sagemaker", "DescribeDevice", {"DeviceFleetName": fleet, "DeviceName": name})
    except ServiceError as exc:
        return error_page(page, "Edge device", exc)
    device["Status"] = heartbeat_status(device.get("LatestHeartbeat"))
    return page.render("device.html", title=f"Device {name}", device=device)
