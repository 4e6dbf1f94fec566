"""IoT policy documents: what IoT accepts, checked with the IAM policy engine, and the policy shapes.

An IoT policy is an identity-style document (no Principal; Resource required) whose actions belong to IoT
(`iot:*`, and `greengrass:*` which IoT policies also govern). Unlike IAM, IoT insists on a `Version`.
Documents are limited to 2048 characters not counting whitespace (AWS IoT's quota).
"""

from __future__ import annotations

import json
from typing import Any

from edgeward.policy import VERSION_2008, VERSION_2012, PolicyError, PolicyKind, parse_policy
from edgeward.services.iot import errors
from edgeward.storage.repos.iot_policies import IotPolicy

MAX_DOCUMENT_CHARS = 2048
POLICY_VENDORS = ("iot:", "greengrass:")


def valid_document(document: str) -> str:
    """The document if IoT accepts it; MalformedPolicyException saying why if not."""
    size = sum(1 for char in document if not char.isspace())
    if size > MAX_DOCUMENT_CHARS:
        raise errors.malformed_policy(
            f"Policy document is too large: {size} characters without whitespace, at most {MAX_DOCUMENT_CHARS}."
        )
    try:
        parse_policy(document, PolicyKind.IDENTITY)
    except PolicyError as exc:
        raise errors.malformed_policy(exc.message) from None
    data = json.loads(document)  # parse_policy accepted it, so it is a JSON object with statements
    if data.get("Version") not in (VERSION_2012, VERSION_2008):
        raise errors.malformed_policy(f"Policy document must have a Version of {VERSION_2012} or {VERSION_2008}.")
    statements = data["Statement"] if isinstance(data["Statement"], list) else [data["Statement"]]
    for statement in statements:
        for action in _actions(statement):
            if action != "*" and not action.lower().startswith(POLICY_VENDORS):
                raise errors.malformed_policy(f"Policy contains an action that is not an IoT action: {action}")
    return document


def _actions(statement: dict[str, Any]) -> list[str]:
    raw = statement.get("Action", statement.get("NotAction", []))
    return [raw] if isinstance(raw, str) else list(raw)


def version_id(number: int) -> str:
    return str(number)


def version_number(version_id_text: str) -> int:
    """The model's pattern guarantees digits; a number too big for the database names no version."""
    number = int(version_id_text)
    return number if number < 2**31 else 0


def policy_shape(policy: IotPolicy, document: str) -> dict[str, Any]:
    """GetPolicy's output."""
    return {
        "policyName": policy.name,
        "policyArn": policy.arn,
        "policyDocument": document,
        "defaultVersionId": version_id(policy.default_version),
        "creationDate": policy.created_at,
        "lastModifiedDate": policy.updated_at,
        "generationId": policy.generation_id,
    }


def summary(policy: IotPolicy) -> dict[str, str]:
    return {"policyName": policy.name, "policyArn": policy.arn}
