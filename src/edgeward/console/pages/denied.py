""" "Why was I denied?": from an AccessDenied message (or a principal, action and resource), the simulator's
decision with the deciding statements, what would allow it, and the matching entries of the decision log."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from edgeward.console.calls import Caller
from edgeward.console.deps import ConsoleDeps
from edgeward.console.page import Page
from edgeward.console.web import route
from edgeward.core.errors import ServiceError
from edgeward.storage.repos import decisions

DENIAL = re.compile(
    r"User: (?P<arn>arn:\S+) is not authorized to perform: (?P<action>[\w-]+:[\w*]+) on resource: (?P<resource>\S+?)"
    r"(?=[\s.]*$|\s+(?:because|with)\b)"
)
SESSION = re.compile(r"arn:(?P<partition>[\w-]+):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/.+")


@dataclass(frozen=True)
class Question:
    principal: str
    action: str
    resource: str


def routes(deps: ConsoleDeps) -> list[Route]:
    return [route(deps, "/why-denied", why_denied, methods=("GET", "POST"))]


def parse_denial(message: str) -> Question | None:
    found = DENIAL.search(" ".join(message.split()))
    if found is None:
        return None
    return Question(found["arn"], found["action"], found["resource"].rstrip("."))


def why_denied(page: Page) -> Response:
    question, error = _question(page)
    answer: dict[str, Any] = {}
    if question is not None:
        try:
            answer = explain(page.caller, question)
            answer["log"] = _log(page, question)
        except ServiceError as exc:
            error = exc.message
    return page.render(
        "denied.html",
        400 if error else 200,
        title="Why was I denied?",
        question=question,
        answer=answer,
        error=error,
        message=page.form.get("message", ""),
    )


def _question(page: Page) -> tuple[Question | None, str]:
    if page.request.method != "POST":
        return None, ""
    if page.field("message"):
        parsed = parse_denial(page.field("message"))
        if parsed is None:
            return None, "That does not look like an AccessDenied message (User: … is not authorized to perform: …)."
        return parsed, ""
    fields = Question(page.field("principal"), page.field("action"), page.field("resource") or "*")
    if not fields.principal or not fields.action:
        return None, "Give a principal ARN and an action, or paste the message."
    return fields, ""


def policy_source(caller: Caller, principal: str) -> str:
    """The IAM user or role ARN the simulator evaluates: a role session is judged by its role."""
    session = SESSION.fullmatch(principal)
    if session is None:
        return principal
    return str(caller.call("iam", "GetRole", {"RoleName": session["role"]})["Role"]["Arn"])


def explain(caller: Caller, question: Question) -> dict[str, Any]:
    params = {
        "PolicySourceArn": policy_source(caller, question.principal),
        "ActionNames": [question.action],
        "ResourceArns": [question.resource],
    }
    result = caller.call("iam", "SimulatePrincipalPolicy", params)["EvaluationResults"][0]
    decision = str(result.get("EvalDecision", ""))
    suggestion = ""
    if decision == "implicitDeny":
        statement = {"Effect": "Allow", "Action": question.action, "Resource": question.resource}
        suggestion = json.dumps({"Version": "2012-10-17", "Statement": [statement]}, indent=2)
    return {
        "decision": decision,
        "matched": result.get("MatchedStatements", []),
        "missing": result.get("MissingContextValues", []),
        "suggestion": suggestion,
    }


def _log(page: Page, question: Question) -> list[decisions.DecisionRecord]:
    with page.deps.db.read() as conn:
        found = decisions.query_decisions(conn, principal=question.principal, action=question.action, limit=20)
    return [record for record in found if record.account_id == page.deps.account]
