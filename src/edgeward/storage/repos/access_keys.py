"""Long-term access keys of IAM users and of the account root, and the per-request key lookup.

At most two keys per owner: each key takes slot 1 or 2 and (account, owner, slot) is unique, so the
database refuses a third key even when two nodes race. Secrets are stored encrypted, bound to their key
id (see `secret_context`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    RowMapping,
    bindparam,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from edgeward.core import clock, ids
from edgeward.storage.errors import NotFound, QuotaExceeded
from edgeward.storage.fastpath import SECRETS, HotQuery, HotStatement
from edgeward.storage.integrity import Kind, violation
from edgeward.storage.repos.users import UserRecord
from edgeward.storage.secrets import SecretBox
from edgeward.storage.tables import access_keys, iam_users
from edgeward.storage.types import UtcDateTime

ACTIVE = "Active"
INACTIVE = "Inactive"
STATUSES = (ACTIVE, INACTIVE)
SLOTS = (1, 2)
ROOT_OWNER = "root"
QUOTA_MESSAGE = f"Cannot exceed quota for AccessKeysPerUser: {len(SLOTS)}"
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class AccessKeyRecord:
    access_key_id: str
    account: str
    user_id: int | None  # None: a key of the account root
    user_name: str | None
    slot: int
    status: str
    created_at: datetime
    last_used_at: datetime | None
    last_used_service: str | None
    last_used_region: str | None

    @property
    def is_root(self) -> bool:
        return self.user_id is None


@dataclass(frozen=True, slots=True)
class AuthKey:
    """What request authentication needs about a key, from one query."""

    access_key_id: str
    account: str
    status: str
    secret: str = field(repr=False)
    user_id: int | None
    user_name: str | None
    user_unique_id: str | None
    user_arn: str | None
    user_path: str | None
    user_boundary: str | None = None
    user_tags: dict[str, str] = field(default_factory=dict)

    @property
    def is_root(self) -> bool:
        return self.user_id is None

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


def owner_of(user: UserRecord | None) -> str:
    return ROOT_OWNER if user is None else f"user:{user.id}"


def secret_context(access_key_id: str) -> bytes:
    """AEAD context of a secret access key: its ciphertext only decrypts in its own row."""
    return f"access-key/{access_key_id}".encode("ascii")


# -- writes ----------------------------------------------------------------------------------------


def create_access_key(
    conn: Connection,
    account: str,
    user: UserRecord | None,
    box: SecretBox,
    *,
    now: datetime | None = None,
) -> tuple[AccessKeyRecord, str]:
    """A new active key for `user` (None: the account root) and its secret, returned only here.

    QuotaExceeded when the owner already has two keys; NotFound when the user no longer exists.
    """
    key_id, secret = ids.access_key_id(), ids.secret_access_key()
    created_at = now or clock.now()
    user_id, user_name = (None, None) if user is None else (user.id, user.name)
    stmt = insert(access_keys).values(
        access_key_id=key_id,
        account_id=account,
        owner=owner_of(user),
        user_id=user_id,
        status=ACTIVE,
        secret_ciphertext=box.encrypt(secret.encode("ascii"), secret_context(key_id)),
        created_at=created_at,
    )
    for slot in SLOTS:  # first free slot wins; the unique (account, owner, slot) arbitrates races
        if _insert_in_slot(conn, stmt.values(slot=slot)):
            record = AccessKeyRecord(key_id, account, user_id, user_name, slot, ACTIVE, created_at, None, None, None)
            return record, secret
    raise QuotaExceeded(QUOTA_MESSAGE)


def _insert_in_slot(conn: Connection, stmt: Insert) -> bool:
    """False when the slot is taken; the savepoint keeps a PostgreSQL transaction usable after that."""
    try:
        with conn.begin_nested():
            conn.execute(stmt)
    except IntegrityError as exc:
        found = violation(exc)
        if found.is_unique(access_keys, "account_id", "owner", "slot"):
            return False
        if found.kind is Kind.FOREIGN_KEY:
            raise NotFound("The user cannot be found.") from None
        raise
    return True


def update_status(conn: Connection, account: str, user: UserRecord | None, access_key_id: str, status: str) -> None:
    """Set Active/Inactive on a key of `user` (None: root); NotFound when that owner has no such key."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    params = {"account": account, "b_owner": owner_of(user), "akid": access_key_id, "b_status": status}
    if _UPDATE_STATUS.execute(conn, params) == 0:
        raise NotFound(f"The Access Key with id {access_key_id} cannot be found.")


def delete_access_key(conn: Connection, account: str, user: UserRecord | None, access_key_id: str) -> None:
    """Delete a key of `user` (None: root); NotFound when that owner has no such key."""
    stmt = access_keys.delete().where(*_owned(account, user, access_key_id))
    if conn.execute(stmt).rowcount == 0:
        raise NotFound(f"The Access Key with id {access_key_id} cannot be found.")


_RECORD_LAST_USED = (
    update(access_keys)
    .where(
        access_keys.c.access_key_id == bindparam("akid"),
        or_(
            access_keys.c.last_used_at.is_(None),
            access_keys.c.last_used_at < bindparam("stale_before", type_=UtcDateTime),
            access_keys.c.last_used_service != bindparam("service"),
            access_keys.c.last_used_region != bindparam("region"),
        ),
    )
    .values(
        last_used_at=bindparam("when", type_=UtcDateTime),
        last_used_service=bindparam("service"),
        last_used_region=bindparam("region"),
    )
)


def record_last_used(
    conn: Connection,
    access_key_id: str,
    service: str,
    region: str,
    when: datetime,
    *,
    resolution: timedelta = LAST_USED_RESOLUTION,
) -> bool:
    """Note a use of the key. Repeats within `resolution` for the same service and region change no
    row (no write to the disk), so calling this on every request stays cheap. True if a row changed.
    """
    params = {
        "akid": access_key_id,
        "service": service,
        "region": region,
        "when": when,
        "stale_before": when - resolution,
    }
    return conn.execute(_RECORD_LAST_USED, params).rowcount > 0


# -- reads -----------------------------------------------------------------------------------------

_RECORD_SELECT = select(
    access_keys.c.access_key_id,
    access_keys.c.account_id,
    access_keys.c.user_id,
    iam_users.c.name.label("user_name"),
    access_keys.c.slot,
    access_keys.c.status,
    access_keys.c.created_at,
    access_keys.c.last_used_at,
    access_keys.c.last_used_service,
    access_keys.c.last_used_region,
).select_from(access_keys.outerjoin(iam_users, access_keys.c.user_id == iam_users.c.id))


def get_access_key(conn: Connection, account: str, access_key_id: str) -> AccessKeyRecord | None:
    row = _BY_ID.first(conn, {"account": account, "akid": access_key_id})
    return None if row is None else AccessKeyRecord(*row)


def list_access_keys(conn: Connection, account: str, user: UserRecord | None) -> list[AccessKeyRecord]:
    """The keys of `user` (None: the account root), oldest first."""
    stmt = _RECORD_SELECT.where(access_keys.c.account_id == account, access_keys.c.owner == owner_of(user)).order_by(
        access_keys.c.created_at, access_keys.c.slot
    )
    return [_record(row) for row in conn.execute(stmt).mappings()]


# The hot path: every signed request looks its key up, in one indexed query (key and owner joined).
_AUTH_LOOKUP = HotQuery(
    select(
        access_keys.c.account_id,
        access_keys.c.status,
        access_keys.c.secret_ciphertext,
        iam_users.c.id,
        iam_users.c.name,
        iam_users.c.unique_id,
        iam_users.c.arn,
        iam_users.c.path,
        iam_users.c.permissions_boundary,
        iam_users.c.tags,
    )
    .select_from(access_keys.outerjoin(iam_users, access_keys.c.user_id == iam_users.c.id))
    .where(access_keys.c.access_key_id == bindparam("akid"))
)


def lookup_for_auth(conn: Connection, access_key_id: str, box: SecretBox) -> AuthKey | None:
    """The key with its decrypted secret and owner, or None for an unknown key id.

    Inactive keys are returned too (status tells); the caller treats them like unknown ones.
    """
    row = _AUTH_LOOKUP.first(conn, {"akid": access_key_id})
    if row is None:
        return None
    account, status, ciphertext, user_id, name, unique_id, user_arn, path, boundary, tags = row
    secret = SECRETS.open(box, ciphertext, secret_context(access_key_id)).decode("ascii")
    return AuthKey(
        access_key_id,
        account,
        status,
        secret,
        user_id,
        name,
        unique_id,
        user_arn,
        path,
        boundary,
        json.loads(tags) if tags else {},
    )


# Statements built once (building a Core expression costs more than running it on SQLite).
# (`_RECORD_SELECT`'s columns are AccessKeyRecord's fields, in order.)
_BY_ID = HotQuery(
    _RECORD_SELECT.where(
        access_keys.c.account_id == bindparam("account"), access_keys.c.access_key_id == bindparam("akid")
    ),
    typed=True,
)
_UPDATE_STATUS = HotStatement(
    update(access_keys)
    .where(
        access_keys.c.account_id == bindparam("account"),
        access_keys.c.owner == bindparam("b_owner"),
        access_keys.c.access_key_id == bindparam("akid"),
    )
    .values(status=bindparam("b_status"))
)


def _owned(account: str, user: UserRecord | None, access_key_id: str) -> list[ColumnElement[bool]]:
    return [
        access_keys.c.account_id == account,
        access_keys.c.owner == owner_of(user),
        access_keys.c.access_key_id == access_key_id,
    ]


def _record(row: RowMapping) -> AccessKeyRecord:
    return AccessKeyRecord(
        access_key_id=row["access_key_id"],
        account=row["account_id"],
        user_id=row["user_id"],
        user_name=row["user_name"],
        slot=row["slot"],
        status=row["status"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        last_used_service=row["last_used_service"],
        last_used_region=row["last_used_region"],
    )
