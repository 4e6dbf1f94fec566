"""STS sessions: temporary credentials (`ASIA...`), the per-request lookup, expiry sweeps.

The secret access key is sealed by the SecretBox, bound to its access key id (`secret_context`); the session
token is kept only as its SHA-256, so a database dump yields no usable credentials. A session names the role
(assumed-role sessions) or the user (session-token sessions; none for the account root) it acts as; the
lookup joins that entity in the same query, and finds nothing once the entity is gone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, insert, or_, select

from edgeward.storage.fastpath import SECRETS, HotQuery, HotStatement
from edgeward.storage.secrets import SecretBox
from edgeward.storage.tables import iam_users
from edgeward.storage.tables_entities import iam_roles
from edgeward.storage.tables_sessions import sts_sessions

ASSUMED_ROLE = "assumed-role"
SESSION_TOKEN = "session-token"
FEDERATED_USER = "federated-user"
KINDS = (ASSUMED_ROLE, SESSION_TOKEN, FEDERATED_USER)
SWEEP_LIMIT = 100


def secret_context(access_key_id: str) -> bytes:
    """AEAD context of a session's secret: its ciphertext only decrypts in its own row."""
    return f"sts-session/{access_key_id}".encode("ascii")


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class NewSession:
    """Everything a new session row holds. `role_id` for assumed-role sessions, `user_id` (None: root) otherwise."""

    access_key_id: str
    account: str
    kind: str
    secret: str = field(repr=False)
    token: str = field(repr=False)
    issued_at: datetime
    expires_at: datetime
    role_id: int | None = None
    user_id: int | None = None
    session_name: str | None = None
    source_identity: str | None = None
    session_policy: str | None = None
    session_policy_arns: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    transitive_tag_keys: tuple[str, ...] = ()
    context: Mapping[str, str] = field(default_factory=dict)
    mfa: bool = False


@dataclass(frozen=True, slots=True)
class SessionAuth:
    """What request authentication needs about a session, from one query.

    `entity_*` describe the role of an assumed-role session, or the user of a session-token session
    (all None for the account root's).
    """

    access_key_id: str
    account: str
    kind: str
    secret: str = field(repr=False)
    token_sha256: str = field(repr=False)
    issued_at: datetime
    expires_at: datetime
    entity_id: int | None
    entity_name: str | None
    entity_path: str | None
    entity_arn: str | None
    entity_unique_id: str | None
    entity_boundary: str | None
    entity_tags: dict[str, str]
    session_name: str | None
    source_identity: str | None
    session_policy: str | None
    session_policy_arns: tuple[str, ...]
    tags: dict[str, str]
    transitive_tag_keys: tuple[str, ...]
    context: dict[str, str]
    mfa: bool

    @property
    def is_role_session(self) -> bool:
        return self.kind == ASSUMED_ROLE

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True, slots=True)
class ChainFacts:
    """What a session passes on when it assumes another role (role chaining)."""

    tags: dict[str, str]
    transitive_tag_keys: tuple[str, ...]
    source_identity: str | None


# -- writes ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sealed:
    """What is stored of a session's secrets: the secret sealed by the SecretBox, the token's SHA-256."""

    secret_ciphertext: str
    token_sha256: str = field(repr=False)


def seal(box: SecretBox, access_key_id: str, secret: str, token: str) -> Sealed:
    """Seal a session's secrets for storage (pure CPU: callers may do it before their transaction)."""
    return Sealed(box.encrypt(secret.encode("ascii"), secret_context(access_key_id)), token_sha256(token))


def create_session(conn: Connection, box: SecretBox, session: NewSession, sealed: Sealed | None = None) -> None:
    """Store a new session: its secret sealed, its token hashed (`sealed`, when done beforehand by `seal`)."""
    if session.kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    if sealed is None:
        sealed = seal(box, session.access_key_id, session.secret, session.token)
    _INSERT.execute(
        conn,
        {
            "v_access_key_id": session.access_key_id,
            "v_account_id": session.account,
            "v_kind": session.kind,
            "v_secret_ciphertext": sealed.secret_ciphertext,
            "v_token_sha256": sealed.token_sha256,
            "v_role_id": session.role_id,
            "v_user_id": session.user_id,
            "v_session_name": session.session_name,
            "v_source_identity": session.source_identity,
            "v_session_policy": session.session_policy,
            "v_session_policy_arns": list(session.session_policy_arns),
            "v_tags": dict(session.tags),
            "v_transitive_tag_keys": list(session.transitive_tag_keys),
            "v_context": dict(session.context),
            "v_mfa": session.mfa,
            "v_issued_at": session.issued_at,
            "v_expires_at": session.expires_at,
        },
    )


# Built once and run on the driver: the credentials provider issues a session per exchange. Every column is
# a named parameter (`v_<column>`), converted by its column's type (JSON text, UTC datetimes, booleans).
_INSERT = HotStatement(
    insert(sts_sessions).values({c.name: bindparam(f"v_{c.name}", type_=c.type) for c in sts_sessions.c})
)


def delete_expired(conn: Connection, before: datetime, limit: int = SWEEP_LIMIT) -> int:
    """Delete up to `limit` sessions that expired before `before`; returns how many.

    Bounded so that an opportunistic sweep inside a request stays cheap. On PostgreSQL rows another sweep
    holds are skipped rather than waited for.
    """
    doomed = (
        select(sts_sessions.c.access_key_id)
        .where(sts_sessions.c.expires_at < before)
        .order_by(sts_sessions.c.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = conn.execute(delete(sts_sessions).where(sts_sessions.c.access_key_id.in_(doomed.scalar_subquery())))
    return int(result.rowcount)


# -- reads -----------------------------------------------------------------------------------------

_t, _r, _u = sts_sessions.c, iam_roles.c, iam_users.c

# The hot path of every request signed with temporary credentials: one indexed query, role or user joined.
_LOOKUP_SELECT = (
    select(
        _t.account_id,
        _t.kind,
        _t.secret_ciphertext,
        _t.token_sha256,
        _t.issued_at,
        _t.expires_at,
        func.coalesce(_t.role_id, _t.user_id),
        func.coalesce(_r.name, _u.name),
        func.coalesce(_r.path, _u.path),
        func.coalesce(_r.arn, _u.arn),
        func.coalesce(_r.unique_id, _u.unique_id),
        func.coalesce(_r.permissions_boundary, _u.permissions_boundary),
        func.coalesce(_r.tags, _u.tags),
        _t.session_name,
        _t.source_identity,
        _t.session_policy,
        _t.session_policy_arns,
        _t.tags,
        _t.transitive_tag_keys,
        _t.context,
        _t.mfa,
    )
    .select_from(sts_sessions.outerjoin(iam_roles, _r.id == _t.role_id).outerjoin(iam_users, _u.id == _t.user_id))
    .where(
        _t.access_key_id == bindparam("akid"),
        or_(_t.role_id.is_(None), _r.id.is_not(None)),
        or_(_t.user_id.is_(None), _u.id.is_not(None)),
    )
)
_LOOKUP = HotQuery(_LOOKUP_SELECT, typed=True)


def lookup_session(conn: Connection, access_key_id: str, box: SecretBox) -> SessionAuth | None:
    """The session with its decrypted secret and its role or user; None when unknown or its entity is gone.

    Expired sessions are returned too (`expired()` tells): the caller answers them with ExpiredToken.
    """
    row = _LOOKUP.first(conn, {"akid": access_key_id})
    if row is None:
        return None
    (account, kind, ciphertext, token_digest, issued_at, expires_at, entity_id, name, path, arn, unique_id) = row[:11]
    boundary, entity_tags, session_name, source_identity, policy, policy_arns, tags, transitive, context, mfa = row[11:]
    return SessionAuth(
        access_key_id=access_key_id,
        account=account,
        kind=kind,
        secret=SECRETS.open(box, ciphertext, secret_context(access_key_id)).decode("ascii"),
        token_sha256=token_digest,
        issued_at=issued_at,
        expires_at=expires_at,
        entity_id=entity_id,
        entity_name=name,
        entity_path=path,
        entity_arn=arn,
        entity_unique_id=unique_id,
        entity_boundary=boundary,
        entity_tags=dict(entity_tags or {}),
        session_name=session_name,
        source_identity=source_identity,
        session_policy=policy,
        session_policy_arns=tuple(policy_arns),
        tags=dict(tags),
        transitive_tag_keys=tuple(transitive),
        context=dict(context),
        mfa=bool(mfa),
    )


def chain_facts(conn: Connection, access_key_id: str) -> ChainFacts | None:
    """The session tags, transitive tag keys and source identity of a session, for role chaining."""
    stmt = select(_t.tags, _t.transitive_tag_keys, _t.source_identity).where(_t.access_key_id == access_key_id)
    row = conn.execute(stmt).one_or_none()
    if row is None:
        return None
    tags, transitive, source_identity = row
    return ChainFacts(dict(tags), tuple(transitive), source_identity)
