"""`edgeward move-to-postgres`: a single node's SQLite installation (users and keys, a role, IoT things and
certificates, an object and a multipart upload in progress, a fleet) copied into an empty PostgreSQL
database; a node started on it with the same key-encryption key serves all of it, keeps issuing new ids,
and finishes the upload. A target that already holds an installation is refused, and so is a missing
source. PostgreSQL tests: they need EDGEWARD_TEST_DATABASE_URL.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from tests.serverfixtures import PG_ENV, PG_SKIP, drop_postgres, fresh_postgres_url, start_server

PART = 5 * 1024 * 1024


def edgeward(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgeward.cli.main", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def target() -> Iterator[str]:
    base_url = os.environ.get(PG_ENV)
    if not base_url:
        pytest.skip(PG_SKIP)
    url, name = fresh_postgres_url(base_url)
    try:
        yield url
    finally:
        drop_postgres(base_url, name)


def test_move_then_serve_everything_from_postgres(target: str, tmp_path: Path) -> None:
    data = tmp_path / "single" / "data"
    data.parent.mkdir()
    single = start_server(data)
    body = os.urandom(2 * 1024 * 1024 + 17)
    first_part = os.urandom(PART)
    try:
        iam, s3, iot, sm = (single.client(name) for name in ("iam", "s3", "iot", "sagemaker"))
        iam.create_user(UserName="mover")
        iam.put_user_policy(
            UserName="mover",
            PolicyName="read",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]}
            ),
        )
        key = iam.create_access_key(UserName="mover")["AccessKey"]
        s3.create_bucket(Bucket="moved")
        s3.put_object(Bucket="moved", Key="model.bin", Body=body)
        upload = s3.create_multipart_upload(Bucket="moved", Key="big.bin")["UploadId"]
        etag = s3.upload_part(Bucket="moved", Key="big.bin", UploadId=upload, PartNumber=1, Body=first_part)["ETag"]
        iot.create_thing(thingName="camera-1", attributePayload={"attributes": {"site": "north"}})
        cert = iot.create_keys_and_certificate(setAsActive=True)
        iot.attach_thing_principal(thingName="camera-1", principal=cert["certificateArn"])
        sm.create_device_fleet(DeviceFleetName="fleet", OutputConfig={"S3OutputLocation": "s3://moved/out"})
        sm.register_devices(DeviceFleetName="fleet", Devices=[{"DeviceName": "camera-1", "IotThingName": "camera-1"}])
        admin_keys = single.admin_keys()
    finally:
        single.stop()

    done = edgeward("move-to-postgres", "--data-dir", str(data), "--database-url", target)
    assert done.returncode == 0, done.stderr
    assert "copied" in done.stdout and "--database-url" in done.stdout
    assert (data / "edgeward.db").is_file()  # the source is left as it was

    node = tmp_path / "node" / "data"
    node.mkdir(parents=True, mode=0o700)
    shutil.copy2(data / "kek", node / "kek")  # the same key-encryption key, as the command says
    shutil.copy2(data / "credentials", node / "credentials")
    server = start_server(node, "postgres", target)
    try:
        assert server.admin_keys() == admin_keys
        mover = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
        assert mover.get_user()["User"]["UserName"] == "mover"  # its secret opens, its policy holds
        s3 = server.client("s3")
        assert hashlib.sha256(s3.get_object(Bucket="moved", Key="model.bin")["Body"].read()).digest() == (
            hashlib.sha256(body).digest()
        )
        parts = s3.list_parts(Bucket="moved", Key="big.bin", UploadId=upload)["Parts"]
        assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, etag, PART)]
        last = s3.upload_part(Bucket="moved", Key="big.bin", UploadId=upload, PartNumber=2, Body=b"tail")["ETag"]
        s3.complete_multipart_upload(
            Bucket="moved",
            Key="big.bin",
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}, {"PartNumber": 2, "ETag": last}]},
        )
        assert s3.get_object(Bucket="moved", Key="big.bin")["Body"].read() == first_part + b"tail"
        iot = server.client("iot")
        thing = iot.describe_thing(thingName="camera-1")
        assert thing["attributes"] == {"site": "north"}
        assert iot.list_thing_principals(thingName="camera-1")["principals"] == [cert["certificateArn"]]
        described = iot.describe_certificate(certificateId=cert["certificateId"])["certificateDescription"]
        assert described["status"] == "ACTIVE" and described["certificatePem"] == cert["certificatePem"]
        # new rows get new ids (the sequences were moved past the copied ones), and the CA still signs
        server.client("iam").create_user(UserName="after-the-move")
        iot.create_thing(thingName="camera-2")
        issued = iot.create_keys_and_certificate(setAsActive=True)
        issuing = x509.load_pem_x509_certificates((node / "ca.pem").read_bytes())[-1]
        x509.load_pem_x509_certificate(issued["certificatePem"].encode()).verify_directly_issued_by(issuing)
        devices = server.client("sagemaker").list_devices(DeviceFleetName="fleet")["DeviceSummaries"]
        assert [d["DeviceName"] for d in devices] == ["camera-1"]
    finally:
        server.stop()

    again = edgeward("move-to-postgres", "--data-dir", str(data), "--database-url", target)
    assert again.returncode == 1 and "already holds an installation" in again.stderr


def test_refusals_without_a_source_or_with_a_sqlite_target(tmp_path: Path) -> None:
    missing = edgeward("move-to-postgres", "--data-dir", str(tmp_path / "nowhere"), "--database-url", "sqlite://")
    assert missing.returncode == 1 and "no edgeward database in" in missing.stderr
    data = tmp_path / "data"
    data.mkdir()
    (data / "edgeward.db").write_bytes(b"")
    wrong = edgeward("move-to-postgres", "--data-dir", str(data), "--database-url", f"sqlite:///{tmp_path}/x.db")
    assert wrong.returncode == 1 and "must be a PostgreSQL URL" in wrong.stderr
