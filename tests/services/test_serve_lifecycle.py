"""`edgeward serve` as an operator meets it: first start, restart, flags, workers, dev mode."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import PG_ENV, drop_postgres, free_port, fresh_postgres_url, start_server


def test_restart_keeps_state_and_account(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_server(data, extra_args=["--account-id", "123456789012", "--mtls-port", str(free_port())])
    try:
        first.client("iam").create_user(UserName="survivor")
        keys = first.admin_keys()
    finally:
        first.stop()
    second = start_server(data)
    try:
        assert second.admin_keys() == keys
        assert second.client("sts").get_caller_identity()["Account"] == "123456789012"
        assert second.client("iam").get_user(UserName="survivor")["User"]["UserName"] == "survivor"
    finally:
        second.stop()


def test_account_id_mismatch_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    start_server(data, extra_args=["--account-id", "111111111111"]).stop()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "edgeward.cli.main",
            "serve",
            "--data-dir",
            str(data),
            "--port",
            str(free_port()),
            "--account-id",
            "222222222222",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "111111111111" in out.stderr


def test_invalid_account_id_is_refused(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "edgeward.cli.main",
            "serve",
            "--data-dir",
            str(tmp_path / "d"),
            "--port",
            str(free_port()),
            "--account-id",
            "12ab",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "12 digits" in out.stderr


def test_banner_says_how_to_connect(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        log = (tmp_path / "data.log").read_text()
    finally:
        server.stop()
    assert f"AWS_ENDPOINT_URL={server.endpoint}" in log
    assert f"AWS_SHARED_CREDENTIALS_FILE={server.credentials_file.resolve()}" in log


def test_secrets_are_not_stored_in_clear(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        created = server.client("iam").create_user(UserName="x")
        assert created
        secret = server.client("iam").create_access_key(UserName="x")["AccessKey"]["SecretAccessKey"]
        _, admin_secret = server.admin_keys()
    finally:
        server.stop()
    for path in (tmp_path / "data").glob("edgeward.db*"):
        blob = path.read_bytes()
        assert secret.encode() not in blob and admin_secret.encode() not in blob
    assert secret not in (tmp_path / "data.log").read_text()


def test_two_workers_share_one_database(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", extra_args=["--workers", "2"])
    try:
        iam = server.client("iam")
        for index in range(20):
            iam.create_user(UserName=f"w{index}")
        names = {u["UserName"] for u in iam.list_users()["Users"]}
        assert {f"w{i}" for i in range(20)} <= names
        iam.create_user(UserName="quota")
        results = [_try_key(iam) for _ in range(4)]
        assert results.count(True) == 2
    finally:
        server.stop()


def _try_key(iam: object) -> bool:
    try:
        iam.create_access_key(UserName="quota")  # type: ignore[attr-defined]
        return True
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "LimitExceeded"
        return False


def test_dev_mode_accepts_any_credentials_and_resets(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", extra_args=["--dev"])
    try:
        anyone = server.client("iam", "AKIAANYTHING", "whatever")
        anyone.create_user(UserName="temporary")
        assert server.client("sts", "test", "test").get_caller_identity()["Arn"].endswith(":root")
        request = urllib.request.Request(f"{server.endpoint}/_edgeward/reset", method="POST", data=b"")
        with urllib.request.urlopen(request) as reply:
            assert json.loads(reply.read())["status"] == "reset"
        with pytest.raises(ClientError):
            anyone.get_user(UserName="temporary")
        assert "DEV MODE" in (tmp_path / "data.log").read_text()
    finally:
        server.stop()


def test_reset_refused_outside_dev_mode(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        request = urllib.request.Request(f"{server.endpoint}/_edgeward/reset", method="POST", data=b"")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request)
        assert caught.value.code == 403
    finally:
        server.stop()


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason="PostgreSQL tests skipped: set EDGEWARD_TEST_DATABASE_URL")
def test_two_nodes_on_one_postgresql(tmp_path: Path) -> None:
    base = os.environ[PG_ENV]
    url, name = fresh_postgres_url(base)
    kek = {"EDGEWARD_KEK": base64.b64encode(os.urandom(32)).decode()}
    first = start_server(tmp_path / "a", "postgres", url, extra_args=["--account-id", "333333333333"], env=kek)
    try:
        # A node with another key-encryption key refuses to start rather than fail on every request.
        with pytest.raises(RuntimeError, match="key-encryption key"):
            start_server(tmp_path / "c", "postgres", url)
        # A second node with the shared key joins the same account; it has no credentials file of its own.
        second = start_server(tmp_path / "b", "postgres", url, env=kek)
        try:
            key, secret = first.admin_keys()
            first.client("iam").create_user(UserName="shared")
            seen = second.client("iam", key, secret).get_user(UserName="shared")["User"]
            assert seen["Arn"] == "arn:aws:iam::333333333333:user/shared"
        finally:
            second.stop()
    finally:
        first.stop()
        drop_postgres(base, name)
