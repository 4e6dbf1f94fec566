"""`edgeward decisions`: a real server records a denial; the command finds it, with AWS's reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from edgeward.cli import decisions as cli
from edgeward.cli.main import main
from edgeward.services.decisions import to_row
from edgeward.storage.database import Database, sqlite_url
from edgeward.storage.repos import decisions as repo
from tests.serverfixtures import PG_ENV, PG_SKIP, RunningServer, drop_postgres, fresh_postgres_url, start_server
from tests.unit.test_decisions import ACCOUNT, POLICY_ARN, USER_ARN, entry


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgeward.cli.main", "decisions", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def where(server: RunningServer, database_url: str | None) -> list[str]:
    return ["--database-url", database_url] if database_url else ["--data-dir", str(server.data_dir)]


def denied_user(server: RunningServer, name: str) -> Any:
    iam = server.client("iam")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])


def wait_for(args: list[str], needle: str, seconds: float = 10.0) -> str:
    deadline = time.monotonic() + seconds
    while True:
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
        if needle in result.stdout or time.monotonic() > deadline:
            return result.stdout
        time.sleep(0.2)


# -- against a running server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def database_url(server: RunningServer) -> str | None:
    if server.backend != "postgres":
        return None
    args = server.process.args
    assert isinstance(args, list)
    return str(args[args.index("--database-url") + 1])


def test_a_denial_is_recorded_with_its_reason(server: RunningServer, database_url: str | None) -> None:
    iam = denied_user(server, "no-policies")
    with pytest.raises(ClientError) as denied:
        iam.list_users()
    message = denied.value.response["Error"]["Message"]
    assert "is not authorized to perform: iam:ListUsers" in message

    output = wait_for([*where(server, database_url), "--denied", "--principal", "no-policies"], "iam:ListUsers")
    header, row, *_ = output.splitlines()
    assert header.split()[:3] == ["TIME", "(UTC)", "PRINCIPAL"]
    assert "user/no-policies" in row and "iam:ListUsers" in row and "DENY" in row
    assert "because no identity-based policy allows the iam:ListUsers action" in row

    result = run_cli(*where(server, database_url), "--denied", "--principal", "no-policies", "--json")
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["reason"] == message
    assert (record["decision"], record["action"], record["policy_type"], record["policy"]) == (
        "deny",
        "iam:ListUsers",
        "identity",
        None,
    )
    assert record["principal"].endswith(":user/no-policies")
    assert record["request_id"] == denied.value.response["ResponseMetadata"]["RequestId"]


def test_filters_by_action_and_age(server: RunningServer, database_url: str | None) -> None:
    iam = denied_user(server, "filters")
    for call in (iam.list_users, iam.list_roles):
        with pytest.raises(ClientError):
            call()
    base = [*where(server, database_url), "--principal", "filters", "--json"]
    wait_for([*base, "--action", "iam:ListRoles"], "iam:ListRoles")
    found = [json.loads(line)["action"] for line in run_cli(*base, "--since", "10m").stdout.splitlines()]
    assert found == ["iam:ListRoles", "iam:ListUsers"]  # newest first
    [only] = run_cli(*base, "--action", "IAM:listusers").stdout.splitlines()
    assert json.loads(only)["action"] == "iam:ListUsers"
    assert run_cli(*base, "--since", (datetime.now(UTC) + timedelta(hours=1)).isoformat()).stdout == ""


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_workers_and_a_clean_stop_lose_nothing(backend: str, tmp_path: Path) -> None:
    """Each worker has its own flusher; a decision still queued at shutdown is written on the way out."""
    base_url = os.environ.get(PG_ENV)
    if backend == "postgres" and not base_url:
        pytest.skip(PG_SKIP)
    url, name = fresh_postgres_url(base_url) if backend == "postgres" and base_url else (None, None)
    never = {"EDGEWARD_DECISIONS_FLUSH_SECONDS": "3600"}  # only the shutdown flush can write
    server = start_server(tmp_path / "data", backend, url, extra_args=["--workers", "2"], env=never)
    try:
        iam = denied_user(server, "two-workers")
        for _ in range(6):
            with pytest.raises(ClientError):
                iam.get_user(UserName="two-workers")
    finally:
        server.stop()
    try:
        assert server.process.returncode == 0
        result = run_cli(*where(server, url), "--denied", "--principal", "two-workers", "--json")
        assert result.returncode == 0, result.stderr
        assert [json.loads(line)["action"] for line in result.stdout.splitlines()] == ["iam:GetUser"] * 6
    finally:
        if name and base_url:
            drop_postgres(base_url, name)


# -- the command on its own -------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    data = tmp_path / "data"
    data.mkdir()
    db = Database(sqlite_url(data))
    db.migrate()
    now = time.time()
    with db.transaction() as conn:
        repo.insert_decisions(
            conn,
            [
                to_row(entry("iam:GetUser", at=now - 3 * 86400)),
                to_row(entry("iot:CreateThing", f"arn:aws:iot:us-east-1:{ACCOUNT}:thing/t", at=now - 7200)),
                to_row(entry("iam:DeleteUser", f"arn:aws:iam::{ACCOUNT}:user/bob", at=now - 60)),
                to_row(entry("iam:ListUsers", at=now - 5)),
            ],
        )
    db.dispose()
    yield data


def test_the_table_is_newest_first_and_short(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decisions", "--data-dir", str(data_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    assert [line.split()[3] for line in lines[1:]] == [
        "iam:ListUsers",
        "iam:DeleteUser",
        "iot:CreateThing",
        "iam:GetUser",
    ]
    list_users, delete_user, create_thing, _ = lines[1:]
    assert list_users.endswith(f"ALLOW     allowed by {POLICY_ARN} statement #1")
    assert delete_user.endswith(
        f"DENY      with an explicit deny in an identity-based policy ({POLICY_ARN} statement NoDeletes)"
    )
    assert create_thing.endswith("DENY      because no identity-based policy allows the iot:CreateThing action")
    assert USER_ARN in list_users


def test_filters(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def actions(*args: str) -> list[str]:
        assert main(["decisions", "--data-dir", str(data_dir), "--json", *args]) == 0
        return [json.loads(line)["action"] for line in capsys.readouterr().out.splitlines()]

    assert actions("--denied") == ["iam:DeleteUser", "iot:CreateThing"]
    assert actions("--since", "1h") == ["iam:ListUsers", "iam:DeleteUser"]
    assert actions("--since", "1d") == ["iam:ListUsers", "iam:DeleteUser", "iot:CreateThing"]
    assert actions("--limit", "1") == ["iam:ListUsers"]
    assert actions("--principal", "mateojackson", "--action", "iam:getuser") == ["iam:GetUser"]
    assert actions("--principal", "someone-else") == []


def test_reads_the_database_url_from_the_environment(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGEWARD_DATABASE_URL", sqlite_url(data_dir))
    assert main(["decisions", "--denied", "--limit", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "iam:DeleteUser"


def test_no_matches_and_no_database(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decisions", "--data-dir", str(data_dir), "--principal", "nobody"]) == 0
    assert capsys.readouterr().out.strip() == "no decisions match"
    assert main(["decisions", "--data-dir", str(tmp_path / "missing")]) == 2
    assert "no edgeward database" in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()


def test_since_accepts_ages_and_iso_times() -> None:
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert cli.parse_since("15m", now) == now - timedelta(minutes=15)
    assert cli.parse_since("2h", now) == now - timedelta(hours=2)
    assert cli.parse_since("1.5d", now) == now - timedelta(hours=36)
    assert cli.parse_since("2026-11-21T10:00:00Z") == datetime(2026, 11, 21, 10, tzinfo=UTC)
    assert cli.parse_since("2026-11-21 10:00") == datetime(2026, 11, 21, 10, tzinfo=UTC)
    assert cli.parse_since("2026-11-21T12:00:00+02:00") == datetime(2026, 11, 21, 10, tzinfo=UTC)
    with pytest.raises(Exception, match="not a time"):
        cli.parse_since("yesterday")
