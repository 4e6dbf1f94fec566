"""The authorization decision log. PLACEHOLDER until the decision-log work lands: the signature is the contract."""

from __future__ import annotations

from edgeward.policy import Decision
from edgeward.services.context import Context


def record(ctx: Context, action: str, resource: str, decision: Decision, message: str) -> None:
    """Note one authorization decision (allowed or denied) without slowing the request down."""
    return None
