"""The authorizer every handler calls through `ctx.authorize`: IAM policy evaluation for the caller.

Per request: one query loads the caller's policies (`principal_policies.load_for_principal`: user inline +
attached + its groups', or the role's for a role session; the permissions boundary; session policies);
documents are compiled once per text. The root user is allowed everything (the engine documents why).
Every decision, allowed or denied, goes to the decision log; denials raise AccessDenied in AWS's words.

Also here: `check_pass_role` (the `iam:PassRole` permission services check when handed a role ARN) and
`authorize_with` (evaluation with a resource-based policy or a resource in another account).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from edgeward.core import arn as arns
from edgeward.core import clock
from edgeward.core.principal import Principal
from edgeward.policy import (
    Caller,
    ContextValue,
    Decision,
    Policy,
    Request,
    denial_message,
    evaluate,
    principal_keys,
    request_keys,
)
from edgeward.services import decisions
from edgeward.services.context import Context
from edgeward.services.errors import access_denied
from edgeward.services.iam import errors as iam_errors
from edgeward.services.iam.principal_policies import PolicySet, load_for_principal
from edgeward.services.policy_cache import IDENTITY_POLICIES
from edgeward.storage.repos import roles as role_repo

PASS_ROLE = "iam:PassRole"


_LOADED = "authorization.policies"


def load_policies(ctx: Context) -> PolicySet:
    """The caller's policies, loaded once per request (authorization precedes every effect, so a second
    check in the same request sees the same policies).

    The one loading function: a cross-request cache may wrap `load_for_principal`, keyed on the principal's
    (kind, entity_id, boundary_arn, session_policy, session_policy_arns) and invalidated on IAM changes.
    """
    found = ctx.extras.get(_LOADED)
    if not isinstance(found, PolicySet):
        principal = ctx.principal
        key = (
            principal.kind,
            principal.entity_id,
            principal.boundary_arn,
            principal.session_policy,
            principal.session_policy_arns,
        )
        found = ctx.extras[_LOADED] = IDENTITY_POLICIES.get(
            key, lambda: load_for_principal(ctx.conn, principal), ctx.conn
        )
    return found


def authorize(ctx: Context, action: str, resource: str, condition: Mapping[str, Any]) -> None:
    """Allow or raise AccessDenied in AWS's words (spec 4.3). The account root is allowed everything."""
    _conclude(ctx, action, resource, _decide(ctx, action, resource, condition))


def identity_policies(ctx: Context) -> list[Policy]:
    """The identity-based policies of the caller (user + groups, or the session's role); empty for root."""
    if ctx.principal.is_root:
        return []
    return load_policies(ctx).identity_policies


def authorize_with(
    ctx: Context,
    action: str,
    resource: str,
    *,
    condition: Mapping[str, Any] | None = None,
    resource_policy: Policy | None = None,
    resource_account: str | None = None,
) -> None:
    """`authorize` with a resource-based policy (bucket policy, ...) and/or the account owning the
    resource: across accounts both sides must allow (spec 4.4). Marks the request authorized."""
    principal = ctx.principal
    request = Request(
        _caller(principal),
        action,
        resource,
        request_context(ctx, resource, condition or {}),
        resource_account=resource_account,
    )
    policies = PolicySet() if principal.is_root else load_policies(ctx)
    decision = evaluate(
        request,
        policies.identity_policies,
        boundary=policies.boundary_policies,
        session=policies.session_policies,
        resource_policy=resource_policy,
    )
    _conclude(ctx, action, resource, decision)
    ctx.authorized = True


def authorize_own_device(ctx: Context, action: str, resource: str, *, own: Callable[[], bool], why: str) -> None:
    """IAM decides; where it is silent (no statement allows, none denies), a device acting for itself with the
    credentials the credentials provider issued for its own IoT thing is allowed too (`own()` says whether it
    is). An explicit Deny still wins. Seed 001's fleet role grants only S3, yet its device sends heartbeats."""
    decision = _decide(ctx, action, resource, {})
    if not decision.allowed and not decision.explicit_deny and own():
        decisions.record(ctx, action, resource, replace(decision, allowed=True, decided_by=None, matched=()), why)
    else:
        _conclude(ctx, action, resource, decision)
    ctx.authorized = True


def check_pass_role(ctx: Context, role_arn: str, service_principal: str) -> None:
    """May the caller hand `role_arn` to `service_principal` (e.g. `sagemaker.amazonaws.com`)?

    Authorizes `iam:PassRole` on the role ARN with `iam:PassedToService`; a role of another account can
    never be passed (AccessDenied); a role that does not exist answers NoSuchEntity. Raises, or returns.
    """
    condition = {"iam:PassedToService": service_principal}
    owner = _arn_account(role_arn)
    if owner is not None and owner != ctx.account:
        authorize_with(ctx, PASS_ROLE, role_arn, condition=condition, resource_account=owner)
        raise access_denied(ctx.service, _pass_role_refusal(ctx.principal, role_arn))  # even if allowed
    ctx.authorize(PASS_ROLE, role_arn, condition)
    if role_repo.get_role_by_arn(ctx.conn, ctx.account, role_arn) is None:
        name = role_arn.rsplit("/", 1)[-1]
        raise iam_errors.no_such_entity(f"The role with name {name} cannot be found.")


def request_context(ctx: Context, resource: str, condition: Mapping[str, Any]) -> dict[str, ContextValue]:
    """The condition keys of this request: the caller's, the request's, then the handler's own."""
    principal = ctx.principal
    keys = principal_keys(principal, parent_arn=principal.parent_arn)
    keys.update(_request_keys(ctx.secure, ctx.source_ip or None, principal.token_issued_at))
    keys["aws:RequestedRegion"] = ctx.region
    if principal.is_session:  # present only for temporary credentials, as in AWS
        keys["aws:MultiFactorAuthPresent"] = "true" if principal.mfa else "false"
    account = _arn_account(resource)
    if account:
        keys["aws:ResourceAccount"] = account
    keys.update(principal.session_context)
    keys.update(condition)
    return keys


_RequestKeysKey = tuple[bool, str | None, datetime | None]
_request_keys_of: tuple[int, dict[_RequestKeysKey, dict[str, ContextValue]]] = (-1, {})


def _request_keys(secure: bool, source_ip: str | None, token_issued_at: datetime | None) -> dict[str, ContextValue]:
    """`request_keys` for now. Its time keys change once a second and every request of that second from the
    same address asks for the same keys, so they are built once per second per (transport, address, token
    issue time) rather than formatting the time again for each request."""
    global _request_keys_of
    second = int(clock.epoch())
    built_in, known = _request_keys_of
    if built_in != second:
        known = {}
        _request_keys_of = (second, known)
    key = (secure, source_ip, token_issued_at)
    found = known.get(key)
    if found is None:
        found = known[key] = request_keys(
            now=clock.from_epoch(second),
            secure_transport=secure,
            source_ip=source_ip,
            token_issue_time=token_issued_at,
        )
    return found


def shown_resource(action: str, resource: str) -> str:
    """How a denial names the resource: IAM prints a managed policy as `policy <arn>`."""
    if action[:4].lower() == "iam:" and ":policy/" in resource and not resource.endswith(":policy/"):
        return f"policy {resource}"
    return resource


def _decide(ctx: Context, action: str, resource: str, condition: Mapping[str, Any]) -> Decision:
    principal = ctx.principal
    if principal.is_root:
        return evaluate(Request(_caller(principal), action, resource))
    policies = load_policies(ctx)
    request = Request(_caller(principal), action, resource, request_context(ctx, resource, condition))
    return evaluate(
        request,
        policies.identity_policies,
        boundary=policies.boundary_policies,
        session=policies.session_policies,
    )


def _conclude(ctx: Context, action: str, resource: str, decision: Decision) -> None:
    """Log the decision; raise the service's AccessDenied when it is a denial."""
    if decision.allowed:
        decisions.record(ctx, action, resource, decision, "")
        return
    message = denial_message(ctx.principal.arn, action, shown_resource(action, resource), decision)
    decisions.record(ctx, action, resource, decision, message)
    raise access_denied(ctx.service, message)


def _caller(principal: Principal) -> Caller:
    return Caller.of(principal, parent_arn=principal.parent_arn)


def _arn_account(resource: str) -> str | None:
    if not resource.startswith("arn:"):
        return None
    try:
        return arns.Arn.parse(resource).account or None
    except ValueError:
        return None


def _pass_role_refusal(principal: Principal, role_arn: str) -> str:
    return (
        f"User: {principal.arn} is not authorized to perform: {PASS_ROLE} on resource: {role_arn} "
        f"because no resource-based policy allows the {PASS_ROLE} action"
    )
