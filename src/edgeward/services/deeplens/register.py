"""RegisterDevice: everything a DeepLens device needs, made in the request's one transaction.

In order: the `deeplens` thing type (the first time), the IoT thing named after the device, an RSA key pair
and a certificate from edgeward's CA (CreateKeysAndCertificate, key from the pre-generated pool), the role
alias `DeepLens-<name>` for the credentials role, the IoT policy `DeepLens-<name>-policy` allowing
`iot:AssumeRoleWithCertificate` on that alias only, both attached to the certificate (the thing exclusively),
and a SageMaker device in the `deeplens` fleet naming the thing. Each step is the IoT or SageMaker operation
itself, so the caller is authorized for each exactly as if it had made the call. The private key is sealed
(associated data naming the device and certificate) until its one download.
"""

from __future__ import annotations

import json
from typing import Any

from edgeward.core import clock
from edgeward.core.errors import ServiceError
from edgeward.services.context import Context
from edgeward.services.deeplens import errors, names, roles, status
from edgeward.services.deeplens.fleet import ensure_fleet
from edgeward.services.iot import (
    certificates_create,
    policies_ops,
    policies_targets,
    role_aliases_ops,
    thing_types,
    things,
    things_principals,
)
from edgeward.services.iot.role_aliases import DEFAULT_DURATION
from edgeward.services.sagemaker import devices_ops
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import deeplens as repo
from edgeward.storage.repos import iot_thing_types, iot_things
from edgeward.storage.repos.deeplens import key_context


def register_device(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = names.device_name(params)
    arn = names.device_arn(ctx, name)
    ctx.authorize("deeplens:RegisterDevice", arn)
    chosen = roles.chosen_roles(ctx, params)
    _require_free(ctx, name)
    try:
        return _register(ctx, name, arn, chosen)
    except ServiceError as exc:
        # A concurrent registration of the same name got there first (its thing, alias or row): say so.
        if exc.code == "ResourceAlreadyExistsException" and repo.get_device(ctx.conn, ctx.account, ctx.region, name):
            raise _taken(name) from None
        raise


def _register(ctx: Context, name: str, arn: str, chosen: dict[str, str]) -> dict[str, Any]:
    _ensure_thing_type(ctx)
    thing = things.create_thing(ctx, {"thingName": name, "thingTypeName": names.THING_TYPE})
    created = certificates_create.create_keys_and_certificate(ctx, {"setAsActive": True})
    alias = role_aliases_ops.create_role_alias(
        ctx,
        {
            "roleAlias": names.role_alias(name),
            "roleArn": chosen[roles.CREDENTIALS_ROLE_KIND],
            "credentialDurationSeconds": DEFAULT_DURATION,
        },
    )
    policy = names.policy_name(name)
    policies_ops.create_policy(ctx, {"policyName": policy, "policyDocument": device_policy(alias["roleAliasArn"])})
    cert_arn = created["certificateArn"]
    policies_targets.attach_policy(ctx, {"policyName": policy, "target": cert_arn})
    things_principals.attach_thing_principal(
        ctx, {"thingName": name, "principal": cert_arn, "thingPrincipalType": things_principals.EXCLUSIVE}
    )
    sagemaker_name = names.sagemaker_device_name(name)
    ensure_fleet(ctx)
    devices_ops.register_devices(
        ctx,
        {
            "DeviceFleetName": names.FLEET,
            "Devices": [{"DeviceName": sagemaker_name, "IotThingName": name, "Description": f"DeepLens {name}"}],
        },
    )
    certificate_id = created["certificateId"]
    sealed = ctx.secrets.encrypt(
        created["keyPair"]["PrivateKey"].encode(), key_context(ctx.account, ctx.region, name, certificate_id)
    )
    values = {
        "account_id": ctx.account,
        "region": ctx.region,
        "name": name,
        "arn": arn,
        "thing_name": thing["thingName"],
        "certificate_id": certificate_id,
        "certificate_arn": cert_arn,
        "policy_name": policy,
        "role_alias": alias["roleAlias"],
        "role_alias_arn": alias["roleAliasArn"],
        "fleet_name": names.FLEET,
        "sagemaker_device_name": sagemaker_name,
        "roles": chosen,
        "private_key_ciphertext": sealed,
        "registered_at": clock.now(),
        "bundle_downloaded_at": None,
        "first_authenticated_at": None,
    }
    try:
        device = repo.insert_device(ctx.conn, values)
    except storage_errors.AlreadyExists:
        raise _taken(name) from None
    return status.describe(ctx, device)


def device_policy(alias_arn: str) -> str:
    """The IoT policy on the device certificate: credentials for its own role alias, nothing else."""
    statement = {"Effect": "Allow", "Action": "iot:AssumeRoleWithCertificate", "Resource": alias_arn}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _require_free(ctx: Context, name: str) -> None:
    """A clear refusal before any work; the unique key still decides between concurrent registrations."""
    if repo.get_device(ctx.conn, ctx.account, ctx.region, name) is not None:
        raise _taken(name)
    if iot_things.get_thing(ctx.conn, ctx.account, name) is not None:
        raise errors.already_exists(
            f"An IoT thing named {name} exists already: choose another device name, or delete that thing."
        )


def _taken(name: str) -> ServiceError:
    return errors.already_exists(
        f"Device {name} is already registered. Choose another name, or deregister {name} first: registering "
        "again issues a new certificate."
    )


def _ensure_thing_type(ctx: Context) -> None:
    """The `deeplens` thing type, created (iot:CreateThingType) by the first registration that needs it."""
    found = iot_thing_types.get_thing_type(ctx.conn, ctx.account, names.THING_TYPE)
    if found is not None and not found.deprecated:
        return
    if found is not None:
        raise errors.validation(
            f"The IoT thing type {names.THING_TYPE} is deprecated, so no device can be registered: undeprecate it."
        )
    thing_types.create_thing_type(
        ctx,
        {
            "thingTypeName": names.THING_TYPE,
            "thingTypeProperties": {"thingTypeDescription": "DeepLens devices registered through edgeward"},
        },
    )
