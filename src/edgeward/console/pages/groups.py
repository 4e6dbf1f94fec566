"""IAM groups: list and create, members, attached policies."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from edgeward.console.deps import ConsoleDeps
from edgeward.console.page import Page
from edgeward.console.web import PREFIX, route
from edgeward.core.errors import ServiceError


def routes(deps: ConsoleDeps) -> list[Route]:
    return [
        route(deps, "/iam/groups", groups_page, methods=("GET", "POST")),
        route(deps, "/iam/groups/{name}", group_page, methods=("GET", "POST")),
    ]


def groups_page(page: Page) -> Response:
    error = ""
    if page.request.method == "POST":
        name = page.field("group_name")
        try:
            page.caller.call("iam", "CreateGroup", {"GroupName": name})
            return page.redirect(f"{PREFIX}/iam/groups/{name}", f"Group {name} created.")
        except ServiceError as exc:
            error = exc.message
    listed: list[dict[str, Any]] = []
    try:
        listed = page.caller.call("iam", "ListGroups", {"MaxItems": 1000}).get("Groups", [])
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
    return page.render(
        "groups.html",
        400 if error else 200,
        title="Groups",
        groups=listed,
        error=error,
        group_name=page.field("group_name"),
    )


def group_page(page: Page, name: str) -> Response:
    status = 200
    if page.request.method == "POST":
        action = page.field("action")
        user = {"GroupName": name, "UserName": page.field("user_name")}
        policy = {"GroupName": name, "PolicyArn": page.field("policy_arn")}
        operation, params, done = {
            "add": ("AddUserToGroup", user, "User added."),
            "remove": ("RemoveUserFromGroup", user, "User removed."),
            "attach": ("AttachGroupPolicy", policy, "Policy attached."),
        }.get(action, ("", {}, ""))
        if operation:
            try:
                page.caller.call("iam", operation, params)
                return page.redirect(f"{PREFIX}/iam/groups/{name}", done)
            except ServiceError as exc:
                page.flashes.append(("error", exc.message))
                status = exc.status if exc.status < 500 else 500
    try:
        group = page.caller.call("iam", "GetGroup", {"GroupName": name})
        attached = page.caller.call("iam", "ListAttachedGroupPolicies", {"GroupName": name}).get("AttachedPolicies", [])
        policies = page.caller.call("iam", "ListPolicies", {"MaxItems": 1000}).get("Policies", [])
    except ServiceError as exc:
        return page.render("error.html", exc.status if exc.status < 500 else 500, title="Group", message=exc.message)
    return page.render(
        "group.html",
        status,
        title=f"Group {name}",
        group=group["Group"],
        members=group["Users"],
        attached=attached,
        all_policies=policies,
    )
