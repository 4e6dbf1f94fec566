"""The account password policy: GetAccountPasswordPolicy, UpdateAccountPasswordPolicy,
DeleteAccountPasswordPolicy, and the check every new console password goes through.

Without a custom policy IAM applies its default one: at least 8 characters, and at least three of
uppercase letters, lowercase letters, numbers and symbols.
"""

from __future__ import annotations

import string
from typing import Any

from edgeward.core.errors import ServiceError
from edgeward.services.context import Context
from edgeward.services.iam import errors
from edgeward.storage.repos import login_profiles as profile_repo
from edgeward.storage.repos import password_policy as policy_repo

# The characters IAM counts as symbols ("nonalphanumeric characters") in passwords.
SYMBOLS = frozenset("!@#$%^&*()_+-=[]{}|'")
VIOLATION = "Password does not conform to the account password policy."
DEFAULT_MINIMUM_LENGTH = 6  # what UpdateAccountPasswordPolicy sets when MinimumPasswordLength is left out
_FLAGS = (
    "RequireSymbols",
    "RequireNumbers",
    "RequireUppercaseCharacters",
    "RequireLowercaseCharacters",
    "AllowUsersToChangePassword",
)


def password_policy_violation() -> ServiceError:
    return ServiceError("PasswordPolicyViolation", VIOLATION, 400)


def _no_policy(ctx: Context) -> ServiceError:
    return errors.no_such_entity(f"The Password Policy with domain name {ctx.account} cannot be found.")


def get_account_password_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:GetAccountPasswordPolicy", "*")
    policy = policy_repo.get_password_policy(ctx.conn, ctx.account)
    if policy is None:
        raise _no_policy(ctx)
    return {"PasswordPolicy": policy}


def update_account_password_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Replaces the whole policy: anything left out goes back to its default, as in IAM."""
    ctx.authorize("iam:UpdateAccountPasswordPolicy", "*")
    policy: dict[str, Any] = {"MinimumPasswordLength": params.get("MinimumPasswordLength", DEFAULT_MINIMUM_LENGTH)}
    for flag in _FLAGS:
        policy[flag] = bool(params.get(flag, False))
    max_age = int(params.get("MaxPasswordAge") or 0)
    policy["ExpirePasswords"] = max_age > 0
    if max_age:
        policy["MaxPasswordAge"] = max_age
    if params.get("PasswordReusePrevention"):
        policy["PasswordReusePrevention"] = int(params["PasswordReusePrevention"])
    if params.get("HardExpiry") is not None:
        policy["HardExpiry"] = bool(params["HardExpiry"])
    policy_repo.put_password_policy(ctx.conn, ctx.account, policy)
    return {}


def delete_account_password_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:DeleteAccountPasswordPolicy", "*")
    if not policy_repo.delete_password_policy(ctx.conn, ctx.account):
        raise _no_policy(ctx)
    return {}


def check_password(ctx: Context, password: str, user_id: int | None = None) -> None:
    """Raise PasswordPolicyViolation unless `password` meets the account's policy (or IAM's default one).

    With `user_id`, the policy's PasswordReusePrevention is checked against that user's earlier passwords.
    """
    policy = policy_repo.get_password_policy(ctx.conn, ctx.account)
    if not (meets_policy(policy, password) if policy is not None else meets_default_policy(password)):
        raise password_policy_violation()
    reuse = int(policy.get("PasswordReusePrevention") or 0) if policy else 0
    if user_id is not None and reuse and profile_repo.was_used_before(ctx.conn, user_id, password, reuse):
        raise password_policy_violation()


def meets_policy(policy: dict[str, Any], password: str) -> bool:
    kinds = _kinds(password)
    required = (
        ("RequireSymbols", "symbol"),
        ("RequireNumbers", "number"),
        ("RequireUppercaseCharacters", "upper"),
        ("RequireLowercaseCharacters", "lower"),
    )
    if any(policy.get(flag) and kind not in kinds for flag, kind in required):
        return False
    return len(password) >= int(policy.get("MinimumPasswordLength") or DEFAULT_MINIMUM_LENGTH)


def meets_default_policy(password: str) -> bool:
    return len(password) >= 8 and len(_kinds(password)) >= 3


def _kinds(password: str) -> set[str]:
    kinds: set[str] = set()
    for char in password:
        if char in string.ascii_uppercase:
            kinds.add("upper")
        elif char in string.ascii_lowercase:
            kinds.add("lower")
        elif char in string.digits:
            kinds.add("number")
        elif char in SYMBOLS:
            kinds.add("symbol")
    return kinds
