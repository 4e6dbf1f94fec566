"""The installation account and install-level settings."""

from __future__ import annotations

import threading

import pytest

from edgeward.storage.database import Database
from edgeward.storage.errors import AlreadyExists
from edgeward.storage.repos import accounts, settings


def test_no_account_before_bootstrap(database: Database) -> None:
    with database.read() as conn:
        assert accounts.get_account(conn) is None


def test_create_and_get_account(database: Database) -> None:
    with database.transaction() as conn:
        created = accounts.create_account(conn, "123456789012")
    with database.read() as conn:
        assert accounts.get_account(conn) == created
    assert created.created_at.tzinfo is not None


def test_second_account_is_refused(database: Database) -> None:
    with database.transaction() as conn:
        accounts.create_account(conn, "123456789012")
        with pytest.raises(AlreadyExists):
            accounts.create_account(conn, "210987654321")
        assert accounts.get_account(conn) is not None  # the transaction is still usable


def test_account_id_must_be_12_digits(database: Database) -> None:
    with database.transaction() as conn, pytest.raises(ValueError):
        accounts.create_account(conn, "12345")


def test_concurrent_bootstraps_agree_on_one_account(database: Database) -> None:
    candidates = [f"11111111111{i}" for i in range(4)]
    barrier = threading.Barrier(len(candidates))
    chosen: list[str] = []
    errors: list[BaseException] = []

    def bootstrap(candidate: str) -> None:
        barrier.wait()
        try:
            with database.transaction() as conn:
                chosen.append(accounts.ensure_account(conn, candidate).account_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bootstrap, args=(c,)) for c in candidates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(chosen)) == 1
    with database.read() as conn:
        account = accounts.get_account(conn)
    assert account is not None and account.account_id == chosen[0]


def test_settings_put_get_overwrite(database: Database) -> None:
    with database.transaction() as conn:
        assert settings.get_setting(conn, "ca.id") is None
        settings.put_setting(conn, "ca.id", "one")
        settings.put_setting(conn, "ca.id", "two")
        settings.put_setting(conn, "other", "x")
    with database.read() as conn:
        assert settings.get_setting(conn, "ca.id") == "two"
        assert settings.get_settings(conn, "ca.") == {"ca.id": "two"}


def test_setting_if_absent_keeps_the_first_value(database: Database) -> None:
    with database.transaction() as conn:
        assert settings.put_setting_if_absent(conn, "k", "first") == "first"
        assert settings.put_setting_if_absent(conn, "k", "second") == "first"
        assert settings.delete_setting(conn, "k")
        assert not settings.delete_setting(conn, "k")
