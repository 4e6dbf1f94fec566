"""Authentication: from a signed request to the Principal it acts as.

Long-term keys (`AKIA...`) are checked here; temporary credentials (`ASIA...`) in `sessions_auth`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy import Connection

from edgeward.core import arn as arns
from edgeward.core import clock
from edgeward.core.principal import Principal, PrincipalKind
from edgeward.protocol.http import HttpRequest
from edgeward.protocol.sigv4 import SignedRequest, check_time, unknown_key, verify
from edgeward.server.sessions_auth import TEMPORARY_PREFIX, authenticate_session
from edgeward.storage.database import Database
from edgeward.storage.repos.access_keys import AuthKey, lookup_for_auth, record_last_used
from edgeward.storage.secrets import SecretBox

log = logging.getLogger("edgeward.authn")

# How often one process records a key's use for GetAccessKeyLastUsed (AWS reports it at coarse grain too).
LAST_USED_EVERY_SECONDS = 60.0


@dataclass
class Authenticator:
    db: Database
    box: SecretBox
    account: str
    _recorded: dict[tuple[str, str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def authenticate(self, conn: Connection, request: HttpRequest, signed: SignedRequest, now: float) -> Principal:
        """Check the clock before touching the database, then the key, then the signature.

        `conn` is the request's own connection (one per request, shared with the handler).
        """
        check_time(signed, now)
        if signed.access_key_id.startswith(TEMPORARY_PREFIX):
            return authenticate_session(conn, self.box, request, signed, now)
        key = lookup_for_auth(conn, signed.access_key_id, self.box) if signed.access_key_id.startswith("AKIA") else None
        if key is None or not key.active or signed.security_token is not None:
            # An unknown, inactive or deleted key, or a session token sent with a long-term key.
            raise unknown_key(signed)
        verify(request, signed, key.secret, now)
        return principal_for(key)

    def note_use(self, signed: SignedRequest, now: float) -> None:
        """Record a long-term key's use for GetAccessKeyLastUsed, at most once a minute per key, service and
        region from this process; called after the request's own transaction has ended."""
        access_key_id, service, region = signed.access_key_id, signed.service, signed.region
        if not access_key_id.startswith("AKIA"):
            return
        slot = (access_key_id, service, region)
        with self._lock:
            if now - self._recorded.get(slot, 0.0) < LAST_USED_EVERY_SECONDS:
                return
            self._recorded[slot] = now
            if len(self._recorded) > 100_000:
                self._recorded.clear()
        try:
            with self.db.transaction() as conn:
                record_last_used(conn, access_key_id, service, region, clock.from_epoch(now))
        except Exception:  # bookkeeping must never fail the caller's request
            log.warning("could not record last use of access key %s", access_key_id, exc_info=True)


def principal_for(key: AuthKey) -> Principal:
    if key.user_id is None:
        return root_principal(key.account, key.access_key_id)
    return Principal(
        kind=PrincipalKind.USER,
        account=key.account,
        arn=key.user_arn or "",
        user_id=key.user_unique_id or "",
        name=key.user_name or "",
        access_key_id=key.access_key_id,
        entity_id=key.user_id,
        tags=dict(key.user_tags),
        boundary_arn=key.user_boundary,
    )


def root_principal(account: str, access_key_id: str = "") -> Principal:
    return Principal(
        kind=PrincipalKind.ROOT,
        account=account,
        arn=arns.root(account),
        user_id=account,
        name="root",
        access_key_id=access_key_id,
    )
