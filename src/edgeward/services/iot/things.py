"""IoT things: CreateThing, DescribeThing, UpdateThing, DeleteThing, ListThings.

As in IoT: CreateThing with the name and configuration of an existing thing answers with that thing, with
another configuration it is ResourceAlreadyExists; DeleteThing of a missing thing succeeds, of a thing with
principals attached it is refused; every change bumps the thing's version, which `expectedVersion` checks.
"""

from __future__ import annotations

import uuid
from typing import Any

from edgeward.core.errors import ServiceError
from edgeward.services.context import Context
from edgeward.services.iot import errors
from edgeward.services.iot.paging import page_args, page_output
from edgeward.services.iot.things_payload import apply_payload, check_attribute_count, payload_attributes
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import iot_thing_types as type_repo
from edgeward.storage.repos import iot_things as repo
from edgeward.storage.repos.iot_thing_types import ThingTypeRecord
from edgeward.storage.repos.iot_things import ThingFilter, ThingRecord


def thing_arn(ctx: Context, name: str) -> str:
    return ctx.arn("iot", f"thing/{name}")


def thing_not_found(name: str) -> ServiceError:
    return errors.not_found(f"Thing {name} cannot be found.")


def lookup_thing(ctx: Context, action: str, name: str, *, lock: bool = False) -> ThingRecord | None:
    """The thing (or None), after authorizing `action` on it, so a caller without permission learns nothing."""
    thing = repo.get_thing(ctx.conn, ctx.account, name, lock=lock)
    ctx.authorize(action, thing.arn if thing else thing_arn(ctx, name))
    return thing


def require_thing(ctx: Context, action: str, name: str, *, lock: bool = False) -> ThingRecord:
    thing = lookup_thing(ctx, action, name, lock=lock)
    if thing is None:
        raise thing_not_found(name)
    return thing


def usable_thing_type(ctx: Context, name: str) -> ThingTypeRecord:
    """A thing type new things may use: it exists and is not deprecated."""
    thing_type = type_repo.get_thing_type(ctx.conn, ctx.account, name)
    if thing_type is None:
        raise errors.not_found(f"Thing type {name} cannot be found.")
    if thing_type.deprecated:
        raise errors.invalid_request(f"Can not create new thing with deprecated thing type : {name}")
    return thing_type


def create_thing(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["thingName"]
    ctx.authorize("iot:CreateThing", thing_arn(ctx, name))
    if params.get("billingGroupName"):
        # edgeward has no billing groups, so none can be named.
        raise errors.not_found(f"Billing group {params['billingGroupName']} cannot be found.")
    type_name = params.get("thingTypeName")
    thing_type = usable_thing_type(ctx, type_name) if type_name else None
    attributes = {
        key: value for key, value in (payload_attributes(params.get("attributePayload")) or {}).items() if value
    }
    check_attribute_count(attributes, typed=thing_type is not None)
    try:
        repo.create_thing(
            ctx.conn,
            ctx.account,
            name,
            thing_id=str(uuid.uuid4()),
            arn=thing_arn(ctx, name),
            type_id=thing_type.id if thing_type else None,
            attributes=attributes,
        )
    except storage_errors.NotFound:
        raise errors.not_found(f"Thing type {type_name} cannot be found.") from None
    except storage_errors.AlreadyExists:
        pass  # the same thing again is fine; a different one is refused just below
    thing = repo.get_thing(ctx.conn, ctx.account, name)
    if thing is None or thing.thing_type_name != type_name or dict(thing.attributes) != attributes:
        raise errors.already_exists(
            f"Thing {name} already exists in account with different attributes",
            resource_id=thing.thing_id if thing else "",
            resource_arn=thing.arn if thing else "",
        )
    return {"thingName": thing.name, "thingArn": thing.arn, "thingId": thing.thing_id}


def describe_thing(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    thing = require_thing(ctx, "iot:DescribeThing", params["thingName"])
    shape = {
        "defaultClientId": thing.name,
        "thingName": thing.name,
        "thingId": thing.thing_id,
        "thingArn": thing.arn,
        "attributes": dict(thing.attributes),
        "version": thing.version,
    }
    if thing.thing_type_name:
        shape["thingTypeName"] = thing.thing_type_name
    return shape


def update_thing(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["thingName"]
    thing = require_thing(ctx, "iot:UpdateThing", name, lock=True)
    _check_version(thing, params.get("expectedVersion"))
    type_id = _type_after_update(ctx, thing, params)
    payload = params.get("attributePayload")
    attributes = apply_payload(thing.attributes, payload)
    check_attribute_count(attributes, typed=type_id is not None)
    changed = attributes if payload_attributes(payload) is not None else None
    try:
        repo.update_thing(ctx.conn, thing, type_id=type_id, attributes=changed)
    except storage_errors.NotFound:
        raise errors.not_found(f"Thing type {params.get('thingTypeName')} cannot be found.") from None
    return {}


def _type_after_update(ctx: Context, thing: ThingRecord, params: dict[str, Any]) -> int | None:
    """The thing type's row id after UpdateThing: removed, changed, or kept."""
    new_name = params.get("thingTypeName")
    if params.get("removeThingType"):
        if new_name:
            raise errors.invalid_request("Cannot specify both a thing type name and removeThingType.")
        return None
    if new_name:
        return usable_thing_type(ctx, new_name).id
    if thing.thing_type_name is None:
        return None
    current = type_repo.get_thing_type(ctx.conn, ctx.account, thing.thing_type_name)
    return current.id if current else None


def _check_version(thing: ThingRecord, expected: int | None) -> None:
    if expected is not None and expected != thing.version:
        raise errors.version_conflict(f"The version for thing {thing.name} does not match the expected version.")


def delete_thing(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["thingName"]
    thing = lookup_thing(ctx, "iot:DeleteThing", name, lock=True)
    if thing is None:
        return {}  # IoT: deleting a thing that does not exist succeeds
    _check_version(thing, params.get("expectedVersion"))
    try:
        repo.delete_thing(ctx.conn, thing)
    except storage_errors.InUse:
        raise errors.invalid_request(
            f"Cannot delete. Thing {name} is still attached to one or more principals"
        ) from None
    return {}


def list_things(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:ListThings", "*")
    if params.get("attributeValue") is not None and not params.get("attributeName"):
        raise errors.invalid_request("attributeValue can only be used together with attributeName.")
    where = ThingFilter(
        attribute_name=params.get("attributeName"),
        attribute_value=params.get("attributeValue"),
        value_is_prefix=bool(params.get("usePrefixAttributeValue")),
        thing_type_name=params.get("thingTypeName"),
    )
    after, limit = page_args(params)
    things, next_key = repo.list_things(ctx.conn, ctx.account, where, after, limit)
    return page_output("things", [_summary(thing) for thing in things], next_key)


def _summary(thing: ThingRecord) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "thingName": thing.name,
        "thingArn": thing.arn,
        "attributes": dict(thing.attributes),
        "version": thing.version,
    }
    if thing.thing_type_name:
        shape["thingTypeName"] = thing.thing_type_name
    return shape


OPERATIONS = {
    "CreateThing": create_thing,
    "DescribeThing": describe_thing,
    "UpdateThing": update_thing,
    "DeleteThing": delete_thing,
    "ListThings": list_things,
}
