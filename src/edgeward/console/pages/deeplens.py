"""The DeepLens registration wizard of seed 000, step for step: 1 device name, 2 set permissions (five IAM roles,
"Create role in IAM", "Refresh IAM roles", wrong roles flagged), 3 download certificate, 4 register.

The wizard keeps its state in the URL (device name, chosen roles), so every step can be reloaded or bookmarked;
each POST redirects to the next GET (nothing is resubmitted by a reload). Registration itself happens when the
user leaves step 2: it issues the certificate the next step offers for its one download.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from edgeward.console.calls import Caller
from edgeward.console.deps import ConsoleDeps
from edgeward.console.page import Page
from edgeward.console.pages import deeplens_api as api
from edgeward.console.pages import deeplens_roles as wizard_roles
from edgeward.console.pages.common import error_page, redirect, status_of
from edgeward.console.web import PREFIX, route
from edgeward.core.errors import ServiceError

REGISTER = PREFIX + "/deeplens/register"
NAME = re.compile(r"[A-Za-z0-9-]+")
NAME_LIMIT = 100
FLAGGED = "A chosen role does not carry the trust and policy DeepLens needs. Fix the flagged roles before you go on."


def routes(deps: ConsoleDeps) -> list[Route]:
    return [
        route(deps, "/deeplens/register", name_step, methods=("GET", "POST")),
        route(deps, "/deeplens/register/permissions", permissions_step, methods=("GET", "POST")),
        route(deps, "/deeplens/register/certificate", certificate_step),
    ]


def name_problem(name: str) -> str:
    """Why `name` cannot be a device name ("" when it can, uniqueness aside)."""
    if not name:
        return "Enter a device name."
    if len(name) > NAME_LIMIT:
        return f"The device name can have at most {NAME_LIMIT} characters; this one has {len(name)}."
    if not NAME.fullmatch(name):
        return "Use only letters, digits and dashes (-) in the device name."
    return ""


def _taken(caller: Caller, name: str) -> str:
    if api.describe(caller, name) is None:
        return ""
    return f"A device named {name} is already registered. Choose another name, or deregister that device first."


def name_step(page: Page) -> Response:
    name = page.field("device_name") or page.request.query_params.get("device", "")
    error, status = "", 200
    if page.request.method == "POST":
        try:
            error = name_problem(name) or _taken(page.caller, name)
            status = 400 if error else 200
        except ServiceError as exc:
            error, status = exc.message, status_of(exc)
        if not error:
            return page.redirect(f"{REGISTER}/permissions?{urlencode({'device': name})}")
    return page.render("deeplens_name.html", status, title="Register device: name", device_name=name, error=error)


def _state(page: Page) -> tuple[str, dict[str, str]]:
    """(device name, chosen role per selector) from the form on a POST, else from the URL."""
    source: Any = page.form if page.request.method == "POST" else page.request.query_params
    chosen = {role.field: str(source.get(role.field, "")).strip() for role in wizard_roles.ROLES}
    return str(source.get("device", "")).strip(), chosen


def _here(device: str, chosen: dict[str, str]) -> str:
    query = {"device": device, **{field: name for field, name in chosen.items() if name}}
    return f"{REGISTER}/permissions?{urlencode(query)}"


def permissions_step(page: Page) -> Response:
    device, chosen = _state(page)
    if name_problem(device):
        return page.redirect(REGISTER, "Start with the device name.")
    status = 200
    if page.request.method == "POST":
        action = page.field("action")
        try:
            if action.startswith("create:"):
                role = _create(page.caller, action.removeprefix("create:"))
                chosen[role.field] = role.name
                notice = f"Role {role.name} created in IAM, trusting {role.service}, with {role.policy_name}."
                return redirect(page, _here(device, chosen), notice)
            if action == "next":
                roles = _checked_roles(page.caller, chosen)
                if roles is not None:
                    api.register(page.caller, device, roles)
                    return page.redirect(f"{REGISTER}/certificate?{urlencode({'device': device})}")
                page.flashes.append(("error", FLAGGED))
                status = 400
            else:
                return redirect(page, _here(device, chosen), "IAM roles reloaded.")
        except ServiceError as exc:
            page.flashes.append(("error", exc.message))
            status = status_of(exc)
    return _permissions_page(page, device, chosen, status)


def _create(caller: Caller, field: str) -> wizard_roles.DeepLensRole:
    role = wizard_roles.BY_FIELD.get(field)
    if role is None:
        raise ServiceError("ValidationError", f"There is no DeepLens role selector {field}.", 400)
    wizard_roles.create(caller, role)
    return role


def _checked_roles(caller: Caller, chosen: dict[str, str]) -> dict[str, str] | None:
    """Kind -> role ARN for registration when every chosen role passes its check; None otherwise."""
    roles: dict[str, str] = {}
    for role in wizard_roles.ROLES:
        checked = wizard_roles.check(caller, role, chosen.get(role.field, ""))
        if checked.problem:
            return None
        roles[role.kind] = checked.arn
    return roles


def _permissions_page(page: Page, device: str, chosen: dict[str, str], status: int) -> Response:
    names: list[str] = []
    try:
        listed = page.caller.call("iam", "ListRoles", {"MaxItems": 1000}).get("Roles", [])
        names = sorted(str(role["RoleName"]) for role in listed)
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
        status = max(status, status_of(exc))
    chosen = wizard_roles.choices(names, chosen)
    selectors = []
    for role in wizard_roles.ROLES:
        problem = wizard_roles.check(page.caller, role, chosen[role.field]).problem if names else ""
        missing = not wizard_roles.default_choice(role, names)
        selectors.append({"role": role, "chosen": chosen[role.field], "problem": problem, "missing": missing})
    return page.render(
        "deeplens_permissions.html",
        status,
        title="Register device: set permissions",
        device_name=device,
        role_names=names,
        selectors=selectors,
        blocked=any(selector["problem"] for selector in selectors),
    )


def certificate_step(page: Page) -> Response:
    device = page.request.query_params.get("device", "")
    try:
        found = api.describe(page.caller, device) if not name_problem(device) else None
    except ServiceError as exc:
        return error_page(page, "Register device", exc)
    if found is None:
        return page.redirect(REGISTER, f"There is no registration for {device or 'that device'}: start again.")
    return page.render("deeplens_certificate.html", title="Register device: download certificate", device=found)
