"""AssumeRole (spec 4.2): temporary credentials for a role whose trust policy allows the caller.

Order: the account root may not assume roles; the request's own parameters are validated (MFA, session
tags, session policies and their packed size); a RoleArn that names no role of this account is denied in
AWS's words without naming a policy type; the trust policy decides; then the duration is checked against
the role's MaxSessionDuration (and the one-hour cap of role chaining), so the limits of a role are only
revealed to callers it trusts.
"""

from __future__ import annotations

from typing import Any

from edgeward.core import clock
from edgeward.core.principal import PrincipalKind
from edgeward.policy import ContextValue
from edgeward.services.context import Context
from edgeward.services.sts import errors
from edgeward.services.sts.credentials import issue_credentials
from edgeward.services.sts.names import assumed_role_arn, assumed_role_id
from edgeward.services.sts.session_policies import packed_size, session_policies
from edgeward.services.sts.tags import SessionTags, session_tags
from edgeward.services.sts.trust import ASSUME_ROLE, SET_SOURCE_IDENTITY, TAG_SESSION, authorize_assume
from edgeward.storage.repos import roles, sessions
from edgeward.storage.repos.roles import RoleRecord

DEFAULT_DURATION = 3600
CHAINED_MAX_DURATION = 3600


def assume_role(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    principal = ctx.principal
    if principal.is_root:
        raise errors.access_denied("Roles may not be assumed by root accounts.")
    if params.get("SerialNumber") is not None or params.get("TokenCode") is not None:
        raise errors.mfa_not_supported(params.get("SerialNumber"))
    if params.get("ProvidedContexts"):
        raise errors.invalid_parameter("edgeward does not support ProvidedContexts (trusted context assertions).")
    chained = principal.kind is PrincipalKind.ASSUMED_ROLE
    inherited = sessions.chain_facts(ctx.conn, principal.access_key_id) if chained else None
    tags = session_tags(params, inherited)
    policies = session_policies(ctx.conn, ctx.account, params)
    packed = packed_size(policies, tags.requested)
    if packed is not None and packed > 100:
        raise errors.packed_policy_too_large(packed)
    source_identity = _source_identity(params.get("SourceIdentity"), inherited)

    role_arn: str = params["RoleArn"]
    session_name: str = params["RoleSessionName"]
    role = roles.get_role_by_arn(ctx.conn, ctx.account, role_arn)
    if role is None:
        raise errors.not_authorized(principal.arn, ASSUME_ROLE, role_arn)
    keys = _condition_keys(params, tags, session_name)
    actions = (ASSUME_ROLE,) + ((TAG_SESSION,) if tags.requested else ())
    actions += (SET_SOURCE_IDENTITY,) if params.get("SourceIdentity") else ()
    authorize_assume(ctx, role, keys, actions)

    duration = _duration(params.get("DurationSeconds"), role, chained)
    credentials = issue_credentials(
        ctx.conn,
        ctx.secrets,
        account=ctx.account,
        kind=sessions.ASSUMED_ROLE,
        duration_seconds=duration,
        role_id=role.id,
        session_name=session_name,
        source_identity=source_identity,
        session_policy=policies.document,
        session_policy_arns=policies.arns,
        tags=tags.tags,
        transitive_tag_keys=tags.transitive,
    )
    roles.record_last_used(ctx.conn, role.id, ctx.region, clock.now())
    return _output(ctx.account, role, session_name, credentials.shape(), packed, source_identity)


def _source_identity(requested: str | None, inherited: sessions.ChainFacts | None) -> str | None:
    """A source identity, once set, holds for the whole role chain."""
    previous = inherited.source_identity if inherited else None
    if previous is not None and requested is not None and requested != previous:
        raise errors.validation(
            f"The source identity {previous} of the calling session cannot be changed in a role chain."
        )
    return requested or previous


def _condition_keys(params: dict[str, Any], tags: SessionTags, session_name: str) -> dict[str, ContextValue]:
    keys: dict[str, ContextValue] = {"sts:RoleSessionName": session_name, **tags.condition_keys()}
    if params.get("ExternalId") is not None:
        keys["sts:ExternalId"] = params["ExternalId"]
    if params.get("SourceIdentity") is not None:
        keys["sts:SourceIdentity"] = params["SourceIdentity"]
    return keys


def _duration(requested: int | None, role: RoleRecord, chained: bool) -> int:
    duration = DEFAULT_DURATION if requested is None else requested
    if chained and duration > CHAINED_MAX_DURATION:
        raise errors.validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
        )
    if duration > role.max_session_duration:
        raise errors.validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    return duration


def _output(
    account: str,
    role: RoleRecord,
    session_name: str,
    credentials: dict[str, Any],
    packed: int | None,
    source_identity: str | None,
) -> dict[str, Any]:
    output: dict[str, Any] = {
        "Credentials": credentials,
        "AssumedRoleUser": {
            "AssumedRoleId": assumed_role_id(role.unique_id, session_name),
            "Arn": assumed_role_arn(account, role.name, session_name),
        },
    }
    if packed is not None:
        output["PackedPolicySize"] = packed
    if source_identity is not None:
        output["SourceIdentity"] = source_identity
    return output
