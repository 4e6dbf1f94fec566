"""IoT registry operations: things, thing types, static thing groups, thing principals, DescribeEndpoint."""

from __future__ import annotations

from edgeward.services.context import Handler
from edgeward.services.iot import (
    endpoints,
    thing_groups,
    thing_groups_members,
    thing_types,
    things,
    things_principals,
)

OPERATIONS: dict[str, Handler] = {
    **things.OPERATIONS,
    **things_principals.OPERATIONS,
    **thing_types.OPERATIONS,
    **thing_groups.OPERATIONS,
    **thing_groups_members.OPERATIONS,
    **endpoints.OPERATIONS,
}
