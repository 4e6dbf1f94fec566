"""Whether the caller may assume a role: the role's trust policy, evaluated as a resource-based policy.

Within the account (spec 4.4): a trust policy naming the caller itself (user or session ARN) grants on its
own; naming the role behind the calling session grants but stays bounded by that session's policies and
its permissions boundary; naming only the account (root) needs an identity-based Allow as well. A trust
policy that does not name the caller denies whatever the identity policies say, worded
`... because no role trust policy allows the sts:AssumeRole action`. The authorizer's `authorize_with` does
the evaluation (caller's identity, boundary and session policies), logs the decision and words the denial.

Passing session tags also needs `sts:TagSession`, setting a source identity `sts:SetSourceIdentity`, each
checked against the same policies.
"""

from __future__ import annotations

from collections.abc import Mapping

from edgeward.policy import ContextValue, PolicyError, PolicyKind, cached_policy
from edgeward.services.authorization import authorize_with
from edgeward.services.context import Context
from edgeward.services.sts import errors
from edgeward.storage.repos.roles import RoleRecord

ASSUME_ROLE = "sts:AssumeRole"
TAG_SESSION = "sts:TagSession"
SET_SOURCE_IDENTITY = "sts:SetSourceIdentity"


def authorize_assume(
    ctx: Context, role: RoleRecord, condition: Mapping[str, ContextValue], actions: tuple[str, ...]
) -> None:
    """Raise AccessDenied in AWS's words unless every action in `actions` is allowed on the role.

    Marks the request authorized when they all are.
    """
    try:
        trust = cached_policy(role.trust_policy, PolicyKind.TRUST)
    except PolicyError:  # stored documents were validated on write; an unreadable one trusts nobody
        raise errors.access_denied(
            f"User: {ctx.principal.arn} is not authorized to perform: {ASSUME_ROLE} on resource: {role.arn} "
            f"because no role trust policy allows the {ASSUME_ROLE} action"
        ) from None
    keys = {**_role_keys(role), **condition}
    for action in actions:
        authorize_with(ctx, action, role.arn, condition=keys, resource_policy=trust)


def _role_keys(role: RoleRecord) -> dict[str, ContextValue]:
    keys: dict[str, ContextValue] = {}
    for key, value in role.tags.items():
        keys[f"aws:ResourceTag/{key}"] = value
        keys[f"iam:ResourceTag/{key}"] = value
    return keys
