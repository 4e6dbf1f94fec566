"""Upgrading from the first release's schema (revision 0006: IAM, STS sessions, the decision log) to this one's
with `edgeward migrate`: the data written at 0006 survives, its keys still sign requests, and the server starts
and serves the services added since.

The 0006 data is written by the IAM bootstrap code, whose tables no later migration has changed; a migration
that changes them must keep this test meaningful (e.g. by writing the rows with plain SQL of the 0006 schema).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData, Table, insert

from edgeward.server.bootstrap import bootstrap_account
from edgeward.server.config import Config
from edgeward.services.iam.bootstrap import create_administrator
from edgeward.storage import schema
from edgeward.storage.database import Database, sqlite_url
from edgeward.storage.secrets import SecretBox
from tests.serverfixtures import PG_ENV, PG_SKIP, drop_postgres, fresh_postgres_url, start_server

FIRST_RELEASE = "0006"
ACCOUNT = "123456789012"


def edgeward(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgeward.cli.main", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path, str | None]]:
    base_url = os.environ.get(PG_ENV)
    if request.param == "postgres" and not base_url:
        pytest.skip(PG_SKIP)
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    if request.param == "sqlite":
        yield "sqlite", data_dir, None
        return
    assert base_url
    url, name = fresh_postgres_url(base_url)
    try:
        yield "postgres", data_dir, url
    finally:
        drop_postgres(base_url, name)


def first_release_installation(data_dir: Path, url: str | None) -> tuple[str, str]:
    """A database at revision 0006 with an account, its administrator, a second user and a decision row.
    Returns the second user's access key."""
    db = Database(url or sqlite_url(data_dir))
    try:
        with db.engine.connect() as conn, conn.begin():
            command.upgrade(schema.alembic_config(conn), FIRST_RELEASE)
        assert db.schema_revision() == FIRST_RELEASE
        config = Config(data_dir=data_dir, database_url=url)
        box = SecretBox.load_or_create(config.kek_path)
        bootstrap_account(config, db, box, account_id=ACCOUNT, rewrite_credentials=True)
        with db.transaction() as conn:
            key = create_administrator(conn, ACCOUNT, "alice", box)
            decisions = Table("authz_decisions", MetaData(), autoload_with=conn)
            conn.execute(
                insert(decisions).values(
                    at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                    account_id=ACCOUNT,
                    request_id=str(uuid.uuid4()),
                    principal_arn=f"arn:aws:iam::{ACCOUNT}:user/alice",
                    action="iam:ListUsers",
                    resource="*",
                    allowed=False,
                    reason="release-0006 decision",
                )
            )
        return key
    finally:
        db.dispose()


def test_upgrade_from_the_first_release(target: tuple[str, Path, str | None]) -> None:
    backend, data_dir, url = target
    key_id, secret = first_release_installation(data_dir, url)
    where = ["--data-dir", str(data_dir)] + (["--database-url", url] if url else [])

    check = edgeward("migrate", *where, "--check")
    assert check.returncode == 1 and f"schema revision {FIRST_RELEASE}" in check.stdout
    done = edgeward("migrate", *where)
    assert done.returncode == 0, done.stderr
    head = schema.head_revision()
    assert done.stdout.strip() == f"schema revision {head} (upgraded from {FIRST_RELEASE})"
    again = edgeward("migrate", *where)
    assert again.stdout.strip() == f"schema revision {head} (already current)"
    assert edgeward("migrate", *where, "--check").returncode == 0

    server = start_server(data_dir, backend, url)
    try:
        admin_sts = server.client("sts")
        assert admin_sts.get_caller_identity()["Account"] == ACCOUNT
        alice = server.client("iam", key_id, secret)
        names = {user["UserName"] for user in alice.list_users()["Users"]}
        assert {"admin", "alice"} <= names
        iot = server.client("iot", key_id, secret)  # a service that did not exist at 0006
        thing = iot.create_thing(thingName=f"after-upgrade-{uuid.uuid4().hex[:6]}")
        assert thing["thingArn"].startswith(f"arn:aws:iot:us-east-1:{ACCOUNT}:thing/")
    finally:
        server.stop()
    source = ["--database-url", url] if url else ["--data-dir", str(data_dir)]
    shown = edgeward("decisions", *source, "--denied", "--limit", "1000")
    assert shown.returncode == 0, shown.stderr
    assert "release-0006 decision" in shown.stdout
