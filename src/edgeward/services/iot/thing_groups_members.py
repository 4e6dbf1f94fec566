"""Things in static thing groups: AddThingToThingGroup, RemoveThingFromThingGroup, ListThingsInThingGroup,
ListThingGroupsForThing.

A thing may be in at most 10 static groups; the check runs under the thing's row lock, so concurrent adds
cannot overshoot. Adding a thing again, or removing one that is not in the group, changes nothing.
"""

from __future__ import annotations

from typing import Any

from edgeward.services.context import Context
from edgeward.services.iot import errors
from edgeward.services.iot.paging import page_args, page_output
from edgeward.services.iot.thing_groups import group_not_found, group_ref, require_group, thing_group_arn
from edgeward.services.iot.things import require_thing, thing_arn, thing_not_found
from edgeward.services.iot.things_payload import name_from
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import iot_thing_groups as repo
from edgeward.storage.repos import iot_things as thing_repo
from edgeward.storage.repos.iot_thing_groups import ThingGroupRecord
from edgeward.storage.repos.iot_things import ThingRecord

MAX_GROUPS_PER_THING = 10


def _resolve(ctx: Context, action: str, params: dict[str, Any]) -> tuple[ThingGroupRecord, ThingRecord]:
    """The group and the thing (each by name or ARN), authorized for `action` on both."""
    group_name = name_from(ctx, params.get("thingGroupName"), params.get("thingGroupArn"), "thinggroup", "thing group")
    thing_name = name_from(ctx, params.get("thingName"), params.get("thingArn"), "thing", "thing")
    group = repo.get_thing_group(ctx.conn, ctx.account, group_name)
    thing = thing_repo.get_thing(ctx.conn, ctx.account, thing_name, lock=True)
    ctx.authorize(action, group.arn if group else thing_group_arn(ctx, group_name))
    ctx.authorize(action, thing.arn if thing else thing_arn(ctx, thing_name))
    if group is None:
        raise group_not_found(group_name)
    if thing is None:
        raise thing_not_found(thing_name)
    return group, thing


def add_thing_to_thing_group(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    group, thing = _resolve(ctx, "iot:AddThingToThingGroup", params)
    in_groups = repo.group_count_for_thing(ctx.conn, thing.id)
    if in_groups >= MAX_GROUPS_PER_THING and group.arn not in _direct_group_arns(ctx, thing):
        raise errors.invalid_request(
            f"Thing {thing.name} is already in {MAX_GROUPS_PER_THING} thing groups, the most a thing can be in."
        )
    try:
        repo.add_thing(ctx.conn, group, thing.id)
    except storage_errors.NotFound:
        raise group_not_found(group.name) from None
    return {}


def _direct_group_arns(ctx: Context, thing: ThingRecord) -> set[str]:
    found, _ = repo.list_groups_for_thing(ctx.conn, thing.id, None, MAX_GROUPS_PER_THING + 1)
    return {group.arn for group in found}


def remove_thing_from_thing_group(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    group, thing = _resolve(ctx, "iot:RemoveThingFromThingGroup", params)
    repo.remove_thing(ctx.conn, group, thing.id)
    return {}


def list_things_in_thing_group(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    group = require_group(ctx, "iot:ListThingsInThingGroup", params["thingGroupName"])
    after, limit = page_args(params)
    names, next_key = repo.list_things_in_group(ctx.conn, group, bool(params.get("recursive")), after, limit)
    return page_output("things", names, next_key)


def list_thing_groups_for_thing(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    thing = require_thing(ctx, "iot:ListThingGroupsForThing", params["thingName"])
    after, limit = page_args(params)
    found, next_key = repo.list_groups_for_thing(ctx.conn, thing.id, after, limit)
    return page_output("thingGroups", [group_ref(group) for group in found], next_key)


OPERATIONS = {
    "AddThingToThingGroup": add_thing_to_thing_group,
    "RemoveThingFromThingGroup": remove_thing_from_thing_group,
    "ListThingsInThingGroup": list_things_in_thing_group,
    "ListThingGroupsForThing": list_thing_groups_for_thing,
}
