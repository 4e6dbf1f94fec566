"""`edgeward kek rotate` with the servers stopped: every sealed secret (IAM secret keys, STS session secrets,
the CA's keys, a DeepLens key awaiting download) re-sealed under a new key-encryption key in one go; the
server started again works with all of them, and the old key opens nothing. Also: an interrupted rotation
(`kek.next` left behind) stops `edgeward serve` until the command is run again, and a KEK from the
environment needs the new one in EDGEWARD_KEK_NEW.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from edgeward.storage.database import Database
from edgeward.storage.errors import DecryptionError
from edgeward.storage.reseal import SEALED_COLUMNS
from edgeward.storage.secrets import SecretBox, create_key_file, read_key_file
from tests.e2e.mtls import Provider, start_provider
from tests.serverfixtures import RunningServer, start_server
from tests.services.deeplens_support import bundle_files, create_roles, database_url, open_deeplens, unique
from tests.services.test_backup_restore import edgeward


def where(server: RunningServer, url: str) -> list[str]:
    return ["--data-dir", str(server.data_dir)] + (["--database-url", url] if server.backend == "postgres" else [])


def tokens(url: str) -> list[str]:
    """Every sealed token in the database."""
    db = Database(url)
    try:
        with db.read() as conn:
            return [
                value
                for sealed in SEALED_COLUMNS
                for (value,) in conn.execute(select(sealed.column).where(sealed.column.is_not(None)))
            ]
    finally:
        db.dispose()


def restart(server: RunningServer, url: str) -> RunningServer:
    return start_server(server.data_dir, server.backend, url if server.backend == "postgres" else None)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_rotation_reseals_every_secret_and_the_server_keeps_working(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    running = start_provider(tmp_path_factory, backend)
    provider: Provider = next(running)
    server = provider.server
    url = database_url(provider)
    try:
        iam, sts = server.client("iam"), server.client("sts")
        user = iam.create_user(UserName="rotator")["User"]
        iam.put_user_policy(
            UserName="rotator",
            PolicyName="all",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            ),
        )
        key = iam.create_access_key(UserName="rotator")["AccessKey"]
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole"}],
        }
        role = iam.create_role(RoleName="rotated-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        as_user = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
        session = as_user.assume_role(RoleArn=role["Arn"], RoleSessionName="before")["Credentials"]
        create_roles(provider)
        camera = unique("cam")
        for deeplens in open_deeplens(provider):
            deeplens.call("RegisterDevice", {"DeviceName": camera})  # its key waits, sealed, for the download
        sts.get_caller_identity()
    finally:
        server.stop()

    old_key = read_key_file(server.data_dir / "kek")
    old_id = SecretBox(old_key).key_id
    before = tokens(url)
    assert before and all(token.startswith(f"ew1.{old_id}.") for token in before)

    done = edgeward("kek", "rotate", *where(server, url))
    assert done.returncode == 0, done.stderr
    new_id = SecretBox(read_key_file(server.data_dir / "kek")).key_id
    assert new_id != old_id and f"under key-encryption key {new_id} (was {old_id})" in done.stdout
    assert "2 IAM secret access keys" in done.stdout and "2 certificate authority keys" in done.stdout
    assert "1 DeepLens device keys awaiting download" in done.stdout
    assert not (server.data_dir / "kek.next").exists()
    after = tokens(url)
    assert len(after) == len(before) and all(token.startswith(f"ew1.{new_id}.") for token in after)
    with pytest.raises(DecryptionError):
        SecretBox(old_key).decrypt(after[0], b"any")

    again = restart(server, url)
    try:
        endpoint = again.endpoint
        # the admin's and the user's keys, the role session, the CA's key, the DeepLens key: all still open
        again.client("sts").get_caller_identity()
        assert again.client("iam", key["AccessKeyId"], key["SecretAccessKey"]).get_user()["User"]["UserName"] == (
            "rotator"
        )
        as_role = boto3.client(
            "sts",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=session["AccessKeyId"],
            aws_secret_access_key=session["SecretAccessKey"],
            aws_session_token=session["SessionToken"],
        )
        assert ":assumed-role/rotated-role/before" in as_role.get_caller_identity()["Arn"]
        created = again.client("iot").create_keys_and_certificate(setAsActive=True)
        cert = x509.load_pem_x509_certificate(created["certificatePem"].encode())
        issuing = x509.load_pem_x509_certificates((again.data_dir / "ca.pem").read_bytes())[-1]
        cert.verify_directly_issued_by(issuing)
        bundle = again.data_dir.parent / "bundle.zip"
        download = edgeward("deeplens", "download", camera, "--out", str(bundle), *_deeplens_where(again, url))
        assert download.returncode == 0, download.stderr
        files = bundle_files(bundle.read_bytes())
        device_key = serialization.load_pem_private_key(files["certs/device.pem.key"], password=None)
        device_cert = x509.load_pem_x509_certificate(files["certs/device.pem.crt"])
        assert public_der(device_key) == public_der(device_cert)
        # a stale client signing with a wrong secret is still refused
        with pytest.raises(ClientError):
            again.client("iam", key["AccessKeyId"], "x" * 40).get_user()
    finally:
        again.stop()
        next(running, None)


def public_der(holder: Any) -> bytes:
    public = holder.public_key()
    return bytes(public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def _deeplens_where(server: RunningServer, url: str) -> list[str]:
    if server.backend == "postgres":
        return ["--database-url", url, "--kek-file", str(server.data_dir / "kek")]
    return ["--data-dir", str(server.data_dir)]


def test_interrupted_rotation_blocks_serve_until_run_again(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = start_server(data_dir)
    key_id, secret = server.admin_keys()
    server.stop()
    create_key_file(data_dir / "kek.next")  # as if the command had stopped after writing the new key
    refused = subprocess.run(
        [sys.executable, "-m", "edgeward.cli.main", "serve", "--data-dir", str(data_dir), "--port", "0",
         "--mtls-port", "0", "--key-pool-size", "0"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "an interrupted `edgeward kek rotate` left" in refused.stderr + refused.stdout
    done = edgeward("kek", "rotate", "--data-dir", str(data_dir))
    assert done.returncode == 0, done.stderr
    assert not (data_dir / "kek.next").exists()
    again = start_server(data_dir)
    try:
        again.client("iam", key_id, secret).list_users()  # the admin's key opens under the new KEK
    finally:
        again.stop()


def test_environment_key_needs_the_new_one_named(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = {"EDGEWARD_KEK": "A" * 43 + "="}
    done = edgeward("kek", "rotate", "--data-dir", str(data_dir), env=env)
    assert done.returncode == 1
    assert "put the new one in EDGEWARD_KEK_NEW" in done.stderr
    same = edgeward("kek", "rotate", "--data-dir", str(data_dir), env={**env, "EDGEWARD_KEK_NEW": env["EDGEWARD_KEK"]})
    assert same.returncode == 1 and "the new key is the current one" in same.stderr
