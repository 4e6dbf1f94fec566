"""The IoT policy decision: may a device (a certificate, maybe acting as a thing) do an IoT action?

IoT policies are evaluated like identity policies with the IAM engine: an explicit Deny in any of them
wins, otherwise some Allow is needed. IoT's policy variables (`${iot:Connection.Thing.ThingName}`,
`${iot:Connection.Thing.Attributes[color]}`, `${iot:CertificateId}`, `${iot:ClientId}`, ...) are condition
keys of the request, so they resolve in `Resource` and `Condition` alike; a variable the request does not
carry matches nothing (IAM's rule), which is what AWS IoT does when no thing is named.

The policies that govern a device are those attached to its certificate plus those of the thing groups of
the thing it connects as (`effective_iot_documents`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from edgeward.policy import Caller, Policy, PolicyError, PolicyKind, Request, cached_policy, evaluate
from edgeward.storage.repos.iot_policies import IotPolicyRecord, policies_for_targets
from edgeward.storage.repos.iot_things import thing_group_arns_for_thing

# A device is not an IAM principal: it can never be the account root, and no resource policy names it.
_DEVICE = Caller.anonymous()


def iot_allows(documents: Sequence[str], action: str, resource: str, variables: Mapping[str, str]) -> bool:
    """True when the IoT policy `documents` allow `action` on `resource` with IoT's `variables` as the
    request's context (keys like "iot:Connection.Thing.ThingName"). A stored document that no longer
    parses is skipped: it can grant nothing (and was validated when it was stored).
    """
    compiled = [policy for policy in map(_compiled, documents) if policy is not None]
    if not compiled:
        return False
    return evaluate(Request(_DEVICE, action, resource, dict(variables)), compiled).allowed


def _compiled(document: str) -> Policy | None:
    try:
        return cached_policy(document, PolicyKind.IDENTITY)
    except PolicyError:
        return None


def effective_iot_documents(
    conn: Connection, account: str, certificate_arn: str, thing_name: str | None
) -> list[IotPolicyRecord]:
    """The policies attached to the certificate and, when a thing is named, to that thing's groups."""
    target_arns = [certificate_arn]
    if thing_name:
        target_arns += thing_group_arns_for_thing(conn, account, thing_name)
    return policies_for_targets(conn, account, target_arns)
