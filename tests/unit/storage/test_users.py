"""IAM users: case-insensitive uniqueness, listing, deletion rules."""

from __future__ import annotations

import pytest

from edgeward.storage.database import Database
from edgeward.storage.errors import AlreadyExists, InUse, NotFound
from edgeward.storage.repos import access_keys, users
from edgeward.storage.secrets import SecretBox


def test_given_unique_id_is_kept(database: Database, account: str) -> None:
    with database.transaction() as conn:
        created = users.create_user(conn, account, "Alice", unique_id="AIDAAAAAAAAAAAAAAAAAA")
    assert created.unique_id == "AIDAAAAAAAAAAAAAAAAAA"


def test_create_and_get(database: Database, account: str) -> None:
    with database.transaction() as conn:
        created = users.create_user(conn, account, "Alice", "/team/", {"env": "dev"})
    assert created.unique_id.startswith("AIDA") and len(created.unique_id) == 21
    assert created.arn == f"arn:aws:iam::{account}:user/team/Alice"
    assert dict(created.tags) == {"env": "dev"}
    with database.read() as conn:
        assert users.get_user(conn, account, "Alice") == created
        assert users.get_user(conn, account, "aLiCe") == created
        assert users.get_user_by_id(conn, created.id) == created
        assert users.get_user_by_id(conn, created.id, account) == created
        assert users.get_user(conn, account, "Bob") is None
        assert users.get_user_by_id(conn, created.id, "999999999999") is None
        assert users.get_user_by_id(conn, created.id + 1000) is None


def test_names_are_unique_case_insensitively(database: Database, account: str) -> None:
    with database.transaction() as conn:
        users.create_user(conn, account, "Alice")
        with pytest.raises(AlreadyExists, match="ALICE"):
            users.create_user(conn, account, "ALICE")
        users.create_user(conn, account, "Bob")  # the transaction survived the violation
    with database.read() as conn:
        names = [u.name for u in users.list_users(conn, account)[0]]
    assert names == ["Alice", "Bob"]


def test_list_pages_in_name_order(database: Database, account: str) -> None:
    names = ["delta", "Alpha", "charlie", "Bravo", "echo"]
    with database.transaction() as conn:
        for name in names:
            users.create_user(conn, account, name)
    seen: list[str] = []
    marker: str | None = None
    with database.read() as conn:
        while True:
            page, marker = users.list_users(conn, account, "/", marker, 2)
            seen.extend(u.name for u in page)
            if marker is None:
                break
    assert seen == ["Alpha", "Bravo", "charlie", "delta", "echo"]


def test_list_by_path_prefix(database: Database, account: str) -> None:
    with database.transaction() as conn:
        users.create_user(conn, account, "a", "/eng/")
        users.create_user(conn, account, "b", "/eng/edge/")
        users.create_user(conn, account, "c", "/ENG/")
        users.create_user(conn, account, "d", "/e%g/")
        users.create_user(conn, account, "e", "/")
    with database.read() as conn:

        def names(prefix: str) -> list[str]:
            return [u.name for u in users.list_users(conn, account, prefix)[0]]

        assert names("/eng/") == ["a", "b"]  # case-sensitive
        assert names("/e%") == ["d"]  # no wildcard meaning
        assert names("/e_g/") == []
        assert names("/") == ["a", "b", "c", "d", "e"]


def test_delete(database: Database, account: str) -> None:
    with database.transaction() as conn:
        alice = users.create_user(conn, account, "Alice")
        users.delete_user(conn, alice)
        assert users.get_user(conn, account, "alice") is None
        with pytest.raises(NotFound):
            users.delete_user(conn, alice)
        users.create_user(conn, account, "alice")  # the name is free again


def test_ids_are_not_reused(database: Database, account: str) -> None:
    with database.transaction() as conn:
        first = users.create_user(conn, account, "a")
        users.delete_user(conn, first)
        second = users.create_user(conn, account, "a")
    assert second.id > first.id
    assert second.unique_id != first.unique_id


def test_user_with_keys_cannot_be_deleted(database: Database, account: str, box: SecretBox) -> None:
    with database.transaction() as conn:
        user = users.create_user(conn, account, "Alice")
        key, _ = access_keys.create_access_key(conn, account, user, box)
        with pytest.raises(InUse):
            users.delete_user(conn, user)
        access_keys.delete_access_key(conn, account, user, key.access_key_id)
        users.delete_user(conn, user)
