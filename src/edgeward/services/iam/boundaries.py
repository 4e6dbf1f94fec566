"""Permissions boundaries. PLACEHOLDER until the IAM-policies work lands: the signature is the contract."""

from __future__ import annotations

from edgeward.services.context import Context


def check_boundary_arn(ctx: Context, policy_arn: str) -> None:
    """Raise the IAM error AWS gives when `policy_arn` cannot serve as a permissions boundary."""
    return None
