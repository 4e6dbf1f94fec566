"""IAM names, paths and ARNs."""

from __future__ import annotations

from edgeward.core import arn as arns


def entity_arn(account: str, kind: str, path: str, name: str) -> str:
    """`arn:aws:iam::123456789012:user/division/name` for path `/division/`."""
    return arns.iam_entity(account, kind, path, name)
