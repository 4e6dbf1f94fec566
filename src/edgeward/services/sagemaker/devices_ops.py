"""SageMaker: devices — RegisterDevices, UpdateDevices, DeregisterDevices, DescribeDevice, ListDevices.

Decisions where AWS publishes nothing:
- At most `MAX_DEVICES_PER_CALL` devices per RegisterDevices/UpdateDevices/DeregisterDevices call; register
  larger fleets in batches. A batch applies entirely or not at all.
- A device name is unique in the account's region: registering a name that any fleet holds is refused.
- `IotThingName` is checked against the model's pattern only; the thing need not exist yet (AWS does not
  require it either, and tools create things and devices in either order). What protects a device is the
  data plane's identity check: only credentials for that IoT thing may act as the device.
- Deregistering deletes the device; it must be registered again to be used (RegistrationTime restarts).
Batch operations are authorized on the fleet ARN, DescribeDevice on the device ARN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edgeward.core import clock
from edgeward.services.context import Context, Handler
from edgeward.services.sagemaker import device_shapes, errors, paging
from edgeward.services.sagemaker.names import authorize_tagging, device_arn, fleet_arn, tags_from_params
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import sagemaker_devices as repo
from edgeward.storage.repos import sagemaker_fleets as fleet_repo
from edgeward.storage.repos.sagemaker_devices import DeviceFilter, DeviceInput
from edgeward.storage.repos.sagemaker_fleets import FleetRecord

MAX_DEVICES_PER_CALL = 100


def _fleet(ctx: Context, name: str) -> FleetRecord:
    fleet = fleet_repo.get_fleet(ctx.conn, ctx.account, ctx.region, name)
    if fleet is None:
        raise errors.no_device_fleet(name)
    return fleet


def _batch(values: Sequence[Any], member: str) -> None:
    if not values:
        raise errors.empty_list(member)
    if len(values) > MAX_DEVICES_PER_CALL:
        raise errors.list_length(f"[{len(values)} items]", member, MAX_DEVICES_PER_CALL)


def _unique(names: Sequence[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise errors.validation(f"Device with name {name} appears more than once in the request.")
        seen.add(name)


def _inputs(params: dict[str, Any]) -> list[DeviceInput]:
    devices = params["Devices"]
    _batch(devices, "devices")
    inputs = [DeviceInput(d["DeviceName"], d.get("Description"), d.get("IotThingName")) for d in devices]
    _unique([device.name for device in inputs])
    return inputs


def register_devices(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    fleet_name = params["DeviceFleetName"]
    arn = fleet_arn(ctx, fleet_name)
    tags = tags_from_params(params.get("Tags"))
    ctx.authorize("sagemaker:RegisterDevices", arn)
    authorize_tagging(ctx, arn, tags)
    batch = _inputs(params)
    fleet = _fleet(ctx, fleet_name)
    # The unique key is the guard; this read only names the offending device in the common case.
    taken = repo.registered_fleets(ctx.conn, ctx.account, ctx.region, [device.name for device in batch])
    for device in batch:
        if device.name in taken:
            raise errors.validation(
                f"Device with name {device.name} is already registered in device fleet {taken[device.name]}."
            )
    try:
        repo.register_devices(ctx.conn, ctx.account, ctx.region, fleet.id, batch, tags, clock.now())
    except storage_errors.AlreadyExists:
        raise errors.validation("A device of this request was registered meanwhile; nothing was registered.") from None
    except storage_errors.NotFound:
        raise errors.no_device_fleet(fleet_name) from None
    return {}


def update_devices(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    fleet_name = params["DeviceFleetName"]
    ctx.authorize("sagemaker:UpdateDevices", fleet_arn(ctx, fleet_name))
    batch = _inputs(params)
    fleet = _fleet(ctx, fleet_name)
    _require_members(ctx, fleet, [device.name for device in batch])
    repo.update_devices(ctx.conn, fleet.id, batch)
    return {}


def deregister_devices(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    fleet_name, names = params["DeviceFleetName"], list(dict.fromkeys(params["DeviceNames"]))
    ctx.authorize("sagemaker:DeregisterDevices", fleet_arn(ctx, fleet_name))
    _batch(names, "deviceNames")
    fleet = _fleet(ctx, fleet_name)
    _require_members(ctx, fleet, names)
    repo.deregister_devices(ctx.conn, fleet.id, names)
    return {}


def _require_members(ctx: Context, fleet: FleetRecord, names: Sequence[str]) -> None:
    """Every name must be registered in the fleet; their rows stay locked until the request commits."""
    members = repo.fleet_members(ctx.conn, fleet.id, names, lock=True)
    for name in names:
        if name not in members:
            raise errors.device_not_in_fleet(name, fleet.name)


def describe_device(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    fleet_name, name = params["DeviceFleetName"], params["DeviceName"]
    ctx.authorize("sagemaker:DescribeDevice", device_arn(ctx, fleet_name, name))
    device = repo.get_device(ctx.conn, ctx.account, ctx.region, name)
    if device is None or device.fleet_name != fleet_name:
        _fleet(ctx, fleet_name)
        raise errors.no_device(name, fleet_name)
    return device_shapes.description(ctx, device)


def list_devices(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("sagemaker:ListDevices", "*")
    token = paging.decode(params.get("NextToken"))
    after = token.get("n") if token else None
    if token is not None and not isinstance(after, str):
        raise errors.validation("The NextToken is not valid. Use the NextToken of the previous page.")
    where = DeviceFilter(
        fleet_name_contains=params.get("DeviceFleetName") or None,
        model_name_contains=params.get("ModelName") or None,
        heartbeat_after=params.get("LatestHeartbeatAfter"),
    )
    devices, last = repo.list_devices(
        ctx.conn, ctx.account, ctx.region, where, after=after, limit=paging.max_results(params)
    )
    output: dict[str, Any] = {"DeviceSummaries": [device_shapes.summary(ctx, device) for device in devices]}
    if last is not None:
        output["NextToken"] = paging.encode({"n": last})
    return output


OPERATIONS: dict[str, Handler] = {
    "RegisterDevices": register_devices,
    "UpdateDevices": update_devices,
    "DeregisterDevices": deregister_devices,
    "DescribeDevice": describe_device,
    "ListDevices": list_devices,
}
