"""GetSessionToken (spec 4.2): temporary credentials that act as the calling IAM user (or root).

As in AWS: only long-term credentials may call it; it needs no permission; users get 900..129600 seconds
(default 43200), the account root at most an hour (longer requests are shortened, not refused). The
session's limits are enforced where requests are authenticated and in the STS handlers: without MFA it
cannot call IAM, and among STS operations only AssumeRole and GetCallerIdentity. edgeward has no MFA devices,
so SerialNumber/TokenCode are refused with a message saying so.
"""

from __future__ import annotations

from typing import Any

from edgeward.services.context import Context
from edgeward.services.sts import errors
from edgeward.services.sts.credentials import issue_credentials
from edgeward.storage.repos import sessions

DEFAULT_DURATION = 43200
ROOT_MAX_DURATION = 3600


def get_session_token(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    principal = ctx.principal
    if principal.is_session:
        raise errors.access_denied("Cannot call GetSessionToken with session credentials")
    if params.get("SerialNumber") is not None or params.get("TokenCode") is not None:
        raise errors.mfa_not_supported(params.get("SerialNumber"))
    ctx.needs_no_permission()  # an authentication operation: AWS lets no policy control it
    duration = params.get("DurationSeconds") or DEFAULT_DURATION
    if principal.is_root:
        duration = min(duration, ROOT_MAX_DURATION)
    credentials = issue_credentials(
        ctx.conn,
        ctx.secrets,
        account=ctx.account,
        kind=sessions.SESSION_TOKEN,
        duration_seconds=duration,
        user_id=principal.entity_id,
    )
    return {"Credentials": credentials.shape()}
