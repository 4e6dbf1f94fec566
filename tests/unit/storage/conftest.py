"""Fixtures shared by the storage tests."""

from __future__ import annotations

import pytest

from edgeward.storage.database import Database
from edgeward.storage.repos import accounts
from edgeward.storage.secrets import SecretBox

ACCOUNT = "123456789012"


@pytest.fixture
def box() -> SecretBox:
    return SecretBox.generate()


@pytest.fixture
def account(database: Database) -> str:
    with database.transaction() as conn:
        return accounts.create_account(conn, ACCOUNT).account_id
