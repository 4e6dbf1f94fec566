"""STS: who am I (the IAM issue adds AssumeRole and GetSessionToken)."""

from __future__ import annotations

from typing import Any

from edgeward.services.context import Context, Handler


def get_caller_identity(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Needs authentication but no permission, as in AWS."""
    ctx.needs_no_permission()
    principal = ctx.principal
    return {"UserId": principal.user_id, "Account": principal.account, "Arn": principal.arn}


OPERATIONS: dict[str, Handler] = {"GetCallerIdentity": get_caller_identity}
