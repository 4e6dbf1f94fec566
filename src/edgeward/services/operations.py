"""One service's operation table, merged from the tables of its areas (each area module has `OPERATIONS`)."""

from __future__ import annotations

from collections.abc import Mapping

from edgeward.services.context import Handler


def merged(service: str, *tables: Mapping[str, Handler]) -> dict[str, Handler]:
    """The union of the areas' tables; an operation registered by two areas is a bug, caught at import."""
    result: dict[str, Handler] = {}
    for table in tables:
        for name, handler in table.items():
            if name in result:
                raise RuntimeError(f"{service} operation {name} registered twice")
            result[name] = handler
    return result
