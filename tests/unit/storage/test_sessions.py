"""STS sessions: sealed secrets, hashed tokens, the one-query lookup, expiry sweeps, entity deletion."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from edgeward.core import clock, ids
from edgeward.storage.database import Database
from edgeward.storage.errors import DecryptionError
from edgeward.storage.repos import roles, sessions, users
from edgeward.storage.repos.roles import RoleRecord
from edgeward.storage.repos.sessions import NewSession
from edgeward.storage.secrets import SecretBox
from edgeward.storage.tables_sessions import sts_sessions

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "x.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def _role(
    database: Database,
    account: str,
    name: str = "EdgeRole",
    tags: dict[str, str] | None = None,
    permissions_boundary: str | None = None,
) -> RoleRecord:
    with database.transaction() as conn:
        return roles.create_role(
            conn, account, name, TRUST, path="/edge/", tags=tags, permissions_boundary=permissions_boundary
        )


def _new(account: str, *, expires_in: timedelta = timedelta(hours=1), **fields: object) -> NewSession:
    now = clock.now().replace(microsecond=0)
    base = NewSession(
        access_key_id=ids.access_key_id(temporary=True),
        account=account,
        kind=sessions.ASSUMED_ROLE,
        secret=ids.secret_access_key(),
        token="token-" + ids.secret_access_key(),
        issued_at=now,
        expires_at=now + expires_in,
    )
    return replace(base, **fields)


def _store(database: Database, box: SecretBox, session: NewSession) -> None:
    with database.transaction() as conn:
        sessions.create_session(conn, box, session)


def _lookup(database: Database, box: SecretBox, access_key_id: str) -> sessions.SessionAuth | None:
    with database.read() as conn:
        return sessions.lookup_session(conn, access_key_id, box)


def _count(database: Database) -> int:
    with database.read() as conn:
        return int(conn.execute(select(func.count()).select_from(sts_sessions)).scalar_one())


def test_role_session_round_trip(database: Database, account: str, box: SecretBox) -> None:
    role = _role(
        database, account, tags={"team": "edge", "tier": "1"}, permissions_boundary="arn:aws:iam::aws:policy/B"
    )
    new = _new(
        account,
        role_id=role.id,
        session_name="device-1",
        source_identity="alice",
        session_policy='{"Version":"2012-10-17","Statement":[]}',
        session_policy_arns=("arn:aws:iam::aws:policy/AdministratorAccess",),
        tags={"Team": "ops"},
        transitive_tag_keys=("Team",),
        context={"credentials-iot:ThingName": "thing-1"},
    )
    _store(database, box, new)
    found = _lookup(database, box, new.access_key_id)
    assert found is not None and found.is_role_session
    assert (found.account, found.secret, found.session_name) == (account, new.secret, "device-1")
    assert found.token_sha256 == sessions.token_sha256(new.token) != new.token
    assert (found.entity_id, found.entity_name, found.entity_path) == (role.id, "EdgeRole", "/edge/")
    assert (found.entity_arn, found.entity_unique_id) == (role.arn, role.unique_id)
    assert found.entity_boundary == "arn:aws:iam::aws:policy/B"
    assert found.entity_tags == {"team": "edge", "tier": "1"}
    assert found.tags == {"Team": "ops"} and found.transitive_tag_keys == ("Team",)
    assert found.session_policy_arns == ("arn:aws:iam::aws:policy/AdministratorAccess",)
    assert found.context == {"credentials-iot:ThingName": "thing-1"}
    assert found.source_identity == "alice" and found.mfa is False
    assert found.issued_at == new.issued_at and found.expires_at == new.expires_at
    assert found.expires_at.tzinfo is not None
    assert new.secret not in repr(found) and new.token not in repr(new) and new.secret not in repr(new)


def test_nothing_usable_is_stored(database: Database, account: str, box: SecretBox) -> None:
    role = _role(database, account)
    new = _new(account, role_id=role.id)
    _store(database, box, new)
    with database.read() as conn:
        row = conn.execute(select(sts_sessions)).mappings().one()
    stored = " ".join(str(value) for value in row.values())
    assert new.secret not in stored and new.token not in stored


def test_session_token_sessions_of_a_user_and_of_root(database: Database, account: str, box: SecretBox) -> None:
    with database.transaction() as conn:
        user = users.create_user(conn, account, "alice", tags={"team": "edge"})
    of_user = _new(account, kind=sessions.SESSION_TOKEN, user_id=user.id)
    of_root = _new(account, kind=sessions.SESSION_TOKEN)
    _store(database, box, of_user)
    _store(database, box, of_root)
    found = _lookup(database, box, of_user.access_key_id)
    assert found is not None and not found.is_role_session
    assert (found.entity_id, found.entity_name, found.entity_arn) == (user.id, "alice", user.arn)
    assert found.entity_unique_id == user.unique_id and found.entity_tags == {"team": "edge"}
    root = _lookup(database, box, of_root.access_key_id)
    assert root is not None and root.entity_id is None and root.entity_name is None and root.entity_tags == {}


def test_unknown_key_is_none(database: Database, account: str, box: SecretBox) -> None:
    assert _lookup(database, box, "ASIAUNKNOWNUNKNOWN00") is None


def test_expiry_is_reported_not_hidden(database: Database, account: str, box: SecretBox) -> None:
    role = _role(database, account)
    new = _new(account, role_id=role.id, expires_in=timedelta(seconds=-5))
    _store(database, box, new)
    found = _lookup(database, box, new.access_key_id)
    assert found is not None
    assert found.expired(clock.now()) and not found.expired(new.expires_at - timedelta(seconds=1))
    assert found.expired(new.expires_at)  # "now >= expiration" is expired


def test_deleting_the_role_ends_its_sessions(database: Database, account: str, box: SecretBox) -> None:
    role = _role(database, account)
    other = _role(database, account, "OtherRole")
    doomed, kept = _new(account, role_id=role.id), _new(account, role_id=other.id)
    _store(database, box, doomed)
    _store(database, box, kept)
    with database.transaction() as conn:
        roles.delete_role(conn, role)
    assert _lookup(database, box, doomed.access_key_id) is None
    assert _lookup(database, box, kept.access_key_id) is not None
    assert _count(database) == 1  # cascaded, not left for the sweep
    again = _role(database, account)  # the same name again is another role: the old session stays dead
    assert again.id != role.id and _lookup(database, box, doomed.access_key_id) is None


def test_deleting_the_user_ends_its_sessions(database: Database, account: str, box: SecretBox) -> None:
    with database.transaction() as conn:
        user = users.create_user(conn, account, "bob")
    new = _new(account, kind=sessions.SESSION_TOKEN, user_id=user.id)
    _store(database, box, new)
    with database.transaction() as conn:
        users.delete_user(conn, user)
    assert _lookup(database, box, new.access_key_id) is None and _count(database) == 0


def test_secret_is_bound_to_its_row(database: Database, account: str, box: SecretBox) -> None:
    role = _role(database, account)
    first, second = _new(account, role_id=role.id), _new(account, role_id=role.id)
    _store(database, box, first)
    _store(database, box, second)
    with database.transaction() as conn:
        stolen = conn.execute(
            select(sts_sessions.c.secret_ciphertext).where(sts_sessions.c.access_key_id == first.access_key_id)
        ).scalar_one()
        conn.execute(
            update(sts_sessions)
            .where(sts_sessions.c.access_key_id == second.access_key_id)
            .values(secret_ciphertext=stolen)
        )
    with pytest.raises(DecryptionError):
        _lookup(database, box, second.access_key_id)


def test_a_role_session_needs_its_role(database: Database, account: str, box: SecretBox) -> None:
    with pytest.raises(IntegrityError):
        _store(database, box, _new(account))  # assumed-role without role_id
    with pytest.raises(ValueError):
        _store(database, box, _new(account, kind="web-identity"))


def test_delete_expired_is_bounded_and_spares_live_sessions(database: Database, account: str, box: SecretBox) -> None:
    role = _role(database, account)
    for age in range(5):
        _store(database, box, _new(account, role_id=role.id, expires_in=timedelta(hours=-2 - age)))
    live = _new(account, role_id=role.id)
    recent = _new(account, role_id=role.id, expires_in=timedelta(minutes=-1))
    _store(database, box, live)
    _store(database, box, recent)
    before = clock.now() - timedelta(hours=1)
    removed: list[int] = []
    for _ in range(4):
        with database.transaction() as conn:
            removed.append(sessions.delete_expired(conn, before, limit=2))
    assert removed == [2, 2, 1, 0]
    assert _lookup(database, box, live.access_key_id) is not None
    assert _lookup(database, box, recent.access_key_id) is not None  # expired, but newer than `before`


def test_chain_facts(database: Database, account: str, box: SecretBox) -> None:
    role = _role(database, account)
    new = _new(account, role_id=role.id, tags={"a": "1", "b": "2"}, transitive_tag_keys=("a",), source_identity="si")
    _store(database, box, new)
    with database.read() as conn:
        facts = sessions.chain_facts(conn, new.access_key_id)
        assert sessions.chain_facts(conn, "ASIANONE") is None
    assert facts == sessions.ChainFacts({"a": "1", "b": "2"}, ("a",), "si")


def test_timestamps_come_back_aware(database: Database, account: str, box: SecretBox) -> None:
    role = _role(database, account)
    new = _new(account, role_id=role.id)
    _store(database, box, new)
    found = _lookup(database, box, new.access_key_id)
    assert found is not None and isinstance(found.issued_at, datetime)
    assert found.issued_at.utcoffset() == timedelta(0)
