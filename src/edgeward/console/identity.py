"""Sign-in: an IAM user name and console password, or an access key and its secret; and the principal a
session acts as (looked up afresh on every page, so a deleted user or a deactivated key ends the session)."""

from __future__ import annotations

import hmac

from sqlalchemy import Connection

from edgeward.core import arn as arns
from edgeward.core.principal import Principal, PrincipalKind
from edgeward.storage.repos import access_keys, login_profiles, users
from edgeward.storage.repos.console_sessions import ConsoleSession
from edgeward.storage.repos.users import UserRecord
from edgeward.storage.secrets import SecretBox

SIGN_IN_FAILED = "Your authentication information is incorrect. Please try again."


class SignInFailed(Exception):
    def __init__(self) -> None:
        super().__init__(SIGN_IN_FAILED)


def with_password(conn: Connection, account: str, user_name: str, password: str) -> UserRecord:
    """The user whose console password this is; the same failure (and about the same time) whatever was wrong."""
    user = users.get_user(conn, account, user_name)
    if not login_profiles.verify_password(conn, user.id if user else -1, password) or user is None:
        raise SignInFailed
    return user


def with_access_key(
    conn: Connection, box: SecretBox, account: str, access_key_id: str, secret: str
) -> tuple[int | None, str]:
    """(user id or None for root, access key id) for an active key of this account whose secret matches."""
    key = access_keys.lookup_for_auth(conn, access_key_id.strip(), box)
    if key is None or not key.active or key.account != account:
        raise SignInFailed
    if not hmac.compare_digest(key.secret.encode(), secret.strip().encode()):
        raise SignInFailed
    return key.user_id, key.access_key_id


def principal_of(conn: Connection, box: SecretBox, session: ConsoleSession) -> Principal | None:
    """Who the session acts as now; None when the user or the key it was opened with is gone or inactive."""
    if session.access_key_id is not None:
        key = access_keys.lookup_for_auth(conn, session.access_key_id, box)
        if key is None or not key.active:
            return None
    if session.user_id is None:
        return Principal(
            kind=PrincipalKind.ROOT,
            account=session.account,
            arn=arns.root(session.account),
            user_id=session.account,
            name="root",
            access_key_id=session.access_key_id or "",
        )
    user = users.get_user_by_id(conn, session.user_id, session.account)
    if user is None:
        return None
    return Principal(
        kind=PrincipalKind.USER,
        account=user.account,
        arn=user.arn,
        user_id=user.unique_id,
        name=user.name,
        access_key_id=session.access_key_id or "",
        entity_id=user.id,
        tags=dict(user.tags),
        boundary_arn=user.permissions_boundary,
    )
