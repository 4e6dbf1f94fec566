"""IoT role aliases: what each alias lets a device certificate assume through the credentials provider."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from edgeward.console.deps import ConsoleDeps
from edgeward.console.page import Page
from edgeward.console.pages.common import collect
from edgeward.console.web import route
from edgeward.core.errors import ServiceError

# Described one by one (ListRoleAliases gives names only); a console page shows this many at most.
DESCRIBED = 200


def routes(deps: ConsoleDeps) -> list[Route]:
    return [route(deps, "/iot/role-aliases", role_aliases_page)]


def role_aliases_page(page: Page) -> Response:
    aliases: list[dict[str, Any]] = []
    try:
        names = collect(
            page.caller, "iot", "ListRoleAliases", {}, "roleAliases", ("marker", "nextMarker"), ("pageSize", 250)
        )
        for name in names[:DESCRIBED]:
            answer = page.caller.call("iot", "DescribeRoleAlias", {"roleAlias": name})
            aliases.append(answer["roleAliasDescription"])
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
    return page.render("role_aliases.html", title="Role aliases", aliases=aliases)
