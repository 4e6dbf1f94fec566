"""IoT thing types: CreateThingType, DescribeThingType, DeprecateThingType, DeleteThingType, ListThingTypes.

CreateThingType answers again with the same thing type when called with the same name and properties (as
CreateThing and CreateThingGroup do), so re-running a setup script works. AWS deletes a thing type only five
minutes after its deprecation; edgeward requires the deprecation but not the wait, so a cleanup need not
sleep. A thing type that things still use cannot be deleted (the database enforces it).
"""

from __future__ import annotations

import uuid
from typing import Any

from edgeward.core.errors import ServiceError
from edgeward.services.context import Context
from edgeward.services.iot import errors
from edgeward.services.iot.paging import page_args, page_output
from edgeward.services.iot.things_payload import authorize_create, tags_from_params
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import iot_thing_types as repo
from edgeward.storage.repos.iot_thing_types import ThingTypeRecord

MAX_SEARCHABLE_ATTRIBUTES = 3


def thing_type_arn(ctx: Context, name: str) -> str:
    return ctx.arn("iot", f"thingtype/{name}")


def not_found(name: str) -> ServiceError:
    return errors.not_found(f"Thing type {name} cannot be found.")


def metadata_shape(thing_type: ThingTypeRecord) -> dict[str, Any]:
    shape: dict[str, Any] = {"deprecated": thing_type.deprecated, "creationDate": thing_type.created_at}
    if thing_type.deprecated_at is not None:
        shape["deprecationDate"] = thing_type.deprecated_at
    return shape


def _lookup(ctx: Context, action: str, name: str, *, lock: bool = False) -> ThingTypeRecord:
    """The thing type, after authorizing `action` on it (so a caller without permission learns nothing)."""
    found = repo.get_thing_type(ctx.conn, ctx.account, name, lock=lock)
    ctx.authorize(action, found.arn if found else thing_type_arn(ctx, name))
    if found is None:
        raise not_found(name)
    return found


def create_thing_type(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["thingTypeName"]
    arn = thing_type_arn(ctx, name)
    tags = tags_from_params(params.get("tags"))
    authorize_create(ctx, "iot:CreateThingType", arn, tags)
    properties = dict(params.get("thingTypeProperties") or {})
    if len(properties.get("searchableAttributes") or ()) > MAX_SEARCHABLE_ATTRIBUTES:
        raise errors.invalid_request(
            f"A thing type can have at most {MAX_SEARCHABLE_ATTRIBUTES} searchable attributes."
        )
    try:
        created = repo.create_thing_type(
            ctx.conn, ctx.account, name, thing_type_id=str(uuid.uuid4()), arn=arn, properties=properties, tags=tags
        )
    except storage_errors.AlreadyExists:
        created = _same_or_conflict(ctx, name, properties)
    return {"thingTypeName": created.name, "thingTypeArn": created.arn, "thingTypeId": created.thing_type_id}


def _same_or_conflict(ctx: Context, name: str, properties: dict[str, Any]) -> ThingTypeRecord:
    existing = repo.get_thing_type(ctx.conn, ctx.account, name)
    if existing is None or dict(existing.properties) != properties:
        raise errors.already_exists(
            f"Thing type {name} already exists in account with different properties",
            resource_id=existing.thing_type_id if existing else "",
            resource_arn=existing.arn if existing else "",
        )
    return existing


def describe_thing_type(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    found = _lookup(ctx, "iot:DescribeThingType", params["thingTypeName"])
    return {
        "thingTypeName": found.name,
        "thingTypeId": found.thing_type_id,
        "thingTypeArn": found.arn,
        "thingTypeProperties": dict(found.properties),
        "thingTypeMetadata": metadata_shape(found),
    }


def deprecate_thing_type(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    found = _lookup(ctx, "iot:DeprecateThingType", params["thingTypeName"], lock=True)
    deprecate = not params.get("undoDeprecate")
    if found.deprecated != deprecate:
        repo.set_deprecated(ctx.conn, found, deprecate)
    return {}


def delete_thing_type(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["thingTypeName"]
    found = _lookup(ctx, "iot:DeleteThingType", name, lock=True)
    if not found.deprecated:
        raise errors.invalid_request(f"Cannot delete thing type : {name}. Deprecate the thing type before deleting it.")
    try:
        repo.delete_thing_type(ctx.conn, found)
    except storage_errors.InUse:
        raise errors.invalid_request(
            f"Cannot delete thing type : {name}. There are things associated with the thing type."
        ) from None
    return {}


def list_thing_types(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:ListThingTypes", "*")
    after, limit = page_args(params)
    found, next_key = repo.list_thing_types(ctx.conn, ctx.account, params.get("thingTypeName"), after, limit)
    items = [
        {
            "thingTypeName": thing_type.name,
            "thingTypeArn": thing_type.arn,
            "thingTypeProperties": dict(thing_type.properties),
            "thingTypeMetadata": metadata_shape(thing_type),
        }
        for thing_type in found
    ]
    return page_output("thingTypes", items, next_key)


OPERATIONS = {
    "CreateThingType": create_thing_type,
    "DescribeThingType": describe_thing_type,
    "DeprecateThingType": deprecate_thing_type,
    "DeleteThingType": delete_thing_type,
    "ListThingTypes": list_thing_types,
}
