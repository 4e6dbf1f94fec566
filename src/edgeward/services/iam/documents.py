"""Policy documents as IAM takes them in (validated, size-limited) and gives them back (URL-encoded)."""

from __future__ import annotations

from urllib.parse import quote

from edgeward.policy import Policy, PolicyKind, parse_policy
from edgeward.services.iam import errors

# Customer managed policies: non-whitespace characters of one version (IAM and STS character quotas).
MANAGED_POLICY_LIMIT = 6144
# Inline policies: non-whitespace characters of all of one identity's inline policies together.
INLINE_LIMITS = {"user": 2048, "group": 5120, "role": 10240}


def size(document: str) -> int:
    """What IAM counts against its quotas: characters that are not whitespace."""
    return sum(1 for char in document if not char.isspace())


def validate(document: str, kind: PolicyKind = PolicyKind.IDENTITY) -> Policy:
    """Compile `document`; PolicyError (MalformedPolicyDocument, in IAM's words) when it is malformed."""
    return parse_policy(document, kind)


def check_managed_size(document: str) -> None:
    if size(document) > MANAGED_POLICY_LIMIT:
        raise errors.limit_exceeded(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_LIMIT}")


def check_inline_size(owner_type: str, owner_name: str, total: int) -> None:
    """`total`: the non-whitespace size of all the owner's inline policies after the change."""
    limit = INLINE_LIMITS[owner_type]
    if total > limit:
        raise errors.limit_exceeded(f"Maximum policy size of {limit} bytes exceeded for {owner_type} {owner_name}")


def encoded(document: str) -> str:
    """IAM returns documents URL-encoded (botocore decodes `policyDocumentType` members back)."""
    return quote(document, safe="")
