"""Names STS gives sessions: the assumed-role ARN and the AssumedRoleId."""

from __future__ import annotations

from edgeward.core import arn as arns


def assumed_role_arn(account: str, role_name: str, session_name: str) -> str:
    """`arn:aws:sts::<account>:assumed-role/<role name>/<session>`: the role's path is not part of it."""
    return arns.build("sts", "", account, f"assumed-role/{role_name}/{session_name}")


def assumed_role_id(role_unique_id: str, session_name: str) -> str:
    """`AROA...:<session>`: GetCallerIdentity's UserId and AssumedRoleUser.AssumedRoleId."""
    return f"{role_unique_id}:{session_name}"
