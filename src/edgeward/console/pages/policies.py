"""Managed policies: the customer's and AWS's, a policy's default document, and creating a policy or a new
version with a JSON editor that shows IAM's validation error in place."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from starlette.responses import Response
from starlette.routing import Route

from edgeward.console.deps import ConsoleDeps
from edgeward.console.page import Page
from edgeward.console.web import PREFIX, route
from edgeward.core.errors import ServiceError

STARTER = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}, indent=2
)


def routes(deps: ConsoleDeps) -> list[Route]:
    return [
        route(deps, "/iam/policies", policies_page, methods=("GET", "POST")),
        route(deps, "/iam/policy", policy_page, methods=("GET", "POST")),
    ]


def policies_page(page: Page) -> Response:
    error, document = "", page.form.get("document") or STARTER
    if page.request.method == "POST":
        name = page.field("policy_name")
        try:
            created = page.caller.call(
                "iam",
                "CreatePolicy",
                {"PolicyName": name, "PolicyDocument": document, "Description": page.field("description") or None},
            )["Policy"]
            return page.redirect(f"{PREFIX}/iam/policy?arn={created['Arn']}", f"Policy {name} created.")
        except ServiceError as exc:
            error = exc.message
    scope = page.request.query_params.get("scope", "Local")
    listed: list[dict[str, Any]] = []
    try:
        params = {"Scope": scope if scope in ("Local", "AWS", "All") else "Local", "MaxItems": 1000}
        listed = page.caller.call("iam", "ListPolicies", params).get("Policies", [])
    except ServiceError as exc:
        page.flashes.append(("error", exc.message))
    return page.render(
        "policies.html",
        400 if error else 200,
        title="Policies",
        policies=listed,
        scope=scope,
        error=error,
        document=document,
        policy_name=page.field("policy_name"),
    )


def policy_page(page: Page) -> Response:
    arn = unquote(page.request.query_params.get("arn", "") or page.field("arn"))
    error, draft = "", page.form.get("document", "")
    if page.request.method == "POST":
        try:
            page.caller.call(
                "iam", "CreatePolicyVersion", {"PolicyArn": arn, "PolicyDocument": draft, "SetAsDefault": True}
            )
            return page.redirect(f"{PREFIX}/iam/policy?arn={arn}", "New default version saved.")
        except ServiceError as exc:
            error = exc.message
    try:
        policy = page.caller.call("iam", "GetPolicy", {"PolicyArn": arn})["Policy"]
        version = page.caller.call(
            "iam", "GetPolicyVersion", {"PolicyArn": arn, "VersionId": policy["DefaultVersionId"]}
        )["PolicyVersion"]
    except ServiceError as exc:
        return page.render("error.html", exc.status if exc.status < 500 else 500, title="Policy", message=exc.message)
    document = _pretty(unquote(str(version.get("Document", ""))))
    editable = not arn.startswith("arn:aws:iam::aws:")
    return page.render(
        "policy.html",
        400 if error else 200,
        title=policy["PolicyName"],
        policy=policy,
        document=document,
        draft=draft or document,
        error=error,
        editable=editable,
    )


def _pretty(document: str) -> str:
    try:
        return json.dumps(json.loads(document), indent=2)
    except ValueError:
        return document
