"""A device may act only for itself.

Credentials the IoT credentials provider issued carry `credentials-iot:ThingName` in their session context.
On the data plane such a caller must, besides being allowed by IAM, present the IoT thing the device is
registered with (its `IotThingName`): a device's certificate thus speaks for that device and no other, even
when the fleet role's policy allows `sagemaker:SendHeartbeat` on `*`. Callers without the key (people,
services, admin tools) are governed by IAM alone.

Where IAM is silent, a device acting for itself is allowed (the seed's fleet role grants only S3, and its device
still heartbeats); an explicit Deny in the role's policies still refuses it.
"""

from __future__ import annotations

from edgeward.core.errors import ServiceError
from edgeward.services.authorization import authorize_own_device
from edgeward.services.context import Context
from edgeward.services.errors import access_denied
from edgeward.services.sagemaker import errors
from edgeward.storage.repos import sagemaker_devices as device_repo
from edgeward.storage.repos import sagemaker_fleets as fleet_repo
from edgeward.storage.repos.sagemaker_devices import DeviceRecord

THING_NAME_KEY = "credentials-iot:thingname"


def caller_thing(ctx: Context) -> str | None:
    """The IoT thing the caller's credentials were issued for; None for callers that are not devices."""
    for key, value in ctx.principal.session_context.items():
        if key.lower() == THING_NAME_KEY:
            return value
    return None


def own_device(ctx: Context, action: str, resource: str, fleet: str, name: str) -> DeviceRecord:
    """The device, after checking it is registered in `fleet` and that a device caller is that device."""
    device = device_repo.get_device(ctx.conn, ctx.account, ctx.region, name)
    if device is None or device.fleet_name != fleet:
        raise not_registered(ctx, fleet, name)
    thing = caller_thing(ctx)
    if thing is not None and device.iot_thing_name != thing:
        raise other_device(ctx, action, resource, name, thing)
    return device


def is_own_device(ctx: Context, fleet: str, name: str) -> bool:
    """The caller holds device credentials issued for the IoT thing this registered device names."""
    thing = caller_thing(ctx)
    if thing is None:
        return False
    device = device_repo.get_device(ctx.conn, ctx.account, ctx.region, name)
    return device is not None and device.fleet_name == fleet and device.iot_thing_name == thing


def authorize_device_call(ctx: Context, action: str, resource: str, fleet: str, name: str) -> None:
    """IAM, or the device itself (see `authorization.authorize_own_device`)."""
    why = f"allowed: device {name} acting for itself with credentials issued for its IoT thing"
    authorize_own_device(ctx, action, resource, own=lambda: is_own_device(ctx, fleet, name), why=why)


def fleet_exists(ctx: Context, fleet: str) -> bool:
    return fleet_repo.get_fleet(ctx.conn, ctx.account, ctx.region, fleet) is not None


def not_registered(ctx: Context, fleet: str, name: str) -> ServiceError:
    """The fleet's or the device's not-found answer, in SageMaker's words."""
    return errors.no_device(name, fleet) if fleet_exists(ctx, fleet) else errors.no_device_fleet(fleet)


def other_device(ctx: Context, action: str, resource: str, name: str, thing: str) -> ServiceError:
    return access_denied(
        ctx.service,
        f"User: {ctx.principal.arn} is not authorized to perform: {action} on resource: {resource} "
        f"because device {name} is not registered to the IoT thing {thing} these credentials were issued for",
    )
