"""After a crash and a restart: every acknowledged write is there, nothing half-written is visible, and the
database and blob store are intact.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import create_engine, text

from tests.crash.load import BUCKET, FLEET, Load
from tests.serverfixtures import RunningServer


def check_iam(server: RunningServer, load: Load) -> None:
    iam = server.client("iam")
    listed = {user["UserName"] for page in iam.get_paginator("list_users").paginate() for user in page["Users"]}
    assert set(load.users.acked) <= listed, f"acknowledged users lost: {set(load.users.acked) - listed}"
    assert listed - {"admin"} <= set(load.users.attempted), (
        f"users nobody created: {listed - set(load.users.attempted)}"
    )
    for user, (key_id, secret) in load.keys.acked.items():
        keys = [key["AccessKeyId"] for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]]
        assert keys == [key_id], (user, keys)
        # The key still signs: its encrypted secret survived whole.
        arn = server.client("sts", key_id, secret).get_caller_identity()["Arn"]
        assert arn.endswith(f":user/{user}")


def check_iot(server: RunningServer, load: Load) -> None:
    iot = server.client("iot")
    things = {thing["thingName"] for page in iot.get_paginator("list_things").paginate() for thing in page["things"]}
    assert set(load.things.acked) <= things, f"acknowledged things lost: {set(load.things.acked) - things}"
    assert things <= set(load.things.attempted)
    certificates = {
        certificate["certificateId"]: certificate["status"]
        for page in iot.get_paginator("list_certificates").paginate()
        for certificate in page["certificates"]
    }
    for certificate_id in load.certificates.acked.values():
        assert certificates.get(certificate_id) == "ACTIVE", certificate_id
    assert len(certificates) <= len(load.certificates.attempted)


def check_devices(server: RunningServer, load: Load) -> None:
    sagemaker = server.client("sagemaker")
    present = {
        device["DeviceName"]
        for page in sagemaker.get_paginator("list_devices").paginate(DeviceFleetName=FLEET)
        for device in page["DeviceSummaries"]
    }
    for batch, names in load.batches.attempted.items():
        registered = present & set(names)
        if batch in load.batches.acked:
            assert registered == set(names), f"acknowledged batch {batch} lost {set(names) - registered}"
        else:
            assert registered in (set(), set(names)), f"batch {batch} half registered: {sorted(registered)}"


def check_objects(server: RunningServer, load: Load) -> None:
    s3 = server.client("s3")
    keys = {
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        for item in page.get("Contents", [])
    }
    assert set(load.uploads.acked) <= keys, f"acknowledged uploads lost: {set(load.uploads.acked) - keys}"
    assert keys <= set(load.uploads.attempted)
    for key in keys:  # acknowledged or not, an object is whole
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        expected = load.uploads.acked.get(key) or _expected_digest(key)
        assert hashlib.sha256(body).hexdigest() == expected, f"object {key} is not what was uploaded"


def _expected_digest(key: str) -> str:
    from tests.crash.load import object_digest

    return object_digest(key)


def still_writable(server: RunningServer) -> None:
    """The restarted node takes writes of every kind again."""
    server.client("iam").create_user(UserName="after-restart")
    server.client("iot").create_thing(thingName="after-restart")
    server.client("sagemaker").register_devices(DeviceFleetName=FLEET, Devices=[{"DeviceName": "after-restart"}])
    server.client("s3").put_object(Bucket=BUCKET, Key="after-restart", Body=b"ok")
    with pytest.raises(ClientError):
        server.client("iam").create_user(UserName="after-restart")


# -- the database and the blob store ------------------------------------------------------------------------

_BLOB_REFERENCES = "SELECT blob_id, size FROM s3_object_segments UNION ALL SELECT blob_id, size FROM s3_parts"
# Foreign keys the schema cannot declare (polymorphic or kept loose on purpose), checked by hand.
_ORPHANS = {
    "access key without its user": (
        "SELECT count(*) FROM access_keys k LEFT JOIN iam_users u ON u.id = k.user_id "
        "WHERE k.user_id IS NOT NULL AND u.id IS NULL"
    ),
    "thing principal without its certificate": (
        "SELECT count(*) FROM iot_thing_principals p LEFT JOIN iot_certificates c ON c.arn = p.principal "
        "WHERE p.principal LIKE '%cert/%' AND c.arn IS NULL"
    ),
}


def check_database(server: RunningServer, database_url: str | None) -> None:
    url = database_url or f"sqlite:///{server.data_dir / 'edgeward.db'}"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalars().all() == ["ok"]
                assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            for what, query in _ORPHANS.items():
                assert conn.execute(text(query)).scalar_one() == 0, what
            references = conn.execute(text(_BLOB_REFERENCES)).all()
            if engine.dialect.name == "postgresql":
                _check_postgres_blobs(conn, references)
            else:
                _check_file_blobs(server.data_dir / "blobs", references)
    finally:
        engine.dispose()


def _check_file_blobs(root: Path, references: Sequence[Any]) -> None:
    for blob_id, size in references:
        path = root / blob_id[:2] / blob_id
        assert path.is_file(), f"referenced blob {blob_id} is missing"
        assert path.stat().st_size == size, f"blob {blob_id}: {path.stat().st_size} bytes, {size} referenced"


def _check_postgres_blobs(conn: Any, references: Sequence[Any]) -> None:
    stored = {
        row.blob_id: row
        for row in conn.execute(
            text(
                "SELECT b.blob_id, b.committed_at, b.size, coalesce(sum(length(c.data)), 0) AS stored "
                "FROM blob_store_blobs b LEFT JOIN blob_store_chunks c ON c.blob_id = b.blob_id "
                "GROUP BY b.blob_id, b.committed_at, b.size"
            )
        )
    }
    for blob_id, size in references:
        row = stored.get(blob_id)
        assert row is not None, f"referenced blob {blob_id} is missing"
        assert row.committed_at is not None, f"referenced blob {blob_id} was never committed"
        assert row.size == size == row.stored, f"blob {blob_id}: {row.stored} bytes stored, {size} referenced"
