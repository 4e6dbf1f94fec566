"""IoT policy attachments: AttachPolicy, DetachPolicy, ListAttachedPolicies, ListTargetsForPolicy,
GetEffectivePolicies, and the legacy principal forms (AttachPrincipalPolicy, DetachPrincipalPolicy,
ListPrincipalPolicies, ListPolicyPrincipals).

A target is a certificate ARN or a thing-group ARN of the caller's account. Attaching is authorized on the
target (IoT's resource types for these actions are `cert` and `thinggroup`); listing a policy's targets on
the policy.
"""

from __future__ import annotations

from typing import Any

from edgeward.services.context import Context, Handler
from edgeward.services.iot import errors
from edgeward.services.iot.policies import summary
from edgeward.services.iot.policies_common import page_request, paged, policy_target
from edgeward.services.iot.policy_eval import effective_iot_documents
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import iot_policies as repo
from edgeward.storage.repos import iot_thing_groups as thing_groups
from edgeward.storage.repos import iot_things
from edgeward.storage.repos.iot_policies import IotPolicy
from edgeward.storage.tables_iot_policies import MAX_POLICIES_PER_TARGET


def _policy(ctx: Context, name: str, *, lock: bool = False) -> IotPolicy:
    policy = repo.get_policy(ctx.conn, ctx.account, name, lock=lock)
    if policy is None:
        raise errors.not_found(f"The policy {name} does not exist.")
    return policy


def _attach(ctx: Context, action: str, name: str, target: str) -> dict[str, Any]:
    ctx.authorize(action, policy_target(ctx, target))
    policy = _policy(ctx, name, lock=True)
    try:
        repo.attach(ctx.conn, ctx.account, policy, target)
    except storage_errors.QuotaExceeded:
        raise errors.limit_exceeded(
            f"The target {target} already has the maximum number of policies attached ({MAX_POLICIES_PER_TARGET})"
        ) from None
    except storage_errors.NotFound:
        raise errors.not_found(f"The policy {name} does not exist.") from None
    return {}


def _detach(ctx: Context, action: str, name: str, target: str) -> dict[str, Any]:
    ctx.authorize(action, policy_target(ctx, target))
    repo.detach(ctx.conn, _policy(ctx, name), target)  # detaching what is not attached changes nothing
    return {}


def _attached(ctx: Context, action: str, target: str, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize(action, policy_target(ctx, target))
    after, size, ascending = page_request(params)
    target_arns = [target, *_ancestor_group_arns(ctx, target)] if params.get("recursive") else [target]
    found = repo.policies_of_targets(
        ctx.conn, ctx.account, target_arns, after=after, limit=size + 1, ascending=ascending
    )
    return paged("policies", [summary(p) for p in found], size, found[size - 1].name if len(found) > size else None)


def _ancestor_group_arns(ctx: Context, target: str) -> list[str]:
    """For a thing group, the ARNs of its parent groups (their policies apply to it too); [] otherwise."""
    _, _, resource = target.partition(":thinggroup/")
    group = thing_groups.get_thing_group(ctx.conn, ctx.account, resource) if resource else None
    return [ancestor.arn for ancestor in thing_groups.ancestors(ctx.conn, group)] if group else []


def _targets(ctx: Context, action: str, key: str, name: str, params: dict[str, Any]) -> dict[str, Any]:
    policy = repo.get_policy(ctx.conn, ctx.account, name)
    ctx.authorize(action, policy.arn if policy else ctx.arn("iot", f"policy/{name}"))
    if policy is None:
        raise errors.not_found(f"The policy {name} does not exist.")
    after, size, _ = page_request(params)
    found = repo.targets_of_policy(ctx.conn, policy, after=after, limit=size + 1)
    return paged(key, found, size, found[size - 1] if len(found) > size else None)


def attach_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _attach(ctx, "iot:AttachPolicy", params["policyName"], params["target"])


def detach_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _detach(ctx, "iot:DetachPolicy", params["policyName"], params["target"])


def list_attached_policies(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _attached(ctx, "iot:ListAttachedPolicies", params["target"], params)


def list_targets_for_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _targets(ctx, "iot:ListTargetsForPolicy", "targets", params["policyName"], params)


def attach_principal_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _attach(ctx, "iot:AttachPrincipalPolicy", params["policyName"], params["principal"])


def detach_principal_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _detach(ctx, "iot:DetachPrincipalPolicy", params["policyName"], params["principal"])


def list_principal_policies(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _attached(ctx, "iot:ListPrincipalPolicies", params["principal"], params)


def list_policy_principals(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _targets(ctx, "iot:ListPolicyPrincipals", "principals", params["policyName"], params)


def get_effective_policies(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    principal = params.get("principal")
    if not principal:
        raise errors.invalid_request("A principal (a certificate ARN) is required.")
    ctx.authorize("iot:GetEffectivePolicies", policy_target(ctx, principal))
    thing_name = params.get("thingName")
    if thing_name and iot_things.get_thing(ctx.conn, ctx.account, thing_name) is None:
        raise errors.not_found(f"Thing {thing_name} cannot be found.")
    found = effective_iot_documents(ctx.conn, ctx.account, principal, thing_name)
    return {
        "effectivePolicies": [{"policyName": p.name, "policyArn": p.arn, "policyDocument": p.document} for p in found]
    }


OPERATIONS: dict[str, Handler] = {
    "AttachPolicy": attach_policy,
    "DetachPolicy": detach_policy,
    "ListAttachedPolicies": list_attached_policies,
    "ListTargetsForPolicy": list_targets_for_policy,
    "GetEffectivePolicies": get_effective_policies,
    "AttachPrincipalPolicy": attach_principal_policy,
    "DetachPrincipalPolicy": detach_principal_policy,
    "ListPrincipalPolicies": list_principal_policies,
    "ListPolicyPrincipals": list_policy_principals,
}
