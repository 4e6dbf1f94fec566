"""IoT static thing groups: CreateThingGroup, DescribeThingGroup, UpdateThingGroup, DeleteThingGroup,
ListThingGroups.

Groups form a hierarchy at most seven levels deep. CreateThingGroup with the name and configuration of an
existing group answers with that group; DeleteThingGroup of a missing group succeeds, of a group with child
groups it is refused (the things in a deleted group simply leave it). ListThingGroups without `parentGroup`
lists every group; with it, the direct children, or all descendants when `recursive`.
"""

from __future__ import annotations

import uuid
from typing import Any

from edgeward.core.errors import ServiceError
from edgeward.services.context import Context
from edgeward.services.iot import errors
from edgeward.services.iot.paging import page_args, page_output
from edgeward.services.iot.things_payload import apply_payload, authorize_create, payload_attributes, tags_from_params
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import iot_thing_groups as repo
from edgeward.storage.repos.iot_thing_groups import GroupFilter, ThingGroupRecord

MAX_DEPTH = 7


def thing_group_arn(ctx: Context, name: str) -> str:
    return ctx.arn("iot", f"thinggroup/{name}")


def group_not_found(name: str) -> ServiceError:
    return errors.not_found(f"Thing group {name} cannot be found.")


def lookup_group(ctx: Context, action: str, name: str, *, lock: bool = False) -> ThingGroupRecord | None:
    """The group (or None), after authorizing `action` on it."""
    group = repo.get_thing_group(ctx.conn, ctx.account, name, lock=lock)
    ctx.authorize(action, group.arn if group else thing_group_arn(ctx, name))
    return group


def require_group(ctx: Context, action: str, name: str, *, lock: bool = False) -> ThingGroupRecord:
    group = lookup_group(ctx, action, name, lock=lock)
    if group is None:
        raise group_not_found(name)
    return group


def group_ref(group: ThingGroupRecord) -> dict[str, str]:
    return {"groupName": group.name, "groupArn": group.arn}


def create_thing_group(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["thingGroupName"]
    arn = thing_group_arn(ctx, name)
    tags = tags_from_params(params.get("tags"))
    authorize_create(ctx, "iot:CreateThingGroup", arn, tags)
    parent = _parent(ctx, params.get("parentGroupName"))
    properties = params.get("thingGroupProperties") or {}
    description = properties.get("thingGroupDescription")
    attributes = {k: v for k, v in (payload_attributes(properties.get("attributePayload")) or {}).items() if v}
    try:
        group = repo.create_thing_group(
            ctx.conn,
            ctx.account,
            name,
            thing_group_id=str(uuid.uuid4()),
            arn=arn,
            parent_id=parent.id if parent else None,
            description=description,
            attributes=attributes,
            tags=tags,
        )
    except storage_errors.NotFound:
        raise errors.invalid_request(f"Parent thing group {params.get('parentGroupName')} cannot be found.") from None
    except storage_errors.AlreadyExists:
        group = _same_or_conflict(ctx, name, parent, description, attributes)
    return {"thingGroupName": group.name, "thingGroupArn": group.arn, "thingGroupId": group.thing_group_id}


def _parent(ctx: Context, name: str | None) -> ThingGroupRecord | None:
    if not name:
        return None
    parent = repo.get_thing_group(ctx.conn, ctx.account, name)
    if parent is None:
        raise errors.invalid_request(f"Parent thing group {name} cannot be found.")
    if len(repo.ancestors(ctx.conn, parent)) + 2 > MAX_DEPTH:
        raise errors.invalid_request(f"A thing group hierarchy can be at most {MAX_DEPTH} levels deep.")
    return parent


def _same_or_conflict(
    ctx: Context, name: str, parent: ThingGroupRecord | None, description: str | None, attributes: dict[str, str]
) -> ThingGroupRecord:
    existing = repo.get_thing_group(ctx.conn, ctx.account, name)
    same = existing is not None and (
        existing.parent_id == (parent.id if parent else None)
        and existing.description == description
        and dict(existing.attributes) == attributes
    )
    if existing is None or not same:
        raise errors.already_exists(
            f"Thing group {name} already exists in account with different properties",
            resource_id=existing.thing_group_id if existing else "",
            resource_arn=existing.arn if existing else "",
        )
    return existing


def describe_thing_group(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    group = require_group(ctx, "iot:DescribeThingGroup", params["thingGroupName"])
    properties: dict[str, Any] = {"attributePayload": {"attributes": dict(group.attributes)}}
    if group.description is not None:
        properties["thingGroupDescription"] = group.description
    metadata: dict[str, Any] = {"creationDate": group.created_at}
    lineage = repo.ancestors(ctx.conn, group)
    if lineage:
        metadata["parentGroupName"] = lineage[-1].name
        metadata["rootToParentThingGroups"] = [group_ref(ancestor) for ancestor in lineage]
    return {
        "thingGroupName": group.name,
        "thingGroupId": group.thing_group_id,
        "thingGroupArn": group.arn,
        "version": group.version,
        "thingGroupProperties": properties,
        "thingGroupMetadata": metadata,
    }


def update_thing_group(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    group = require_group(ctx, "iot:UpdateThingGroup", params["thingGroupName"], lock=True)
    _check_version(group, params.get("expectedVersion"))
    properties = params["thingGroupProperties"]
    description = group.description
    if "thingGroupDescription" in properties:
        description = properties["thingGroupDescription"] or None
    attributes = apply_payload(group.attributes, properties.get("attributePayload"))
    version = repo.update_thing_group(ctx.conn, group, description=description, attributes=attributes)
    return {"version": version}


def _check_version(group: ThingGroupRecord, expected: int | None) -> None:
    if expected is not None and expected != group.version:
        raise errors.version_conflict(f"The version for thing group {group.name} does not match the expected version.")


def delete_thing_group(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["thingGroupName"]
    group = lookup_group(ctx, "iot:DeleteThingGroup", name, lock=True)
    if group is None:
        return {}  # IoT: deleting a group that does not exist succeeds
    _check_version(group, params.get("expectedVersion"))
    try:
        repo.delete_thing_group(ctx.conn, group)
    except storage_errors.InUse:
        raise errors.invalid_request(f"Cannot delete thing group : {name} when it has child thing groups.") from None
    return {}


def list_thing_groups(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:ListThingGroups", "*")
    parent_id = None
    if params.get("parentGroup"):
        parent = repo.get_thing_group(ctx.conn, ctx.account, params["parentGroup"])
        if parent is None:
            raise group_not_found(params["parentGroup"])
        parent_id = parent.id
    where = GroupFilter(parent_id, bool(params.get("recursive")), params.get("namePrefixFilter"))
    after, limit = page_args(params)
    found, next_key = repo.list_thing_groups(ctx.conn, ctx.account, where, after, limit)
    return page_output("thingGroups", [group_ref(group) for group in found], next_key)


OPERATIONS = {
    "CreateThingGroup": create_thing_group,
    "DescribeThingGroup": describe_thing_group,
    "UpdateThingGroup": update_thing_group,
    "DeleteThingGroup": delete_thing_group,
    "ListThingGroups": list_thing_groups,
}
