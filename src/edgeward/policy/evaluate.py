"""Policy evaluation for one request (spec 4.4) and AWS's AccessDenied wording (spec 4.3).

Order of evaluation:
1. any applicable explicit `Deny` (identity, resource/trust, boundary, session policy) denies;
2. a resource-based policy `Allow` naming the caller itself (user, session, service, `*`) grants on its own;
3. a role trust policy must allow the caller explicitly, whatever the identity policies say;
4. otherwise an identity-based `Allow` is needed — or a resource-based `Allow` naming the role behind the
   session (or the user behind a federated session), which stands in for it;
5. a permissions boundary, when set, must allow too; 6. so must the session policy, when there is one.

A resource-based policy naming only the account adds nothing within the account: the identity policies
must allow. Across accounts (`Request.resource_account` differs from the caller's) both sides must allow.

The root user is allowed everything by identity evaluation (it has no identity policies, boundary or
session policy), but an explicit `Deny` in a resource-based policy still denies it, and a trust policy
must still name it or its account. Callers that hold an exemption (S3 lets root always manage the
bucket policy) apply it themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from edgeward.policy.context import ConditionContext, ContextValue
from edgeward.policy.document import Effect, Policy, PolicyKind, Statement
from edgeward.policy.principals import Caller, CallerKind, Identity, Level

_ACCOUNT_CALLERS = frozenset({CallerKind.ROOT, CallerKind.USER, CallerKind.ASSUMED_ROLE, CallerKind.FEDERATED_USER})


class PolicyType(Enum):
    """The policy types a decision can name; the value is AWS's wording in implicit denials."""

    IDENTITY = "identity-based policy"
    RESOURCE = "resource-based policy"
    TRUST = "role trust policy"
    BOUNDARY = "permissions boundary"
    SESSION = "session policy"


_EXPLICIT = {
    PolicyType.IDENTITY: "an identity-based policy",
    PolicyType.RESOURCE: "a resource-based policy",
    PolicyType.TRUST: "the role trust policy",
    PolicyType.BOUNDARY: "a permissions boundary",
    PolicyType.SESSION: "a sessions policy",  # sic: AWS's own wording
}


class Request:
    """What is being asked: who, which action on which resource, and the condition keys."""

    __slots__ = ("action", "caller", "context", "folded_action", "resource", "resource_account")

    def __init__(
        self,
        caller: Caller,
        action: str,
        resource: str | None = None,
        context: Mapping[str, ContextValue] | ConditionContext | None = None,
        *,
        resource_account: str | None = None,
    ) -> None:
        self.caller = caller
        self.action = action
        self.resource = resource
        self.context = context if isinstance(context, ConditionContext) else ConditionContext(context)
        self.resource_account = resource_account
        self.folded_action = action.lower()

    @property
    def cross_account(self) -> bool:
        caller = self.caller
        if caller.kind not in _ACCOUNT_CALLERS or self.resource_account is None:
            return False
        return self.resource_account != caller.account


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    policy_type: PolicyType
    source_id: str
    source_type: str
    sid: str | None
    index: int
    effect: Effect


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    explicit_deny: bool
    decided_by: PolicyType | None  # the granting type, or the type a denial names; None: root
    matched: tuple[MatchedStatement, ...] = ()
    boundary_allowed: bool | None = None  # None when no permissions boundary applies
    candidates: tuple[Statement, ...] = field(default=(), repr=False, compare=False)
    context: ConditionContext | None = field(default=None, repr=False, compare=False)

    @property
    def eval_decision(self) -> str:
        """SimulatePrincipalPolicy's `EvalDecision`."""
        if self.allowed:
            return "allowed"
        return "explicitDeny" if self.explicit_deny else "implicitDeny"

    @property
    def missing_context_keys(self) -> tuple[str, ...]:
        """Keys that statements matching the action refer to but the request lacks (computed on demand)."""
        if self.context is None:
            return ()
        return missing_keys(self.candidates, self.context)


def missing_keys(statements: Sequence[Statement], context: ConditionContext) -> tuple[str, ...]:
    found: dict[str, str] = {}
    for statement in statements:
        if statement.resources is not None:
            for variable in statement.resources.variables:
                if variable.default is None and context.single(variable.folded) is None:
                    found.setdefault(variable.folded, variable.key)
        if statement.condition is not None:
            for key in statement.condition.missing(context):
                found.setdefault(key.lower(), key)
    return tuple(sorted(found.values()))


@dataclass(slots=True)
class _Scan:
    allow: Level = Level.NONE
    deny: bool = False


@dataclass(slots=True)
class _Scans:
    identity: _Scan
    resource: _Scan
    boundary: _Scan | None
    session: _Scan | None

    def explicit_deny(self, rtype: PolicyType) -> PolicyType | None:
        if self.identity.deny:
            return PolicyType.IDENTITY
        if self.resource.deny:
            return rtype
        if self.boundary is not None and self.boundary.deny:
            return PolicyType.BOUNDARY
        if self.session is not None and self.session.deny:
            return PolicyType.SESSION
        return None


def _matched(ptype: PolicyType, policy: Policy, statement: Statement) -> MatchedStatement:
    return MatchedStatement(
        ptype, policy.source_id, policy.source_type, statement.sid, statement.index, statement.effect
    )


class _Evaluation:
    __slots__ = ("candidates", "context", "matched", "request", "resource")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.context = request.context
        self.resource = request.resource or "*"
        self.matched: list[MatchedStatement] = []
        self.candidates: list[Statement] = []

    def _applies(self, statement: Statement, identities: Sequence[Identity] | None) -> Level:
        resources = statement.resources
        if resources is not None and not resources.matches(self.resource, self.context):
            return Level.NONE
        level = Level.DIRECT
        if identities is not None and statement.principals is not None:
            level = statement.principals.level(identities)
            if level is Level.NONE:
                return level
        condition = statement.condition
        if condition is not None and not condition.holds(self.context):
            return Level.NONE
        return level

    def scan(
        self, policies: Sequence[Policy], ptype: PolicyType, identities: Sequence[Identity] | None = None
    ) -> _Scan:
        result = _Scan()
        action = self.request.folded_action
        for policy in policies:
            statements = policy.for_action(action)
            self.candidates.extend(statements)
            for statement in statements:
                level = self._applies(statement, identities)
                if level is Level.NONE:
                    continue
                self.matched.append(_matched(ptype, policy, statement))
                if statement.effect is Effect.DENY:
                    result.deny = True
                elif level > result.allow:
                    result.allow = level
        return result

    def decide(self, allowed: bool, ptype: PolicyType | None, scans: _Scans, *, explicit: bool = False) -> Decision:
        boundary = None if scans.boundary is None else scans.boundary.allow is not Level.NONE
        return Decision(allowed, explicit, ptype, tuple(self.matched), boundary, tuple(self.candidates), self.context)


def _resource_type(policy: Policy | None) -> PolicyType:
    if policy is not None and policy.kind is PolicyKind.TRUST:
        return PolicyType.TRUST
    if policy is not None and policy.kind is not PolicyKind.RESOURCE:
        raise ValueError("a resource or trust policy is needed here, not an identity policy")
    return PolicyType.RESOURCE


def _decide_root(run: _Evaluation, scans: _Scans, rtype: PolicyType, trust_or_cross: bool) -> Decision:
    granted = scans.resource.allow is not Level.NONE
    if trust_or_cross and not granted:
        return run.decide(False, rtype, scans)
    return run.decide(True, rtype if granted else None, scans)


def _decide(run: _Evaluation, scans: _Scans, rtype: PolicyType, cross: bool) -> Decision:
    identity, resource = scans.identity.allow, scans.resource.allow
    if resource is Level.DIRECT and not cross:
        return run.decide(True, rtype, scans)
    if (rtype is PolicyType.TRUST or cross) and resource is Level.NONE:
        return run.decide(False, rtype, scans)
    if identity is Level.NONE and not (resource is Level.PARENT and not cross):
        return run.decide(False, PolicyType.IDENTITY, scans)
    if scans.boundary is not None and scans.boundary.allow is Level.NONE:
        return run.decide(False, PolicyType.BOUNDARY, scans)
    if scans.session is not None and scans.session.allow is Level.NONE:
        return run.decide(False, PolicyType.SESSION, scans)
    return run.decide(True, PolicyType.IDENTITY if identity is not Level.NONE else rtype, scans)


def evaluate(
    request: Request,
    identity: Sequence[Policy] = (),
    *,
    boundary: Sequence[Policy] | None = None,
    session: Sequence[Policy] | None = None,
    resource_policy: Policy | None = None,
) -> Decision:
    """Decide one request. `boundary`/`session` are None when the caller has none (not: an empty list).

    `identity` holds every identity-based policy of the caller: user inline + attached managed + those of
    its groups, or the role's inline + attached policies for a role session.
    """
    run = _Evaluation(request)
    rtype = _resource_type(resource_policy)
    root = request.caller.is_root
    scans = _Scans(
        _Scan() if root else run.scan(identity, PolicyType.IDENTITY),
        _Scan(),
        None if root or boundary is None else run.scan(boundary, PolicyType.BOUNDARY),
        None if root or session is None else run.scan(session, PolicyType.SESSION),
    )
    if resource_policy is not None:
        scans.resource = run.scan((resource_policy,), rtype, request.caller.identities())
    denied_by = scans.explicit_deny(rtype)
    if denied_by is not None:
        return run.decide(False, denied_by, scans, explicit=True)
    if root:
        return _decide_root(run, scans, rtype, rtype is PolicyType.TRUST or request.cross_account)
    return _decide(run, scans, rtype, request.cross_account)


def denial_message(principal_arn: str, action: str, resource: str | None, decision: Decision) -> str:
    """AWS's AccessDenied text, e.g. `User: arn:... is not authorized to perform: iam:GetUser on
    resource: arn:... because no identity-based policy allows the iam:GetUser action`."""
    if decision.allowed:
        raise ValueError("the request was allowed; there is nothing to deny")
    text = f"User: {principal_arn} is not authorized to perform: {action}"
    if resource:
        text += f" on resource: {resource}"
    ptype = decision.decided_by or PolicyType.IDENTITY
    if decision.explicit_deny:
        return f"{text} with an explicit deny in {_EXPLICIT[ptype]}"
    return f"{text} because no {ptype.value} allows the {action} action"
