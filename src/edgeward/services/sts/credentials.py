"""Issuing temporary credentials: an `ASIA...` key, a 40-character secret, an opaque session token.

`issue_credentials` is what every way of obtaining temporary credentials calls (AssumeRole, GetSessionToken,
and the IoT credentials provider): it stores the session and returns the credentials, shown only here.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from edgeward.core import clock, ids
from edgeward.storage.repos import sessions
from edgeward.storage.repos.sessions import NewSession
from edgeward.storage.secrets import SecretBox

TOKEN_BYTES = 144  # 192 base64 characters: opaque, and far beyond guessing
# Expired sessions stay a day, so their use is answered ExpiredToken rather than InvalidClientTokenId.
EXPIRED_KEPT = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime

    def shape(self) -> dict[str, Any]:
        """STS's `Credentials` structure."""
        return {
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
            "Expiration": self.expiration,
        }


_SWEEP_EVERY_S = 30.0
_last_sweep = [-_SWEEP_EVERY_S]


def _sweep_due() -> bool:
    """At most one sweep of expired sessions per process every `_SWEEP_EVERY_S`: issuing stays one INSERT."""
    now = time.monotonic()
    if now - _last_sweep[0] < _SWEEP_EVERY_S:
        return False
    _last_sweep[0] = now
    return True


def new_session_token() -> str:
    return base64.b64encode(secrets.token_bytes(TOKEN_BYTES)).decode("ascii")


@dataclass(frozen=True, slots=True)
class Material:
    """A new session's key id, secret and token, already sealed for storage. Making it needs no database
    (random bytes, AES-GCM, SHA-256), so the credentials provider makes it before its write transaction."""

    access_key_id: str
    secret: str = field(repr=False)
    token: str = field(repr=False)
    sealed: sessions.Sealed

    @classmethod
    def new(cls, box: SecretBox) -> Material:
        access_key_id, secret, token = ids.access_key_id(temporary=True), ids.secret_access_key(), new_session_token()
        return cls(access_key_id, secret, token, sessions.seal(box, access_key_id, secret, token))


def issue_credentials(
    conn: Connection,
    box: SecretBox,
    *,
    account: str,
    kind: str,
    duration_seconds: int,
    role_id: int | None = None,
    user_id: int | None = None,
    session_name: str | None = None,
    source_identity: str | None = None,
    session_policy: str | None = None,
    session_policy_arns: tuple[str, ...] = (),
    tags: Mapping[str, str] | None = None,
    transitive_tag_keys: tuple[str, ...] = (),
    context: Mapping[str, str] | None = None,
    mfa: bool = False,
    now: datetime | None = None,
    material: Material | None = None,
) -> Credentials:
    """Store a new session of `kind` (`sessions.ASSUMED_ROLE` with `role_id`, `sessions.SESSION_TOKEN` with
    `user_id`, None for root) valid for `duration_seconds`, and return its credentials.

    `context` holds condition keys the session carries into every request (e.g. `credentials-iot:ThingName`).
    `material` is the session's key, secret and token made beforehand (`Material.new`), else made here.
    Also sweeps a bounded number of long-expired sessions.
    """
    material = material or Material.new(box)
    issued_at = (now or clock.now()).replace(microsecond=0)
    expires_at = issued_at + timedelta(seconds=duration_seconds)
    session = NewSession(
        access_key_id=material.access_key_id,
        account=account,
        kind=kind,
        secret=material.secret,
        token=material.token,
        issued_at=issued_at,
        expires_at=expires_at,
        role_id=role_id,
        user_id=user_id,
        session_name=session_name,
        source_identity=source_identity,
        session_policy=session_policy,
        session_policy_arns=session_policy_arns,
        tags=dict(tags or {}),
        transitive_tag_keys=transitive_tag_keys,
        context=dict(context or {}),
        mfa=mfa,
    )
    if _sweep_due():
        sessions.delete_expired(conn, issued_at - EXPIRED_KEPT)
    sessions.create_session(conn, box, session, material.sealed)
    return Credentials(session.access_key_id, session.secret, session.token, expires_at)
