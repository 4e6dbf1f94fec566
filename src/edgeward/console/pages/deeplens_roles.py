"""The five IAM roles DeepLens registration asks for (seed 000, step "Set permissions"): what each must trust and
carry, creating a missing one in one click, and checking a chosen one before the user may go on."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from edgeward.console.calls import Caller
from edgeward.core.errors import ServiceError
from edgeward.services.deeplens.roles import ROLE_SPECS, RoleSpec, expected_trust_policy


@dataclass(frozen=True)
class DeepLensRole:
    spec: RoleSpec  # registration's own description of the role: the one source of truth

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def field(self) -> str:
        """Form field and query parameter carrying the chosen role name."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.spec.kind).lower()

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def service(self) -> str:
        return ", ".join(self.spec.services)

    @property
    def policy_arn(self) -> str:
        return self.spec.managed_policy

    @property
    def policy_name(self) -> str:
        return self.policy_arn.rsplit("/", 1)[-1]


ROLES: tuple[DeepLensRole, ...] = tuple(DeepLensRole(spec) for spec in ROLE_SPECS)
BY_FIELD = {role.field: role for role in ROLES}


def create(caller: Caller, role: DeepLensRole) -> None:
    """ "Create role in IAM": the role with its trusted service(s) and managed policy, as the signed-in user."""
    document = expected_trust_policy(role.spec)
    caller.call("iam", "CreateRole", {"RoleName": role.name, "AssumeRolePolicyDocument": document})
    caller.call("iam", "AttachRolePolicy", {"RoleName": role.name, "PolicyArn": role.policy_arn})


def default_choice(role: DeepLensRole, names: Iterable[str]) -> str:
    """The account's role of the expected name, if any (IAM role names are unique case-insensitively)."""
    wanted = role.name.lower()
    return next((name for name in names if name.lower() == wanted), "")


def choices(role_names: Iterable[str], chosen: Mapping[str, str]) -> dict[str, str]:
    """The role chosen for each selector: what the user chose, else the expected role if the account has it."""
    names = list(role_names)
    return {role.field: chosen.get(role.field) or default_choice(role, names) for role in ROLES}


@dataclass(frozen=True)
class RoleCheck:
    arn: str
    problem: str  # why the role will not do; "" when it carries the expected trust and policy


def check(caller: Caller, role: DeepLensRole, role_name: str) -> RoleCheck:
    """Whether `role_name` will do for `role`: it must trust the role's service and carry its managed policy."""
    if not role_name:
        return RoleCheck("", f"Choose a role, or create {role.name} in IAM.")
    try:
        found = caller.call("iam", "GetRole", {"RoleName": role_name})["Role"]
        attached = caller.call("iam", "ListAttachedRolePolicies", {"RoleName": role_name, "MaxItems": 1000})
    except ServiceError as exc:
        return RoleCheck("", exc.message)
    arn = str(found["Arn"])
    document = str(found.get("AssumeRolePolicyDocument", ""))
    for service in role.spec.services:
        if not trusts(document, service):
            return RoleCheck(
                arn,
                f"Role {role_name} does not trust {service}: its trust policy must allow that service sts:AssumeRole.",
            )
    arns = {policy.get("PolicyArn") for policy in attached.get("AttachedPolicies", [])}
    if role.policy_arn not in arns:
        return RoleCheck(
            arn, f"Role {role_name} does not have the managed policy {role.policy_name} attached ({role.policy_arn})."
        )
    return RoleCheck(arn, "")


def trusts(document: str, service: str) -> bool:
    """Whether a trust policy allows `service` to assume the role (an Allow for sts:AssumeRole naming it)."""
    try:
        policy = json.loads(unquote(document))
    except ValueError:
        return False
    statements = policy.get("Statement", []) if isinstance(policy, dict) else []
    return any(_allows(statement, service) for statement in _as_list(statements))


def _allows(statement: Any, service: str) -> bool:
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
        return False
    actions = {str(action).lower() for action in _as_list(statement.get("Action"))}
    if not actions & {"sts:assumerole", "sts:*", "*"}:
        return False
    principal = statement.get("Principal")
    services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
    return service in services


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
