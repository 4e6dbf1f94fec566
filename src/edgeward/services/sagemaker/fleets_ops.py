"""SageMaker: device fleets — CreateDeviceFleet, UpdateDeviceFleet, DeleteDeviceFleet, DescribeDeviceFleet.

(ListDeviceFleets is in `fleet_listing`, GetDeviceFleetReport in `fleet_report`.)
A fleet's RoleArn is passed to SageMaker, so the caller needs iam:PassRole on it (PassedToService
`sagemaker.amazonaws.com`); a role that does not exist is a ValidationException, as SageMaker answers.
"""

from __future__ import annotations

from typing import Any

from edgeward.core import clock
from edgeward.core.errors import ServiceError
from edgeward.services.authorization import check_pass_role
from edgeward.services.context import Context, Handler
from edgeward.services.sagemaker import errors, fleet_alias, fleet_listing, fleet_report, output_config
from edgeward.services.sagemaker.names import authorize_tagging, fleet_arn, request_tag_keys, tags_from_params
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import sagemaker_fleets as repo
from edgeward.storage.repos.sagemaker_fleets import FleetRecord

SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"


def fleet_shape(fleet: FleetRecord) -> dict[str, Any]:
    """DescribeDeviceFleet's output."""
    shape: dict[str, Any] = {
        "DeviceFleetName": fleet.name,
        "DeviceFleetArn": fleet.arn,
        "OutputConfig": dict(fleet.output_config),
        "CreationTime": fleet.created_at,
        "LastModifiedTime": fleet.last_modified_at,
    }
    for key, value in (
        ("Description", fleet.description),
        ("RoleArn", fleet.role_arn),
        ("IotRoleAlias", fleet.iot_role_alias),
    ):
        if value:
            shape[key] = value
    return shape


def pass_role(ctx: Context, role_arn: str) -> None:
    """iam:PassRole to SageMaker (AWS's denial text); a missing role in SageMaker's words."""
    try:
        check_pass_role(ctx, role_arn, SAGEMAKER_SERVICE)
    except ServiceError as exc:
        if exc.code == "NoSuchEntity":
            raise errors.validation(f"Could not access role {role_arn}: it does not exist.") from None
        raise


def create_device_fleet(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name, role_arn = params["DeviceFleetName"], params.get("RoleArn")
    arn = fleet_arn(ctx, name)
    tags = tags_from_params(params.get("Tags"))
    ctx.authorize("sagemaker:CreateDeviceFleet", arn, request_tag_keys(tags))
    authorize_tagging(ctx, arn, tags)
    if role_arn:
        pass_role(ctx, role_arn)
    config = output_config.checked(params["OutputConfig"])
    make_alias = fleet_alias.wanted(params.get("EnableIotRoleAlias"), role_arn)
    now = clock.now()
    values = {
        "account_id": ctx.account,
        "region": ctx.region,
        "name": name,
        "arn": arn,
        "description": params.get("Description") or None,
        "role_arn": role_arn,
        "output_config": config,
        "iot_role_alias": None,
        "tags": tags,
        "created_at": now,
        "last_modified_at": now,
    }
    try:
        fleet = repo.create_fleet(ctx.conn, values)
    except storage_errors.AlreadyExists:
        raise errors.resource_in_use(f"Device fleet with name {name} already exists.") from None
    if make_alias and role_arn:
        repo.update_fleet(ctx.conn, fleet.id, {"iot_role_alias": fleet_alias.create_alias(ctx, name, role_arn)})
    return {}


def update_device_fleet(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name, role_arn = params["DeviceFleetName"], params.get("RoleArn")
    ctx.authorize("sagemaker:UpdateDeviceFleet", fleet_arn(ctx, name))
    if role_arn:
        pass_role(ctx, role_arn)
    fleet = repo.get_fleet(ctx.conn, ctx.account, ctx.region, name, lock=True)
    if fleet is None:
        raise errors.no_devicefleet(name)
    changes: dict[str, Any] = {"output_config": output_config.checked(params["OutputConfig"])}
    if params.get("Description") is not None:
        changes["description"] = params["Description"] or None
    if role_arn:
        changes["role_arn"] = role_arn
    if fleet.iot_role_alias and role_arn and role_arn != fleet.role_arn:
        fleet_alias.repoint_alias(ctx, name, role_arn)
    elif not fleet.iot_role_alias and params.get("EnableIotRoleAlias"):
        role = role_arn or fleet.role_arn
        if not role:
            raise errors.validation("EnableIotRoleAlias requires a RoleArn: the role alias needs a role to point at.")
        changes["iot_role_alias"] = fleet_alias.create_alias(ctx, name, role)
    changes["last_modified_at"] = clock.now()
    repo.update_fleet(ctx.conn, fleet.id, changes)
    return {}


def delete_device_fleet(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["DeviceFleetName"]
    ctx.authorize("sagemaker:DeleteDeviceFleet", fleet_arn(ctx, name))
    fleet = repo.get_fleet(ctx.conn, ctx.account, ctx.region, name, lock=True)
    if fleet is None:
        raise errors.delete_missing_fleet(name)
    try:
        repo.delete_fleet(ctx.conn, fleet)
    except storage_errors.InUse:
        raise errors.resource_in_use(
            f"Device fleet {name} has registered devices. Deregister them before deleting the fleet."
        ) from None
    except storage_errors.NotFound:
        raise errors.delete_missing_fleet(name) from None
    if fleet.iot_role_alias:
        fleet_alias.delete_alias(ctx, fleet.iot_role_alias)
    return {}


def describe_device_fleet(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["DeviceFleetName"]
    ctx.authorize("sagemaker:DescribeDeviceFleet", fleet_arn(ctx, name))
    fleet = repo.get_fleet(ctx.conn, ctx.account, ctx.region, name)
    if fleet is None:
        raise errors.no_devicefleet(name)
    return fleet_shape(fleet)


OPERATIONS: dict[str, Handler] = {
    "CreateDeviceFleet": create_device_fleet,
    "UpdateDeviceFleet": update_device_fleet,
    "DeleteDeviceFleet": delete_device_fleet,
    "DescribeDeviceFleet": describe_device_fleet,
    "ListDeviceFleets": fleet_listing.list_device_fleets,
    "GetDeviceFleetReport": fleet_report.get_device_fleet_report,
}
