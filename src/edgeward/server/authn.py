"""Authentication: from a signed request to the Principal it acts as."""

from __future__ import annotations

from dataclasses import dataclass

from edgeward.core import arn as arns
from edgeward.core.principal import Principal, PrincipalKind
from edgeward.protocol.http import HttpRequest
from edgeward.protocol.sigv4 import AuthFailure, AuthFailureKind, SignedRequest, verify
from edgeward.storage.database import Database
from edgeward.storage.repos.access_keys import AuthKey, lookup_for_auth
from edgeward.storage.secrets import SecretBox


@dataclass(frozen=True, slots=True)
class Authenticator:
    db: Database
    box: SecretBox
    account: str

    def authenticate(self, request: HttpRequest, signed: SignedRequest, now: float) -> Principal:
        key = self._lookup(signed.access_key_id)
        if key is None or key.status != "Active":
            raise AuthFailure(AuthFailureKind.UNKNOWN_KEY, "unknown or inactive access key")
        if signed.security_token is not None:
            # A session token only goes with temporary (ASIA) credentials.
            raise AuthFailure(AuthFailureKind.UNKNOWN_KEY, "session token sent with a long-term access key")
        verify(request, signed, key.secret, now)
        return principal_for(key)

    def _lookup(self, access_key_id: str) -> AuthKey | None:
        if not access_key_id.startswith("AKIA"):
            return None
        with self.db.read() as conn:
            return lookup_for_auth(conn, access_key_id, self.box)


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
