"""The DeepLens registration operations as the console uses them (service "deeplens", edgeward's own API),
their answers normalised into what the pages show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgeward.console.calls import Caller
from edgeward.console.pages.common import heartbeat_status
from edgeward.core.errors import ServiceError

SERVICE = "deeplens"
NOT_FOUND = ("ResourceNotFoundException", "NotFoundException", "NoSuchEntity")


def call(caller: Caller, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    return caller.call(SERVICE, operation, params)


@dataclass(frozen=True)
class DeepLensDevice:
    name: str
    registration_status: str  # Awaiting credentials | Registered | Failed
    device_status: str  # Online | Offline
    thing_name: str
    certificate_id: str
    fleet_name: str
    device_arn: str
    registered_at: datetime | None
    latest_heartbeat: datetime | None
    failure_reason: str
    bundle_available: bool


def describe(caller: Caller, name: str) -> DeepLensDevice | None:
    """The registration of `name`; None when there is none (other errors, a denial included, are raised)."""
    try:
        answer = call(caller, "DescribeDevice", {"DeviceName": name})
    except ServiceError as exc:
        if exc.code in NOT_FOUND:
            return None
        raise
    return _device(answer.get("Device", answer))


def list_devices(caller: Caller) -> list[DeepLensDevice]:
    found: list[DeepLensDevice] = []
    params: dict[str, Any] = {}
    while True:
        answer = call(caller, "ListDevices", params)
        found.extend(_device(item) for item in answer.get("Devices", []))
        token = answer.get("NextToken")
        if not token or len(found) >= 1000:
            return found
        params = {"NextToken": token}


def register(caller: Caller, name: str, roles: dict[str, str]) -> None:
    """Register `name` with the chosen roles (kind -> role ARN)."""
    call(caller, "RegisterDevice", {"DeviceName": name, "Roles": roles})


def download_bundle(caller: Caller, name: str) -> tuple[str, bytes]:
    """(file name, the device's certificate bundle .zip), once: the server erases the private key as it hands
    the bundle out."""
    answer = call(caller, "DownloadCertificateBundle", {"DeviceName": name})
    body = answer.get("Bundle", b"")
    return str(answer.get("FileName") or f"{name}-certificates.zip"), body if isinstance(body, bytes) else bytes(body)


def deregister(caller: Caller, name: str) -> None:
    call(caller, "DeregisterDevice", {"DeviceName": name})


def _device(item: dict[str, Any]) -> DeepLensDevice:
    heartbeat = item.get("LatestHeartbeat")
    return DeepLensDevice(
        name=str(item.get("DeviceName", "")),
        registration_status=str(item.get("RegistrationStatus", "")),
        device_status=str(item.get("DeviceStatus") or heartbeat_status(heartbeat)),
        thing_name=str(item.get("ThingName", "")),
        certificate_id=str(item.get("CertificateId", "")),
        fleet_name=str(item.get("DeviceFleetName", "")),
        device_arn=str(item.get("DeviceArn", "")),
        registered_at=item.get("RegisteredAt"),
        latest_heartbeat=heartbeat,
        failure_reason=str(item.get("RegistrationStatusReason", "")),
        bundle_available=bool(item.get("CertificateBundleAvailable", False)),
    )
