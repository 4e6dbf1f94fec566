"""`edgeward backup` while the server runs and writes, `edgeward restore` into a new place, and a server started
on the restored data: the same account, the same keys working, every object listed readable with its bytes, the
same CA. Also the refusals: a non-empty target without --force, a backup without its key-encryption key.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.serverfixtures import PG_ENV, PG_SKIP, RunningServer, drop_postgres, fresh_postgres_url, start_server


def edgeward(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgeward.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


@dataclass
class Place:
    """Where an installation lives: a data directory, and a PostgreSQL database when the backend is one."""

    data_dir: Path
    database_url: str | None

    def args(self) -> list[str]:
        return ["--data-dir", str(self.data_dir)] + (["--database-url", self.database_url] if self.database_url else [])


@pytest.fixture(params=["sqlite", "postgres"])
def places(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Place, Place]]:
    base_url = os.environ.get(PG_ENV)
    if request.param == "postgres" and not base_url:
        pytest.skip(PG_SKIP)
    created: list[str] = []

    def place(name: str) -> Place:
        url = None
        if request.param == "postgres" and base_url:
            url, db_name = fresh_postgres_url(base_url)
            created.append(db_name)
        return Place(tmp_path / name / "data", url)

    try:
        yield request.param, place("original"), place("restored")
    finally:
        for db_name in created:
            assert base_url
            drop_postgres(base_url, db_name)


def start(place: Place, backend: str) -> RunningServer:
    place.data_dir.parent.mkdir(parents=True, exist_ok=True)
    return start_server(place.data_dir, backend, place.database_url)


def test_backup_while_writing_then_restore_elsewhere(places: tuple[str, Place, Place], tmp_path: Path) -> None:
    backend, original, restored = places
    server = start(original, backend)
    try:
        iam, s3, iot = server.client("iam"), server.client("s3"), server.client("iot")
        user = f"kept-{uuid.uuid4().hex[:6]}"
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        iam.put_user_policy(
            UserName=user,
            PolicyName="s3",
            PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}',
        )
        bucket = f"kept-{uuid.uuid4().hex[:6]}"
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="model.bin", Body=os.urandom(3 * 1024 * 1024 + 17))
        expected = s3.get_object(Bucket=bucket, Key="model.bin")["Body"].read()
        certificate = iot.create_keys_and_certificate(setAsActive=True)
        ca_before = (original.data_dir / "ca.pem").read_text()

        # Writes (new objects, deletions) keep going while the backup runs.
        stop = threading.Event()

        def churn() -> None:
            writer, n = server.client("s3"), 0
            while not stop.is_set():
                writer.put_object(Bucket=bucket, Key=f"churn/{n}", Body=os.urandom(1000 + n))
                if n % 3 == 2:
                    writer.delete_object(Bucket=bucket, Key=f"churn/{n - 1}")
                n += 1

        thread = threading.Thread(target=churn)
        thread.start()
        try:
            archive = tmp_path / "edgeward-backup.tar.gz"
            done = edgeward("backup", *original.args(), "--out", str(archive))
        finally:
            stop.set()
            thread.join()
        assert done.returncode == 0, done.stderr
        assert "contains the key-encryption key" in done.stdout
        assert archive.stat().st_mode & 0o777 == 0o600
        account = server.client("sts").get_caller_identity()["Account"]
    finally:
        server.stop()

    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and "files/kek" in names

    done = edgeward("restore", *restored.args(), "--from", str(archive))
    assert done.returncode == 0, done.stderr
    assert "upgraded to" in done.stdout

    again = start(restored, backend)
    try:
        assert again.client("sts").get_caller_identity()["Account"] == account
        assert again.admin_keys() == server.admin_keys()
        as_user = again.client("s3", key["AccessKeyId"], key["SecretAccessKey"])  # its secret decrypts: same KEK
        assert as_user.get_object(Bucket=bucket, Key="model.bin")["Body"].read() == expected
        listed = as_user.list_objects_v2(Bucket=bucket, Prefix="churn/").get("Contents", [])
        for item in listed:  # every object the restored database lists has its bytes
            body = as_user.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            assert len(body) == item["Size"]
        described = again.client("iot").describe_certificate(certificateId=certificate["certificateId"])
        assert described["certificateDescription"]["status"] == "ACTIVE"
        assert (restored.data_dir / "ca.pem").read_text() == ca_before  # the same CA, its key restored
    finally:
        again.stop()

    refused = edgeward("restore", *restored.args(), "--from", str(archive))
    assert refused.returncode == 1 and "--force" in refused.stderr
    replaced = edgeward("restore", *restored.args(), "--from", str(archive), "--force")
    assert replaced.returncode == 0, replaced.stderr


def test_backup_without_the_key(places: tuple[str, Place, Place], tmp_path: Path) -> None:
    backend, original, restored = places
    server = start(original, backend)
    server.stop()
    archive = tmp_path / "no-kek.tar"
    done = edgeward("backup", *original.args(), "--out", str(archive), "--without-kek")
    assert done.returncode == 0, done.stderr
    with tarfile.open(archive) as tar:
        assert not {"files/kek", "files/credentials"} & set(tar.getnames())

    refused = edgeward("restore", *restored.args(), "--from", str(archive))
    assert refused.returncode == 1 and "key-encryption key" in refused.stderr
    assert not (restored.data_dir / "edgeward.db").exists()

    restored.data_dir.mkdir(parents=True)
    wrong = restored.data_dir / "kek"
    wrong.write_bytes(os.urandom(32))
    wrong.chmod(0o600)
    refused = edgeward("restore", *restored.args(), "--from", str(archive))
    assert refused.returncode == 1 and "sealed with key-encryption key id" in refused.stderr

    wrong.write_bytes((original.data_dir / "kek").read_bytes())  # the operator brings the right key
    done = edgeward("restore", *restored.args(), "--from", str(archive))
    assert done.returncode == 0, done.stderr


def test_not_a_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar file at all")
    done = edgeward("restore", "--data-dir", str(tmp_path / "data"), "--from", str(junk))
    assert done.returncode == 1 and "cannot read" in done.stderr and "Traceback" not in done.stderr
