"""Running the policy simulator: the same engine the authorizer uses, once per (action, resource), shaped
into IAM's `EvaluationResult`s.

Only the context keys the caller passes in `ContextEntries` are known to a simulation (as in AWS); keys the
matching statements refer to but that were not given are reported in `MissingContextValues`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from edgeward.policy import Caller, ContextValue, Decision, Effect, MatchedStatement, Policy, Request, evaluate
from edgeward.services.iam.paging import page_args
from edgeward.services.iam.positions import Span, statement_spans
from edgeward.services.iam.principal_policies import SourcedPolicy


@dataclass(frozen=True, slots=True)
class Simulation:
    caller: Caller
    identity: Sequence[SourcedPolicy]
    boundary: Sequence[SourcedPolicy] | None
    resource_policy: SourcedPolicy | None = None
    resource_account: str | None = None


def context_entries(entries: Iterable[Mapping[str, Any]] | None) -> dict[str, ContextValue]:
    """`ContextEntries` as condition keys: `...List` types are multivalued, the others take one value."""
    context: dict[str, ContextValue] = {}
    for entry in entries or ():
        name = entry.get("ContextKeyName")
        if not name:
            continue
        values = [str(v) for v in entry.get("ContextKeyValues") or []]
        kind = str(entry.get("ContextKeyType") or "string")
        context[name] = values if kind.endswith("List") or len(values) != 1 else values[0]
    return context


def _spans(simulation: Simulation) -> dict[str, tuple[Span, ...]]:
    sources = [*simulation.identity, *(simulation.boundary or ())]
    if simulation.resource_policy is not None:
        sources.append(simulation.resource_policy)
    return {p.policy.source_id: statement_spans(p.text) for p in sources}


def _statement(matched: MatchedStatement, spans: Mapping[str, tuple[Span, ...]]) -> dict[str, Any]:
    shape: dict[str, Any] = {"SourcePolicyId": matched.source_id, "SourcePolicyType": matched.source_type}
    found = spans.get(matched.source_id, ())
    if matched.index < len(found):
        (start_line, start_col), (end_line, end_col) = found[matched.index]
        shape["StartPosition"] = {"Line": start_line, "Column": start_col}
        shape["EndPosition"] = {"Line": end_line, "Column": end_col}
    return shape


def _matched(decision: Decision, spans: Mapping[str, tuple[Span, ...]]) -> list[dict[str, Any]]:
    """The statements behind the decision: the denying ones for an explicit deny, else the allowing ones."""
    wanted = Effect.DENY if decision.explicit_deny else Effect.ALLOW
    return [_statement(m, spans) for m in decision.matched if m.effect is wanted]


def _policies(found: Sequence[SourcedPolicy] | None) -> list[Policy] | None:
    return None if found is None else [p.policy for p in found]


def _details(simulation: Simulation, request: Request) -> dict[str, str]:
    """`EvalDecisionDetails` (with a resource policy): the identity side and the resource side alone."""
    same_account = Request(request.caller, request.action, request.resource, request.context)
    identity_only = evaluate(
        same_account, _policies(simulation.identity) or [], boundary=_policies(simulation.boundary)
    )
    assert simulation.resource_policy is not None
    resource_only = evaluate(same_account, (), resource_policy=simulation.resource_policy.policy)
    return {"IAM Policy": identity_only.eval_decision, "Resource Policy": resource_only.eval_decision}


def _result(
    simulation: Simulation,
    action: str,
    resource: str,
    context: Mapping[str, ContextValue],
    spans: Any,
    per_resource: bool,
) -> dict[str, Any]:
    request = Request(simulation.caller, action, resource, context, resource_account=simulation.resource_account)
    decision = evaluate(
        request,
        _policies(simulation.identity) or [],
        boundary=_policies(simulation.boundary),
        resource_policy=None if simulation.resource_policy is None else simulation.resource_policy.policy,
    )
    common: dict[str, Any] = {
        "MatchedStatements": _matched(decision, spans),
        "MissingContextValues": list(decision.missing_context_keys),
    }
    if simulation.resource_policy is not None:
        common["EvalDecisionDetails"] = _details(simulation, request)
    if decision.boundary_allowed is not None:
        common["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": decision.boundary_allowed}
    result: dict[str, Any] = {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": decision.eval_decision,
        **common,
    }
    if per_resource:
        result["ResourceSpecificResults"] = [
            {"EvalResourceName": resource, "EvalResourceDecision": decision.eval_decision, **common}
        ]
    return result


def run(simulation: Simulation, params: Mapping[str, Any]) -> dict[str, Any]:
    """SimulatePrincipalPolicy's / SimulateCustomPolicy's output for `ActionNames` x `ResourceArns`."""
    resource_arns = list(params.get("ResourceArns") or [])
    context = context_entries(params.get("ContextEntries"))
    spans = _spans(simulation)
    results = [
        _result(simulation, action, resource, context, spans, bool(resource_arns))
        for action in params["ActionNames"]
        for resource in resource_arns or ["*"]
    ]
    marker, max_items = page_args(dict(params))
    start = int(marker) if marker and marker.isdigit() else 0
    chosen = results[start : start + max_items]
    output: dict[str, Any] = {"EvaluationResults": chosen, "IsTruncated": start + max_items < len(results)}
    if output["IsTruncated"]:
        output["Marker"] = str(start + max_items)
    return output
