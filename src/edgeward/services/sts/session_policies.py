"""Session policies: AssumeRole's `Policy` and `PolicyArns`, their limits, and the packed size.

The plaintext of the inline policy may not exceed 2,048 characters and at most 10 managed policy ARNs may be
passed (AWS's limits). AWS also packs policies and session tags into a binary form with a limit of its own
and reports how full it is as `PackedPolicySize` (a percentage); edgeward's packed form is the zlib
compression of the minified policy, the ARNs and the tags, against a 1 KiB budget. Random-looking tags fill it
long before 50 of them are passed, as in AWS.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from edgeward.policy import cached_policy
from edgeward.services.iam.managed import policy_document
from edgeward.services.sts import errors

MAX_POLICY_CHARS = 2048
MAX_POLICY_ARNS = 10
PACKED_BUDGET_BYTES = 1024


@dataclass(frozen=True, slots=True)
class SessionPolicies:
    document: str | None = None
    arns: tuple[str, ...] = ()

    @property
    def present(self) -> bool:
        return self.document is not None or bool(self.arns)


def session_policies(conn: Connection, account: str, params: Mapping[str, Any]) -> SessionPolicies:
    """Validate `Policy` (a well-formed identity policy within the size limit) and `PolicyArns` (≤10, existing)."""
    document: str | None = params.get("Policy")
    if document is not None:
        if len(document) > MAX_POLICY_CHARS:
            raise errors.validation(
                "1 validation error detected: Value at 'policy' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_POLICY_CHARS}"
            )
        cached_policy(document)  # PolicyError: MalformedPolicyDocument, as STS answers; compiled once per text
    arns = tuple(descriptor["arn"] for descriptor in params.get("PolicyArns") or [])
    if len(arns) > MAX_POLICY_ARNS:
        raise errors.validation(
            "1 validation error detected: Value at 'policyArns' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_POLICY_ARNS}"
        )
    for policy_arn in arns:
        if policy_document(conn, account, policy_arn) is None:
            raise errors.validation(f"Policy {policy_arn} does not exist or is not attachable.")
    return SessionPolicies(document, tuple(dict.fromkeys(arns)))


def packed_size(policies: SessionPolicies, tags: Mapping[str, str]) -> int | None:
    """How full the packed form is, in percent; None when the request passes neither policies nor tags."""
    if not policies.present and not tags:
        return None
    minified = "" if policies.document is None else json.dumps(json.loads(policies.document), separators=(",", ":"))
    packed = zlib.compress(json.dumps([minified, list(policies.arns), sorted(tags.items())]).encode("utf-8"), 9)
    return max(1, math.ceil(len(packed) * 100 / PACKED_BUDGET_BYTES))
