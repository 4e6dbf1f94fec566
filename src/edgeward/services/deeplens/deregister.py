"""DeregisterDevice: revoke the device's certificate and remove what its registration made.

Each step is the IoT or SageMaker operation itself (so authorized as such): the certificate is set REVOKED
(kept, revoked, so the certificates list shows what happened to it; the credentials provider refuses it from
the commit on), detached from its policy and thing; the policy, the role alias, the thing and the SageMaker
device are deleted. Something an administrator removed by hand already is skipped, not an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgeward.services.context import Context
from edgeward.services.deeplens import errors, names
from edgeward.services.iot import (
    certificates_manage,
    policies_ops,
    policies_targets,
    role_aliases_ops,
    things,
    things_principals,
)
from edgeward.services.sagemaker import devices_ops
from edgeward.storage.repos import deeplens as repo
from edgeward.storage.repos import iot_certificates, iot_policies, iot_things, role_aliases, sagemaker_devices
from edgeward.storage.repos.deeplens import DeepLensDevice


def deregister_device(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = names.device_name(params)
    ctx.authorize("deeplens:DeregisterDevice", names.device_arn(ctx, name))
    device = repo.get_device(ctx.conn, ctx.account, ctx.region, name, lock=True)
    if device is None:
        raise errors.no_device(name)
    for step in _steps(ctx, device):
        step()
    repo.delete_device(ctx.conn, device.id)
    return {"DeviceName": name, "CertificateId": device.certificate_id, "CertificateStatus": "REVOKED"}


def _steps(ctx: Context, device: DeepLensDevice) -> list[Callable[[], object]]:
    """The undo of registration, each step only when what it removes is still there."""
    cert, thing, policy = device.certificate_arn, device.thing_name, device.policy_name
    steps: list[Callable[[], object]] = []
    record = iot_certificates.get_account_certificate(ctx.conn, ctx.account, device.certificate_id)
    if record is not None:
        revoke = {"certificateId": device.certificate_id, "newStatus": "REVOKED"}
        steps.append(lambda: certificates_manage.update_certificate(ctx, revoke))
        if iot_things.is_principal_attached(ctx.conn, ctx.account, thing, cert):
            detach = {"thingName": thing, "principal": cert}
            steps.append(lambda: things_principals.detach_thing_principal(ctx, detach))
    found = iot_policies.get_policy(ctx.conn, ctx.account, policy)
    if found is not None:
        if record is not None:
            detach_policy = {"policyName": policy, "target": cert}
            steps.append(lambda: policies_targets.detach_policy(ctx, detach_policy))
        steps.append(lambda: policies_ops.delete_policy(ctx, {"policyName": policy}))
    if role_aliases.get_role_alias(ctx.conn, ctx.account, device.role_alias) is not None:
        steps.append(lambda: role_aliases_ops.delete_role_alias(ctx, {"roleAlias": device.role_alias}))
    steps.append(lambda: things.delete_thing(ctx, {"thingName": thing}))  # a missing thing is fine in IoT
    member = sagemaker_devices.get_device(ctx.conn, ctx.account, ctx.region, device.sagemaker_device_name)
    if member is not None and member.fleet_name == device.fleet_name:
        remove = {"DeviceFleetName": device.fleet_name, "DeviceNames": [device.sagemaker_device_name]}
        steps.append(lambda: devices_ops.deregister_devices(ctx, remove))
    return steps
