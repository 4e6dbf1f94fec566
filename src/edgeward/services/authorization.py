"""The authorizer every handler calls through `ctx.authorize`: IAM policy evaluation for the caller."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgeward.core import clock
from edgeward.policy import (
    Caller,
    Policy,
    Request,
    cached_policy,
    denial_message,
    evaluate,
    principal_keys,
    request_keys,
)
from edgeward.services.context import Context
from edgeward.services.errors import access_denied
from edgeward.services.iam.managed import managed_policy_document
from edgeward.storage.repos import attachments


def authorize(ctx: Context, action: str, resource: str, condition: Mapping[str, Any]) -> None:
    """Allow or raise AccessDenied in AWS's words (spec 4.3). The account root is allowed everything."""
    principal = ctx.principal
    if principal.is_root:
        return
    context = {
        **principal_keys(principal),
        **request_keys(now=clock.now(), secure_transport=ctx.secure, source_ip=ctx.source_ip or None),
        **condition,
    }
    decision = evaluate(Request(Caller.of(principal), action, resource, context), identity_policies(ctx))
    if not decision.allowed:
        raise access_denied(ctx.service, denial_message(principal.arn, action, resource, decision))


def identity_policies(ctx: Context) -> list[Policy]:
    """The identity-based policies of the caller: for a user, the managed policies attached to it."""
    principal = ctx.principal
    if principal.entity_id is None:
        return []
    policies: list[Policy] = []
    for policy_arn in attachments.attached_policy_arns(ctx.conn, "user", principal.entity_id):
        document = managed_policy_document(policy_arn)
        if document is not None:
            policies.append(cached_policy(document).with_source(policy_arn, "user-managed"))
    return policies
