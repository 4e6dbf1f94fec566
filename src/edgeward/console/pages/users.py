"""IAM users: list and create; a user's page with console password, access keys (the secret shown once, with a
CSV download), attached policies, and deletion. Every action is the IAM API call of the same name."""

from __future__ import annotations

import base64
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from edgeward.console.deps import ConsoleDeps
from edgeward.console.page import Page
from edgeward.console.web import PREFIX, route
from edgeward.core.errors import ServiceError

KEY_LIMIT_HELP = (
    "An IAM user can have at most two access keys. To rotate keys, deactivate and delete one of the existing "
    "keys, then create the new one."
)


def routes(deps: ConsoleDeps) -> list[Route]:
    return [
        route(deps, "/iam/users", users_page, methods=("GET", "POST")),
        route(deps, "/iam/users/{name}", user_page),
        route(deps, "/iam/users/{name}/password", set_password, methods=("POST",)),
        route(deps, "/iam/users/{name}/keys", create_key, methods=("POST",)),
        route(deps, "/iam/users/{name}/keys/{key}/status", key_status, methods=("POST",)),
        route(deps, "/iam/users/{name}/keys/{key}/delete", delete_key, methods=("POST",)),
        route(deps, "/iam/users/{name}/policies", attach_policy, methods=("POST",)),
        route(deps, "/iam/users/{name}/delete", delete_user, methods=("POST",)),
    ]


def users_page(page: Page) -> Response:
    error = ""
    if page.request.method == "POST":
        name = page.field("user_name")
        try:
            page.caller.call("iam", "CreateUser", {"UserName": name, "Path": page.field("path") or None})
            return page.redirect(f"{PREFIX}/iam/users/{name}", f"User {name} created.")
        except ServiceError as exc:
            error = exc.message
    listed: list[dict[str, Any]] = []
    try:
        listed = page.caller.call("iam", "ListUsers", {"MaxItems": 1000}).get("Users", [])
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
    return page.render(
        "users.html", 400 if error else 200, title="Users", users=listed, error=error, user_name=page.field("user_name")
    )


def user_page(page: Page, name: str, *, new_key: dict[str, Any] | None = None, status: int = 200) -> Response:
    caller = page.caller
    try:
        user = caller.call("iam", "GetUser", {"UserName": name})["User"]
    except ServiceError as exc:
        return page.render("error.html", exc.status if exc.status < 500 else 500, title="User", message=exc.message)
    sections: dict[str, Any] = {}
    for key, operation, params, member in (
        ("keys", "ListAccessKeys", {"UserName": name}, "AccessKeyMetadata"),
        ("policies", "ListAttachedUserPolicies", {"UserName": name}, "AttachedPolicies"),
        ("groups", "ListGroupsForUser", {"UserName": name}, "Groups"),
        ("all_policies", "ListPolicies", {"MaxItems": 1000}, "Policies"),
    ):
        try:
            sections[key] = caller.call("iam", operation, params).get(member, [])
        except ServiceError as exc:
            sections[key] = []
            page.flashes.append(("error", exc.message))
    sections["has_password"] = _has_password(page, name)
    csv_href = _csv_href(new_key) if new_key else ""
    return page.render(
        "user.html", status, title=f"User {name}", user=user, new_key=new_key, csv_href=csv_href, **sections
    )


def _has_password(page: Page, name: str) -> bool | None:
    try:
        page.caller.call("iam", "GetLoginProfile", {"UserName": name})
        return True
    except ServiceError as exc:
        return False if exc.code == "NoSuchEntity" else None


def _csv_href(key: dict[str, Any]) -> str:
    """The new key as the CSV AWS's console offers, as a data: link — the secret is never stored to serve later."""
    text = f"Access key ID,Secret access key\r\n{key['AccessKeyId']},{key['SecretAccessKey']}\r\n"
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def _act(page: Page, name: str, operation: str, params: dict[str, Any], done: str) -> Response:
    try:
        page.caller.call("iam", operation, params)
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
        return user_page(page, name, status=exc.status if exc.status < 500 else 500)
    return page.redirect(f"{PREFIX}/iam/users/{name}", done)


def set_password(page: Page, name: str) -> Response:
    params = {"UserName": name, "Password": page.form.get("password", "")}
    operation = "UpdateLoginProfile" if _has_password(page, name) else "CreateLoginProfile"
    return _act(page, name, operation, params, "Console password set.")


def create_key(page: Page, name: str) -> Response:
    try:
        key = page.caller.call("iam", "CreateAccessKey", {"UserName": name})["AccessKey"]
    except ServiceError as exc:
        message = f"{exc.message} {KEY_LIMIT_HELP}" if exc.code == "LimitExceeded" else exc.message
        page.flashes.append(("error", message))
        return user_page(page, name, status=exc.status)
    return user_page(page, name, new_key=key)


def key_status(page: Page, name: str, key: str) -> Response:
    status = "Active" if page.field("status") == "Active" else "Inactive"
    params = {"UserName": name, "AccessKeyId": key, "Status": status}
    return _act(page, name, "UpdateAccessKey", params, f"Access key {key} is now {status.lower()}.")


def delete_key(page: Page, name: str, key: str) -> Response:
    return _act(page, name, "DeleteAccessKey", {"UserName": name, "AccessKeyId": key}, f"Access key {key} deleted.")


def attach_policy(page: Page, name: str) -> Response:
    arn = page.field("policy_arn")
    return _act(page, name, "AttachUserPolicy", {"UserName": name, "PolicyArn": arn}, f"Attached {arn}.")


def delete_user(page: Page, name: str) -> Response:
    try:
        page.caller.call("iam", "DeleteUser", {"UserName": name})
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
        return user_page(page, name, status=exc.status)
    return page.redirect(f"{PREFIX}/iam/users", f"User {name} deleted.")
