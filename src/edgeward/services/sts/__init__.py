"""STS: who am I, AssumeRole and GetSessionToken; temporary credentials are authenticated in `server`."""

from __future__ import annotations

from typing import Any

from edgeward.services.context import Context, Handler
from edgeward.services.sts.assume_role import assume_role
from edgeward.services.sts.session_token import get_session_token


def get_caller_identity(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Needs authentication but no permission, as in AWS. Role sessions show `AROA...:<session>` and the
    assumed-role ARN; GetSessionToken sessions the user's own ids."""
    ctx.needs_no_permission()
    principal = ctx.principal
    return {"UserId": principal.user_id, "Account": principal.account, "Arn": principal.arn}


OPERATIONS: dict[str, Handler] = {
    "GetCallerIdentity": get_caller_identity,
    "AssumeRole": assume_role,
    "GetSessionToken": get_session_token,
}
