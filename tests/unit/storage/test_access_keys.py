"""Access keys: two per owner under real concurrency, encrypted secrets, the auth lookup."""

from __future__ import annotations

import base64
import multiprocessing
import os
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from edgeward.core import clock
from edgeward.storage.database import Database
from edgeward.storage.errors import NotFound, QuotaExceeded
from edgeward.storage.repos import access_keys, users
from edgeward.storage.repos.users import UserRecord
from edgeward.storage.secrets import SecretBox
from edgeward.storage.tables import access_keys as access_keys_table
from edgeward.storage.tables import metadata


def _user(database: Database, account: str, name: str = "alice") -> UserRecord:
    with database.transaction() as conn:
        return users.create_user(conn, account, name)


def test_create_returns_the_secret_once_and_lookup_decrypts_it(
    database: Database, account: str, box: SecretBox
) -> None:
    user = _user(database, account)
    with database.transaction() as conn:
        key, secret = access_keys.create_access_key(conn, account, user, box)
    assert key.access_key_id.startswith("AKIA") and len(key.access_key_id) == 20
    assert len(secret) == 40 and key.status == "Active" and key.slot == 1
    with database.read() as conn:
        found = access_keys.lookup_for_auth(conn, key.access_key_id, box)
    assert found is not None
    assert found.secret == secret and found.active and not found.is_root
    assert (found.account, found.user_id, found.user_name) == (account, user.id, "alice")
    assert (found.user_unique_id, found.user_arn, found.user_path) == (user.unique_id, user.arn, "/")
    assert secret not in repr(found)


def test_lookup_of_unknown_key_is_none(database: Database, account: str, box: SecretBox) -> None:
    with database.read() as conn:
        assert access_keys.lookup_for_auth(conn, "AKIAUNKNOWNUNKNOWN00", box) is None


def test_root_keys(database: Database, account: str, box: SecretBox) -> None:
    with database.transaction() as conn:
        key, secret = access_keys.create_access_key(conn, account, None, box)
        access_keys.create_access_key(conn, account, None, box)
        with pytest.raises(QuotaExceeded):
            access_keys.create_access_key(conn, account, None, box)
    with database.read() as conn:
        found = access_keys.lookup_for_auth(conn, key.access_key_id, box)
        assert [k.is_root for k in access_keys.list_access_keys(conn, account, None)] == [True, True]
    assert found is not None and found.is_root and found.user_name is None and found.secret == secret


def test_quota_is_two_per_owner_and_slots_free_up(database: Database, account: str, box: SecretBox) -> None:
    alice, bob = _user(database, account, "alice"), _user(database, account, "bob")
    with database.transaction() as conn:
        first, _ = access_keys.create_access_key(conn, account, alice, box)
        access_keys.create_access_key(conn, account, alice, box)
        with pytest.raises(QuotaExceeded, match="AccessKeysPerUser: 2"):
            access_keys.create_access_key(conn, account, alice, box)
        access_keys.create_access_key(conn, account, bob, box)  # bob has his own quota
        access_keys.delete_access_key(conn, account, alice, first.access_key_id)
        again, _ = access_keys.create_access_key(conn, account, alice, box)
    assert again.slot == first.slot
    with database.read() as conn:
        assert len(access_keys.list_access_keys(conn, account, alice)) == 2


def test_keys_of_a_vanished_user(database: Database, account: str, box: SecretBox) -> None:
    user = _user(database, account)
    with database.transaction() as conn:
        users.delete_user(conn, user)
    with database.transaction() as conn, pytest.raises(NotFound):
        access_keys.create_access_key(conn, account, user, box)


def test_update_status_and_delete_check_the_owner(database: Database, account: str, box: SecretBox) -> None:
    alice, bob = _user(database, account, "alice"), _user(database, account, "bob")
    with database.transaction() as conn:
        key, _ = access_keys.create_access_key(conn, account, alice, box)
        with pytest.raises(NotFound):
            access_keys.update_status(conn, account, bob, key.access_key_id, "Inactive")
        with pytest.raises(NotFound):
            access_keys.delete_access_key(conn, account, None, key.access_key_id)
        with pytest.raises(ValueError):
            access_keys.update_status(conn, account, alice, key.access_key_id, "Expired")
        access_keys.update_status(conn, account, alice, key.access_key_id, "Inactive")
    with database.read() as conn:
        found = access_keys.lookup_for_auth(conn, key.access_key_id, box)
        record = access_keys.get_access_key(conn, account, key.access_key_id)
    assert found is not None and found.status == "Inactive" and not found.active
    assert record is not None and record.status == "Inactive" and record.user_name == "alice"
    with database.transaction() as conn:
        access_keys.delete_access_key(conn, account, alice, key.access_key_id)
    with database.read() as conn:
        assert access_keys.lookup_for_auth(conn, key.access_key_id, box) is None
        assert access_keys.get_access_key(conn, account, key.access_key_id) is None


def test_record_last_used_skips_redundant_writes(database: Database, account: str, box: SecretBox) -> None:
    user = _user(database, account)
    now = clock.now()
    with database.transaction() as conn:
        key, _ = access_keys.create_access_key(conn, account, user, box)
        assert access_keys.record_last_used(conn, key.access_key_id, "iam", "us-east-1", now)
        assert not access_keys.record_last_used(
            conn, key.access_key_id, "iam", "us-east-1", now + timedelta(seconds=30)
        )
        assert access_keys.record_last_used(conn, key.access_key_id, "s3", "us-east-1", now)
        later = now + timedelta(minutes=5)
        assert access_keys.record_last_used(conn, key.access_key_id, "s3", "us-east-1", later)
        assert not access_keys.record_last_used(conn, "AKIAUNKNOWNUNKNOWN00", "s3", "us-east-1", later)
    with database.read() as conn:
        record = access_keys.get_access_key(conn, account, key.access_key_id)
    assert record is not None
    assert (record.last_used_at, record.last_used_service, record.last_used_region) == (
        later,
        "s3",
        "us-east-1",
    )


def test_ciphertext_is_bound_to_its_row(database: Database, account: str, box: SecretBox) -> None:
    """Copying one key's ciphertext into another row must not make that row usable."""
    user = _user(database, account)
    with database.transaction() as conn:
        first, _ = access_keys.create_access_key(conn, account, user, box)
        second, _ = access_keys.create_access_key(conn, account, user, box)
        stolen = conn.execute(
            select(access_keys_table.c.secret_ciphertext).where(
                access_keys_table.c.access_key_id == first.access_key_id
            )
        ).scalar_one()
        conn.execute(
            access_keys_table.update()
            .where(access_keys_table.c.access_key_id == second.access_key_id)
            .values(secret_ciphertext=stolen)
        )
    with database.read() as conn, pytest.raises(Exception, match="another context"):
        access_keys.lookup_for_auth(conn, second.access_key_id, box)


# -- concurrency -----------------------------------------------------------------------------------

CONTENDERS = 3
ROUNDS = 10


def _create_and_hold(database: Database, account: str, user: UserRecord, box: SecretBox) -> str:
    try:
        with database.transaction() as conn:
            access_keys.create_access_key(conn, account, user, box)
            time.sleep(0.02)  # keep the transaction open so the contenders overlap with it
    except QuotaExceeded:
        return "quota"
    return "created"


def _count_keys(database: Database, user: UserRecord) -> int:
    with database.read() as conn:
        stmt = select(func.count()).where(access_keys_table.c.user_id == user.id)
        return int(conn.execute(stmt).scalar_one())


def test_quota_holds_when_threads_race(database: Database, account: str, box: SecretBox) -> None:
    for round_ in range(ROUNDS):
        user = _user(database, account, f"racer{round_}")
        barrier = threading.Barrier(CONTENDERS)
        outcomes: list[str] = []

        def contend(
            user: UserRecord = user, barrier: threading.Barrier = barrier, outcomes: list[str] = outcomes
        ) -> None:
            barrier.wait()
            outcomes.append(_create_and_hold(database, account, user, box))

        threads = [threading.Thread(target=contend) for _ in range(CONTENDERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["created", "created", "quota"]
        assert _count_keys(database, user) == 2


_EXIT = {"created": 0, "quota": 3}


def _contend_in_child(database: Database, account: str, user: UserRecord, box: SecretBox, barrier: object) -> None:
    try:
        barrier.wait()  # type: ignore[attr-defined]
        os._exit(_EXIT[_create_and_hold(database, account, user, box)])
    except BaseException:
        os._exit(1)


def test_quota_holds_when_processes_race(database: Database, account: str, box: SecretBox) -> None:
    ctx = multiprocessing.get_context("fork")
    for round_ in range(ROUNDS):
        user = _user(database, account, f"proc{round_}")
        barrier = ctx.Barrier(CONTENDERS)
        procs = [
            ctx.Process(target=_contend_in_child, args=(database, account, user, box, barrier))
            for _ in range(CONTENDERS)
        ]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(60)
        codes = [proc.exitcode for proc in procs]
        assert sorted(code if code is not None else -1 for code in codes) == [0, 0, 3]
        assert _count_keys(database, user) == 2


# -- the KEK stays out of the database -------------------------------------------------------------


def _all_rows_as_text(database: Database) -> str:
    with database.read() as conn:
        return "\n".join(repr(row) for table in metadata.sorted_tables for row in conn.execute(select(table)))


def test_kek_and_secrets_never_reach_the_database(database: Database, account: str, tmp_path: Path) -> None:
    key_file = tmp_path / "kek"
    box = SecretBox.load_or_create(key_file)
    kek = key_file.read_bytes()
    user = _user(database, account)
    with database.transaction() as conn:
        _, secret = access_keys.create_access_key(conn, account, user, box)
    forbidden = [kek.hex(), base64.b64encode(kek).decode(), base64.urlsafe_b64encode(kek).decode(), secret]
    dumped = _all_rows_as_text(database)
    assert not [item for item in forbidden if item in dumped]
    if database.dialect == "sqlite":
        with database.transaction() as conn:  # make sure the pages are in the files we scan
            conn.execute(text("SELECT 1"))
        directory = Path(database.engine.url.database or "").parent
        files = [p for p in directory.iterdir() if p.name.startswith("edgeward.db")]
        assert files
        raw = b"".join(p.read_bytes() for p in files)
        assert kek not in raw
        assert not [item for item in forbidden if item.encode() in raw]
