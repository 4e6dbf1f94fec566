"""Authentication of temporary credentials (`ASIA...` keys issued by STS).

In order, each failure in AWS's words (`protocol.auth_errors` picks the code per protocol):
1. the session must exist and its role or user still exist — else an unknown key (InvalidClientTokenId);
2. the request must carry the session token (`X-Amz-Security-Token`) whose SHA-256 is stored, compared in
   constant time — else an unknown key as well;
3. the session must not have expired — else ExpiredToken;
4. a GetSessionToken session without MFA may not call IAM — AWS answers that with InvalidClientTokenId too;
5. the signature must verify with the session's secret.
"""

from __future__ import annotations

import hmac
import logging

from sqlalchemy import Connection

from edgeward.core import arn as arns
from edgeward.core import clock
from edgeward.core.principal import Principal, PrincipalKind
from edgeward.protocol.http import HttpRequest
from edgeward.protocol.sigv4 import SignedRequest, expired_token, unknown_key, verify
from edgeward.services.sts.names import assumed_role_arn, assumed_role_id
from edgeward.services.sts.tags import merge_tags
from edgeward.storage.repos.sessions import SessionAuth, lookup_session, token_sha256
from edgeward.storage.secrets import SecretBox

log = logging.getLogger("edgeward.authn")

TEMPORARY_PREFIX = "ASIA"


def authenticate_session(
    conn: Connection, box: SecretBox, request: HttpRequest, signed: SignedRequest, now: float
) -> Principal:
    """The principal a request signed with temporary credentials acts as; raises `AuthFailure`."""
    session = lookup_session(conn, signed.access_key_id, box)
    if session is None or not _token_matches(signed.security_token, session.token_sha256):
        raise unknown_key(signed)
    if session.expired(clock.from_epoch(now)):
        raise expired_token(signed)
    if not session.is_role_session and not session.mfa and signed.service == "iam":
        log.info(
            "refused IAM request with GetSessionToken credentials %s: without MFA they cannot call IAM "
            "(answered InvalidClientTokenId, as AWS does)",
            signed.access_key_id,
        )
        raise unknown_key(signed)
    verify(request, signed, session.secret, now)
    return session_principal(session)


def _token_matches(presented: str | None, stored_sha256: str) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(token_sha256(presented), stored_sha256)


def session_principal(session: SessionAuth) -> Principal:
    if session.is_role_session:
        return _role_principal(session)
    kind = PrincipalKind.ROOT if session.entity_id is None else PrincipalKind.USER
    return Principal(
        kind=kind,
        account=session.account,
        arn=session.entity_arn or arns.root(session.account),
        user_id=session.entity_unique_id or session.account,
        name=session.entity_name or "root",
        access_key_id=session.access_key_id,
        entity_id=session.entity_id,
        tags=session.entity_tags,
        parent_arn=session.entity_arn,
        boundary_arn=session.entity_boundary,
        mfa=session.mfa,
        token_issued_at=session.issued_at,
        session_context=_context(session),
    )


def _role_principal(session: SessionAuth) -> Principal:
    role_name = session.entity_name or ""
    session_name = session.session_name or ""
    return Principal(
        kind=PrincipalKind.ASSUMED_ROLE,
        account=session.account,
        arn=assumed_role_arn(session.account, role_name, session_name),
        user_id=assumed_role_id(session.entity_unique_id or "", session_name),
        name=role_name,
        access_key_id=session.access_key_id,
        entity_id=session.entity_id,
        session_name=session_name,
        tags=merge_tags(session.entity_tags, session.tags),
        parent_arn=session.entity_arn,
        boundary_arn=session.entity_boundary,
        session_policy=session.session_policy,
        session_policy_arns=session.session_policy_arns,
        mfa=session.mfa,
        token_issued_at=session.issued_at,
        session_context=_context(session),
    )


def _context(session: SessionAuth) -> dict[str, str]:
    """Condition keys the session carries: those stored with it, and `aws:SourceIdentity` once set."""
    if session.source_identity is None:
        return session.context
    return {**session.context, "aws:SourceIdentity": session.source_identity}
