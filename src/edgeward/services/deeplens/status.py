"""A registration as DescribeDevice/ListDevices show it: registration status and device status.

Registration status, as the DeepLens console words it:
- `Failed` (with a reason) when the device could not get credentials now: the checks of the credentials
  provider, in its order, against what registration made (certificate ACTIVE, thing attached, IoT policy
  allowing the alias, alias present, role present and trusting the provider, lifetime within the role's);
- `Registered` once the device has exchanged its certificate for credentials (the credentials provider
  records the first exchange, see `first_use`);
- `Awaiting credentials` before that.
Device status is `Online` when the device's last heartbeat (SendHeartbeat of its SageMaker device) is at most
`ONLINE_SECONDS` old — three heartbeats of `edgeward-agent run` at its default 20 s — else `Offline`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from edgeward.core import clock
from edgeward.services.context import Context
from edgeward.services.deeplens.roles import CREDENTIALS_SERVICE, trusts
from edgeward.services.iot.policy_eval import effective_iot_documents, iot_allows
from edgeward.storage.repos import iot_certificates, iot_things, role_aliases, roles, sagemaker_devices
from edgeward.storage.repos.deeplens import DeepLensDevice

AWAITING, REGISTERED, FAILED = "Awaiting credentials", "Registered", "Failed"
ONLINE, OFFLINE = "Online", "Offline"
ONLINE_SECONDS = 60


def failure(ctx: Context, device: DeepLensDevice) -> str | None:
    """Why the device cannot get credentials now, or None."""
    cert = iot_certificates.get_account_certificate(ctx.conn, ctx.account, device.certificate_id)
    if cert is None or cert.status != "ACTIVE":
        state = "deleted" if cert is None else cert.status
        return (
            f"The device certificate {device.certificate_id} is {state}: deregister the device and register it again."
        )
    if not iot_things.is_principal_attached(ctx.conn, ctx.account, device.thing_name, device.certificate_arn):
        return f"The device certificate is not attached to the IoT thing {device.thing_name}."
    documents = [p.document for p in effective_iot_documents(ctx.conn, ctx.account, device.certificate_arn, None)]
    variables = {"iot:CertificateId": device.certificate_id}
    if not iot_allows(documents, "iot:AssumeRoleWithCertificate", device.role_alias_arn, variables):
        return (
            f"No IoT policy on the device certificate allows iot:AssumeRoleWithCertificate on {device.role_alias_arn}."
        )
    alias = role_aliases.get_role_alias(ctx.conn, ctx.account, device.role_alias)
    if alias is None:
        return f"The role alias {device.role_alias} no longer exists."
    role = roles.get_role_by_arn(ctx.conn, ctx.account, alias.role_arn)
    if role is None:
        return f"The role {alias.role_arn} of the role alias {alias.alias} does not exist."
    if not trusts(role, CREDENTIALS_SERVICE):
        return f"The role {role.name} does not trust {CREDENTIALS_SERVICE}: add it to the role's trust policy."
    if alias.credential_duration_seconds > role.max_session_duration:
        return f"The role alias {alias.alias} asks for longer credentials than the role {role.name} allows."
    return None


def describe(ctx: Context, device: DeepLensDevice, *, now: datetime | None = None) -> dict[str, Any]:
    """The registration, its statuses and what it is made of (ARNs to follow in IoT, IAM and SageMaker)."""
    reason = failure(ctx, device)
    registration = FAILED if reason else (REGISTERED if device.first_authenticated_at else AWAITING)
    heartbeat = _latest_heartbeat(ctx, device)
    online = heartbeat is not None and (now or clock.now()) - heartbeat <= timedelta(seconds=ONLINE_SECONDS)
    shape: dict[str, Any] = {
        "DeviceName": device.name,
        "DeviceArn": device.arn,
        "RegistrationStatus": registration,
        "DeviceStatus": ONLINE if online else OFFLINE,
        "ThingName": device.thing_name,
        "CertificateId": device.certificate_id,
        "CertificateArn": device.certificate_arn,
        "PolicyName": device.policy_name,
        "RoleAlias": device.role_alias,
        "RoleAliasArn": device.role_alias_arn,
        "DeviceFleetName": device.fleet_name,
        "SageMakerDeviceName": device.sagemaker_device_name,
        "Roles": dict(device.roles),
        "RegisteredAt": device.registered_at,
        "CertificateBundleAvailable": device.private_key_ciphertext is not None,
    }
    optional = {
        "RegistrationStatusReason": reason,
        "CertificateBundleDownloadedAt": device.bundle_downloaded_at,
        "FirstAuthenticatedAt": device.first_authenticated_at,
        "LatestHeartbeat": heartbeat,
    }
    shape.update({key: value for key, value in optional.items() if value is not None})
    return shape


def _latest_heartbeat(ctx: Context, device: DeepLensDevice) -> datetime | None:
    found = sagemaker_devices.get_device(ctx.conn, ctx.account, ctx.region, device.sagemaker_device_name)
    if found is None or found.fleet_name != device.fleet_name:
        return None
    return found.latest_heartbeat
