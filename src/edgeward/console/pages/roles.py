"""IAM roles: list, create with a trusted service and a managed policy in one step, a role's trust policy and
permissions."""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import unquote

from starlette.responses import Response
from starlette.routing import Route

from edgeward.console.calls import Caller
from edgeward.console.deps import ConsoleDeps
from edgeward.console.page import Page
from edgeward.console.web import PREFIX, route
from edgeward.core.errors import ServiceError


def routes(deps: ConsoleDeps) -> list[Route]:
    return [
        route(deps, "/iam/roles", roles_page, methods=("GET", "POST")),
        route(deps, "/iam/roles/{name}", role_page),
    ]


def trust_policy(service: str) -> str:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def create_service_role(caller: Caller, name: str, service: str, policy_arn: str | None) -> None:
    """A role that `service` may assume, with `policy_arn` attached: the console's "Create role in IAM"."""
    caller.call("iam", "CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": trust_policy(service)})
    if policy_arn:
        caller.call("iam", "AttachRolePolicy", {"RoleName": name, "PolicyArn": policy_arn})


def roles_page(page: Page) -> Response:
    error = ""
    if page.request.method == "POST":
        name = page.field("role_name")
        try:
            create_service_role(page.caller, name, page.field("service"), page.field("policy_arn") or None)
            return page.redirect(f"{PREFIX}/iam/roles/{name}", f"Role {name} created.")
        except ServiceError as exc:
            error = exc.message
    listed: list[dict[str, Any]] = []
    try:
        listed = page.caller.call("iam", "ListRoles", {"MaxItems": 1000}).get("Roles", [])
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
    return page.render(
        "roles.html",
        400 if error else 200,
        title="Roles",
        roles=listed,
        error=error,
        role_name=page.field("role_name"),
        service=page.field("service"),
    )


def role_page(page: Page, name: str) -> Response:
    try:
        role = page.caller.call("iam", "GetRole", {"RoleName": name})["Role"]
        attached = page.caller.call("iam", "ListAttachedRolePolicies", {"RoleName": name}).get("AttachedPolicies", [])
    except ServiceError as exc:
        return page.render("error.html", exc.status if exc.status < 500 else 500, title="Role", message=exc.message)
    trust = unquote(str(role.get("AssumeRolePolicyDocument", "")))
    with contextlib.suppress(ValueError):
        trust = json.dumps(json.loads(trust), indent=2)
    return page.render("role.html", title=f"Role {name}", role=role, trust=trust, attached=attached)
