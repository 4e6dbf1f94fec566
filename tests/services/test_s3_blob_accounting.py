"""Every blob in the store belongs to exactly one object segment or upload part: overwrites, deletes,
aborted and completed uploads, failed uploads and deleted buckets leave no orphaned bytes behind
(data-directory files on SQLite, chunk rows on PostgreSQL)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import func, select

from edgeward.storage.database import Database, sqlite_url
from edgeward.storage.tables_s3 import blob_store_blobs, s3_object_segments, s3_parts
from tests.serverfixtures import RunningServer

MiB = 1024 * 1024


def database_of(server: RunningServer) -> Database:
    args = [str(arg) for arg in server.process.args]
    return Database(args[args.index("--database-url") + 1] if "--database-url" in args else sqlite_url(server.data_dir))


def stored_blobs(server: RunningServer, db: Database) -> int:
    if server.backend == "sqlite":
        root = server.data_dir / "blobs"
        return sum(1 for folder in root.iterdir() if folder.is_dir() and folder.name != "tmp" for _ in folder.iterdir())
    with db.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(blob_store_blobs)) or 0)


def referenced_blobs(db: Database) -> int:
    with db.read() as conn:
        segments = conn.scalar(select(func.count()).select_from(s3_object_segments)) or 0
        parts = conn.scalar(select(func.count()).select_from(s3_parts)) or 0
    return int(segments) + int(parts)


def test_no_blob_outlives_its_rows(server: RunningServer) -> None:
    s3: Any = server.client("s3", s3={"addressing_style": "path"})
    s3.create_bucket(Bucket="accounting-bucket")
    s3.create_bucket(Bucket="doomed-bucket")
    bucket = "accounting-bucket"
    s3.put_object(Bucket=bucket, Key="a", Body=b"1")
    s3.put_object(Bucket=bucket, Key="a", Body=b"2")  # overwrite frees the first blob
    s3.put_object(Bucket=bucket, Key="b", Body=b"3")
    s3.delete_object(Bucket=bucket, Key="b")
    s3.put_object(Bucket=bucket, Key="c", Body=b"4")
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}]})
    s3.copy_object(Bucket=bucket, Key="a-copy", CopySource=f"{bucket}/a")
    s3.copy_object(Bucket=bucket, Key="a-copy", CopySource=f"{bucket}/a")  # the copy replaced
    with pytest.raises(ClientError):
        wrong = base64.b64encode(hashlib.md5(b"x").digest()).decode()
        s3.put_object(Bucket=bucket, Key="bad", Body=b"y", ContentMD5=wrong)

    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    first = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"p" * (5 * MiB))
    s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=2, Body=b"replaced")
    second = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=2, Body=b"q")
    s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=3, Body=b"left out")
    chosen = [{"PartNumber": 1, "ETag": first["ETag"]}, {"PartNumber": 2, "ETag": second["ETag"]}]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": chosen})
    aborted = s3.create_multipart_upload(Bucket=bucket, Key="gone")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="gone", UploadId=aborted, PartNumber=1, Body=b"z")
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=aborted)
    pending = s3.create_multipart_upload(Bucket="doomed-bucket", Key="k")["UploadId"]
    s3.upload_part(Bucket="doomed-bucket", Key="k", UploadId=pending, PartNumber=1, Body=b"w")
    s3.delete_bucket(Bucket="doomed-bucket")

    db = database_of(server)
    try:
        assert stored_blobs(server, db) == referenced_blobs(db) == 4  # a, a-copy, mp part 1, mp part 2
    finally:
        db.dispose()
