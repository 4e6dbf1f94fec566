"""The policy simulator: SimulatePrincipalPolicy, SimulateCustomPolicy, GetContextKeysForPrincipalPolicy,
GetContextKeysForCustomPolicy.

A principal simulation takes the policies of a user (with its groups'), group or role as the authorizer
would, plus any `PolicyInputList` documents, minus `PolicyExclusionList`; its permissions boundary, unless
`PermissionsBoundaryPolicyInputList` replaces it. Documents given as input are named `PolicyInputList.<n>`,
`PermissionsBoundaryPolicyInputList.<n>` and `ResourcePolicy` in the results, as in AWS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from edgeward.core import arn as arns
from edgeward.core.errors import ServiceError
from edgeward.policy import Caller, CallerKind, ConditionContext, PolicyError, PolicyKind, parse_policy
from edgeward.policy.evaluate import missing_keys
from edgeward.services.context import Context, Handler
from edgeward.services.iam import errors, owners
from edgeward.services.iam.owners import Owner
from edgeward.services.iam.principal_policies import (
    IAM_POLICY,
    RESOURCE_POLICY,
    PolicySet,
    SourcedPolicy,
    load_for_owner,
)
from edgeward.services.iam.simulation import Simulation, run


def _inputs(texts: Iterable[str] | None, label: str, kind: PolicyKind = PolicyKind.IDENTITY) -> list[SourcedPolicy]:
    """Documents passed in the request; a malformed one is InvalidInput (the simulator's error), worded as IAM
    words MalformedPolicyDocument."""
    found: list[SourcedPolicy] = []
    for number, text in enumerate(texts or (), start=1):
        source = label if label == "ResourcePolicy" else f"{label}.{number}"
        try:
            policy = parse_policy(text, kind).with_source(
                source, RESOURCE_POLICY if kind is PolicyKind.RESOURCE else IAM_POLICY
            )
        except PolicyError as exc:
            raise errors.invalid_input(exc.message) from None
        found.append(SourcedPolicy(policy, text, "input", source))
    return found


def _excluded(policy: SourcedPolicy, exclusions: Sequence[Mapping[str, Any]]) -> bool:
    """`PolicyExclusionList` entries name one of: a policy type, a managed policy ARN, an inline policy."""
    for rule in exclusions:
        inline = rule.get("InlinePolicyIdentifier")
        if rule.get("PolicyType") == policy.kind or (rule.get("PolicyArn") and rule.get("PolicyArn") == policy.arn):
            return True
        if (
            inline
            and policy.kind == "inline"
            and (
                policy.name == inline.get("PolicyName")
                and policy.owner_type == inline.get("AttachmentType")
                and policy.owner_name.lower() == str(inline.get("AttachmentName", "")).lower()
            )
        ):
            return True
    return False


def _boundary_excluded(boundary: Sequence[SourcedPolicy], exclusions: Sequence[Mapping[str, Any]]) -> bool:
    arns_ = {p.arn for p in boundary if p.arn}
    return any(rule.get("PolicyType") == "permission-boundary" or rule.get("PolicyArn") in arns_ for rule in exclusions)


def _source_owner(ctx: Context, source_arn: str, action: str) -> Owner:
    owner = owners.by_arn(ctx.conn, ctx.account, source_arn)
    ctx.authorize(action, source_arn)
    if owner is None:
        raise _missing_source(source_arn)
    return owner


def _missing_source(source_arn: str) -> ServiceError:
    try:
        parsed = arns.Arn.parse(source_arn)
    except ValueError:
        return errors.invalid_input(f"ARN {source_arn} is not valid.")
    kind, _, rest = parsed.resource.partition("/")
    if parsed.service != "iam" or kind not in owners.KINDS or not rest:
        return errors.invalid_input(f"ARN {source_arn} is not valid.")
    return owners.missing(kind, rest.rsplit("/", 1)[-1])


def _owner_policies(ctx: Context, owner: Owner) -> PolicySet:
    return load_for_owner(ctx.conn, owner.kind, owner.id, owner.name, owner.boundary)


def _caller(ctx: Context, params: Mapping[str, Any], owner: Owner | None) -> Caller:
    """The simulated caller: `CallerArn`, else the user given as source (never the root: root skips policies)."""
    caller_arn = params.get("CallerArn")
    if caller_arn:
        account = caller_arn.split(":")[4] if caller_arn.count(":") >= 5 else ctx.account
        return Caller(CallerKind.USER, caller_arn, account)
    if params.get("ResourcePolicy") and (owner is None or owner.kind != "user"):
        raise errors.invalid_input(
            "CallerArn is required when a ResourcePolicy is given and PolicySourceArn is not an IAM user."
        )
    if owner is not None:
        return Caller(
            CallerKind.USER, owner.arn, ctx.account, unique_id=owner.unique_id if owner.kind == "user" else None
        )
    return Caller(CallerKind.USER, arns.iam(ctx.account, "user/simulated"), ctx.account)


def _resource_side(ctx: Context, params: Mapping[str, Any], caller: Caller) -> tuple[SourcedPolicy | None, str]:
    text = params.get("ResourcePolicy")
    resource_policy = _inputs([text], "ResourcePolicy", PolicyKind.RESOURCE)[0] if text else None
    owner_arn = params.get("ResourceOwner")
    account = owner_arn.split(":")[4] if owner_arn and owner_arn.count(":") >= 5 else caller.account or ctx.account
    return resource_policy, account


def simulate_principal_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    owner = _source_owner(ctx, params["PolicySourceArn"], "iam:SimulatePrincipalPolicy")
    loaded = _owner_policies(ctx, owner)
    exclusions = list(params.get("PolicyExclusionList") or [])
    identity = [p for p in loaded.identity if not _excluded(p, exclusions)]
    identity += _inputs(params.get("PolicyInputList"), "PolicyInputList")
    boundary: list[SourcedPolicy] | None = list(loaded.boundary) if loaded.boundary is not None else None
    if boundary is not None and _boundary_excluded(boundary, exclusions):
        boundary = None
    if params.get("PermissionsBoundaryPolicyInputList"):
        boundary = _inputs(params["PermissionsBoundaryPolicyInputList"], "PermissionsBoundaryPolicyInputList")
    caller = _caller(ctx, params, owner)
    resource_policy, account = _resource_side(ctx, params, caller)
    return run(Simulation(caller, identity, boundary, resource_policy, account), params)


def simulate_custom_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:SimulateCustomPolicy", "*")
    identity = _inputs(params["PolicyInputList"], "PolicyInputList")
    boundary = None
    if params.get("PermissionsBoundaryPolicyInputList"):
        boundary = _inputs(params["PermissionsBoundaryPolicyInputList"], "PermissionsBoundaryPolicyInputList")
    caller = _caller(ctx, params, None)
    resource_policy, account = _resource_side(ctx, params, caller)
    return run(Simulation(caller, identity, boundary, resource_policy, account), params)


def _context_keys(policies: Iterable[SourcedPolicy]) -> list[str]:
    found: dict[str, str] = {}
    empty = ConditionContext()
    for sourced in policies:
        for key in missing_keys(sourced.policy.statements, empty):
            found.setdefault(key.lower(), key)
    return list(found.values())


def get_context_keys_for_principal_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    owner = _source_owner(ctx, params["PolicySourceArn"], "iam:GetContextKeysForPrincipalPolicy")
    loaded = _owner_policies(ctx, owner)
    extra = _inputs(params.get("PolicyInputList"), "PolicyInputList")
    return {"ContextKeyNames": _context_keys([*loaded.identity, *extra])}


def get_context_keys_for_custom_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iam:GetContextKeysForCustomPolicy", "*")
    return {"ContextKeyNames": _context_keys(_inputs(params["PolicyInputList"], "PolicyInputList"))}


OPERATIONS: dict[str, Handler] = {
    "SimulatePrincipalPolicy": simulate_principal_policy,
    "SimulateCustomPolicy": simulate_custom_policy,
    "GetContextKeysForPrincipalPolicy": get_context_keys_for_principal_policy,
    "GetContextKeysForCustomPolicy": get_context_keys_for_custom_policy,
}
