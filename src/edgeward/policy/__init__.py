"""The IAM policy language: parse and validate documents, evaluate requests, word denials.

    from edgeward.policy import Caller, PolicyKind, Request, evaluate, parse_policy

    policy = parse_policy(text)                       # PolicyError (MalformedPolicyDocument) if malformed
    decision = evaluate(Request(Caller.of(principal), "iam:GetUser", user_arn, context), [policy])
    if not decision.allowed:
        message = denial_message(principal.arn, "iam:GetUser", user_arn, decision)

Pure: imports only `edgeward.core` and the standard library.
"""

from edgeward.policy.context import ConditionContext, ContextValue, principal_keys, request_keys
from edgeward.policy.document import (
    VERSION_2008,
    VERSION_2012,
    Effect,
    Policy,
    PolicyKind,
    Statement,
    cached_policy,
    parse_policy,
)
from edgeward.policy.errors import PolicyError, Reason
from edgeward.policy.evaluate import (
    Decision,
    MatchedStatement,
    PolicyType,
    Request,
    denial_message,
    evaluate,
)
from edgeward.policy.principals import Caller, CallerKind

__all__ = [
    "VERSION_2008",
    "VERSION_2012",
    "Caller",
    "CallerKind",
    "ConditionContext",
    "ContextValue",
    "Decision",
    "Effect",
    "MatchedStatement",
    "Policy",
    "PolicyError",
    "PolicyKind",
    "PolicyType",
    "Reason",
    "Request",
    "Statement",
    "cached_policy",
    "denial_message",
    "evaluate",
    "parse_policy",
    "principal_keys",
    "request_keys",
]
