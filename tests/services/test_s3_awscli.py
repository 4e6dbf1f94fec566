"""The AWS CLI's `aws s3` commands over plain HTTP: mb, cp (single and multipart), ls, sync, rm, rb, and the
seed 001 step that copies the authorization files to the bucket."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.serverfixtures import RunningServer

MiB = 1024 * 1024


def aws(server: RunningServer, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(["aws", "s3", *args], env=server.env(), capture_output=True, input=stdin, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return done.stdout.decode()


def test_the_cli_round_trip(server: RunningServer, tmp_path: Path) -> None:
    aws(server, "mb", "s3://cli-bucket")
    assert "cli-bucket" in aws(server, "ls")
    small, large = tmp_path / "small.txt", tmp_path / "large.bin"
    small.write_text("hello from the cli\n")
    large.write_bytes(os.urandom(9 * MiB + 3))  # over the CLI's 8 MiB threshold: multipart, parallel parts
    aws(server, "cp", str(small), "s3://cli-bucket/docs/")
    aws(server, "cp", str(large), "s3://cli-bucket/blobs/large.bin")
    listing = aws(server, "ls", "s3://cli-bucket/")
    assert "PRE docs/" in listing and "PRE blobs/" in listing
    assert "large.bin" in aws(server, "ls", "s3://cli-bucket/blobs/")
    assert aws(server, "cp", "s3://cli-bucket/docs/small.txt", "-") == "hello from the cli\n"
    back = tmp_path / "back.bin"
    aws(server, "cp", "s3://cli-bucket/blobs/large.bin", str(back))
    assert back.read_bytes() == large.read_bytes()
    aws(server, "cp", "-", "s3://cli-bucket/streamed.txt", stdin=b"from stdin")
    assert aws(server, "cp", "s3://cli-bucket/streamed.txt", "-") == "from stdin"
    aws(server, "rm", "s3://cli-bucket/streamed.txt")
    aws(server, "rm", "--recursive", "s3://cli-bucket/")
    assert aws(server, "ls", "s3://cli-bucket/") == ""
    aws(server, "rb", "s3://cli-bucket")
    assert "cli-bucket" not in aws(server, "ls")


def test_sync_both_ways(server: RunningServer, tmp_path: Path) -> None:
    aws(server, "mb", "s3://sync-bucket")
    local = tmp_path / "local"
    (local / "nested" / "deeper").mkdir(parents=True)
    files = {"a.txt": b"a", "nested/b.txt": b"bb", "nested/deeper/c name.txt": b"ccc"}
    an_hour_ago = time.time() - 3600
    for name, data in files.items():
        (local / name).write_bytes(data)
        # S3's LastModified has whole seconds, as AWS's has: a file written in the same second as its upload
        # would look newer than its copy and be uploaded again, on AWS too.
        os.utime(local / name, (an_hour_ago, an_hour_ago))
    aws(server, "sync", str(local), "s3://sync-bucket/tree")
    recursive = aws(server, "ls", "--recursive", "s3://sync-bucket/")
    for name in files:
        assert f"tree/{name}" in recursive
    assert "upload:" not in aws(server, "sync", str(local), "s3://sync-bucket/tree")  # nothing changed
    copy = tmp_path / "copy"
    aws(server, "sync", "s3://sync-bucket/tree", str(copy))
    assert {str(p.relative_to(copy)): p.read_bytes() for p in copy.rglob("*") if p.is_file()} == files
    aws(server, "rb", "--force", "s3://sync-bucket")


def test_seed_001_upload_of_the_authorization_files(server: RunningServer, tmp_path: Path) -> None:
    aws(server, "mb", "s3://sagemaker-edge-demo-bucket")
    for name in ("private.pem.key", "device.pem.crt", "AmazonRootCA1.pem"):
        (tmp_path / name).write_text(f"-----BEGIN {name}-----\n")
        aws(server, "cp", str(tmp_path / name), "s3://sagemaker-edge-demo-bucket/authorization-files/")
    s3 = server.client("s3")  # default addressing, as the seed's own client
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket="sagemaker-edge-demo-bucket", Prefix="authorization-files/")["Contents"]
    ]
    assert keys == [
        "authorization-files/AmazonRootCA1.pem",
        "authorization-files/device.pem.crt",
        "authorization-files/private.pem.key",
    ]
