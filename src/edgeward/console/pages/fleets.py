"""SageMaker Edge Manager device fleets: list, create with a role selector, a fleet's description, report and
devices (registering and deregistering them)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from edgeward.console.calls import Caller
from edgeward.console.deps import ConsoleDeps
from edgeward.console.page import Page
from edgeward.console.pages.common import collect, error_page, heartbeat_status, status_of
from edgeward.console.web import PREFIX, route
from edgeward.core.errors import ServiceError

FLEETS = PREFIX + "/edge/fleets"


def routes(deps: ConsoleDeps) -> list[Route]:
    return [
        route(deps, "/edge/fleets", fleets_page, methods=("GET", "POST")),
        route(deps, "/edge/fleets/{name}", fleet_page, methods=("GET", "POST")),
    ]


def list_fleets(caller: Caller) -> list[dict[str, Any]]:
    return collect(
        caller,
        "sagemaker",
        "ListDeviceFleets",
        {},
        "DeviceFleetSummaries",
        ("NextToken", "NextToken"),
        ("MaxResults", 100),
    )


def list_devices(caller: Caller, fleet: str | None = None) -> list[dict[str, Any]]:
    """Devices with their heartbeat status; of one fleet when `fleet` is given (ListDevices filters by
    "name contains", so the exact fleet is picked here)."""
    params = {"DeviceFleetName": fleet} if fleet else {}
    found = collect(
        caller, "sagemaker", "ListDevices", params, "DeviceSummaries", ("NextToken", "NextToken"), ("MaxResults", 100)
    )
    devices = [device for device in found if fleet is None or device.get("DeviceFleetName") == fleet]
    for device in devices:
        device["Status"] = heartbeat_status(device.get("LatestHeartbeat"))
    return devices


def _roles(caller: Caller) -> list[dict[str, Any]]:
    roles: list[dict[str, Any]] = caller.call("iam", "ListRoles", {"MaxItems": 1000}).get("Roles", [])
    return roles


def fleets_page(page: Page) -> Response:
    error = ""
    if page.request.method == "POST":
        name = page.field("fleet_name")
        params = {
            "DeviceFleetName": name,
            "RoleArn": page.field("role_arn") or None,
            "Description": page.field("description") or None,
            "OutputConfig": {"S3OutputLocation": page.field("output_location")},
            "EnableIotRoleAlias": page.field("iot_role_alias") == "on" or None,
        }
        try:
            page.caller.call("sagemaker", "CreateDeviceFleet", params)
            return page.redirect(f"{FLEETS}/{name}", f"Device fleet {name} created.")
        except ServiceError as exc:
            error = exc.message
    fleets: list[dict[str, Any]] = []
    roles: list[dict[str, Any]] = []
    for target, load in ((fleets, list_fleets), (roles, _roles)):
        try:
            target.extend(load(page.caller))
        except ServiceError as exc:
            page.flashes.append(("error", exc.message))
    return page.render(
        "fleets.html",
        400 if error else 200,
        title="Device fleets",
        fleets=fleets,
        roles=roles,
        error=error,
        form=page.form,
    )


def fleet_page(page: Page, name: str) -> Response:
    status = 200
    if page.request.method == "POST":
        done, failure = _fleet_action(page, name)
        if not failure:
            return page.redirect(f"{FLEETS}/{name}", done)
        page.flashes.append(("error", failure.message))
        status = status_of(failure)
    caller = page.caller
    try:
        fleet = caller.call("sagemaker", "DescribeDeviceFleet", {"DeviceFleetName": name})
    except ServiceError as exc:
        return error_page(page, "Device fleet", exc)
    report: dict[str, Any] = {}
    devices: list[dict[str, Any]] = []
    try:
        report = caller.call("sagemaker", "GetDeviceFleetReport", {"DeviceFleetName": name})
        devices = list_devices(caller, name)
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
    return page.render("fleet.html", status, title=f"Device fleet {name}", fleet=fleet, report=report, devices=devices)


def _fleet_action(page: Page, name: str) -> tuple[str, ServiceError | None]:
    """Register or deregister one device of the fleet: (notice, None) or ("", the service's error)."""
    device = page.field("device_name")
    if page.field("action") == "deregister":
        operation = "DeregisterDevices"
        params: dict[str, Any] = {"DeviceFleetName": name, "DeviceNames": [device]}
        done = f"Device {device} deregistered."
    else:
        operation = "RegisterDevices"
        entry = {"DeviceName": device, "IotThingName": page.field("thing_name") or None}
        params = {"DeviceFleetName": name, "Devices": [{k: v for k, v in entry.items() if v}]}
        done = f"Device {device} registered."
    try:
        page.caller.call("sagemaker", operation, params)
    except ServiceError as exc:
        return "", exc
    return done, None
