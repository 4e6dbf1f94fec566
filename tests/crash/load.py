"""A write load whose every acknowledged write is recorded, so a crash test can check what survived.

Each writer is a thread with its own boto3 clients (no retries) that writes until its first transport error — the
node was killed — and records, per write, what it sent before sending (`attempted`) and what the node
acknowledged (`acked`). A write in flight at the kill is attempted but not acked: it may or may not be there
afterwards, but never half.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tests.serverfixtures import RunningServer

BATCH = 5  # devices per RegisterDevices call
PART_SIZE = 5 * 1024 * 1024  # S3's smallest part but the last
FLEET = "crash-fleet"
BUCKET = "crash-bucket"


@dataclass
class Ledger:
    """What one kind of write attempted and what the node acknowledged, by key."""

    attempted: dict[str, Any] = field(default_factory=dict)
    acked: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attempt(self, key: str, value: Any = None) -> None:
        with self.lock:
            self.attempted[key] = value

    def ack(self, key: str, value: Any = None) -> None:
        with self.lock:
            self.acked[key] = value

    @property
    def in_flight(self) -> set[str]:
        return set(self.attempted) - set(self.acked)


def part_body(upload: str, part: int, size: int) -> bytes:
    """Deterministic bytes of a part: the test keeps only their digest."""
    seed = hashlib.sha256(f"{upload}/{part}".encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def object_digest(upload: str) -> str:
    digest = hashlib.sha256()
    digest.update(part_body(upload, 1, PART_SIZE))
    digest.update(part_body(upload, 2, 1000))
    return digest.hexdigest()


class Writer(threading.Thread):
    """Runs `step(n)` for n = 0, 1, ... until the node goes away or `stop` is set."""

    def __init__(self, name: str, step: Callable[[int], None], ledger: Ledger, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.step, self.ledger, self.stop = step, ledger, stop

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            try:
                self.step(n)
            except ClientError as exc:  # an answer the node gave: never expected under this load
                self.ledger.errors.append(f"{self.name} #{n}: {exc}")
                return
            except BotoCoreError:  # connection refused or reset: the node is gone
                return
            n += 1


def set_up(server: RunningServer) -> None:
    """What the writers need: a fleet to register devices in and a bucket for multipart uploads."""
    server.client("sagemaker").create_device_fleet(
        DeviceFleetName=FLEET, OutputConfig={"S3OutputLocation": f"s3://{BUCKET}/out"}
    )
    server.client("s3").create_bucket(Bucket=BUCKET)


class Load:
    """One writer per kind: IAM users and their access keys, IoT things and certificates, device batches,
    multipart uploads."""

    def __init__(self, server: RunningServer, prefix: str) -> None:
        self.server, self.prefix = server, prefix
        self.users, self.keys = Ledger(), Ledger()
        self.things, self.certificates = Ledger(), Ledger()
        self.batches, self.uploads = Ledger(), Ledger()
        self.stop = threading.Event()
        self.writers = [
            Writer("iam", self.iam_step, self.users, self.stop),
            Writer("iot", self.iot_step, self.things, self.stop),
            Writer("sagemaker", self.sagemaker_step, self.batches, self.stop),
            Writer("s3", self.s3_step, self.uploads, self.stop),
        ]
        self.clients = {name: server.client(name) for name in ("iam", "iot", "sagemaker", "s3")}

    def start(self) -> None:
        for writer in self.writers:
            writer.start()

    def join(self) -> None:
        for writer in self.writers:
            writer.join(timeout=60)
            assert not writer.is_alive(), f"writer {writer.name} hangs"

    def ledgers(self) -> dict[str, Ledger]:
        return {
            "users": self.users,
            "keys": self.keys,
            "things": self.things,
            "certificates": self.certificates,
            "batches": self.batches,
            "uploads": self.uploads,
        }

    def acked_each(self) -> int:
        """The fewest acknowledged writes of any kind: the test kills once every kind has written some."""
        return min(len(ledger.acked) for ledger in self.ledgers().values())

    def iam_step(self, n: int) -> None:
        user = f"{self.prefix}-user-{n}"
        self.users.attempt(user)
        self.clients["iam"].create_user(UserName=user)
        self.users.ack(user)
        self.keys.attempt(user)
        key = self.clients["iam"].create_access_key(UserName=user)["AccessKey"]
        self.keys.ack(user, (key["AccessKeyId"], key["SecretAccessKey"]))

    def iot_step(self, n: int) -> None:
        thing = f"{self.prefix}-thing-{n}"
        self.things.attempt(thing)
        self.clients["iot"].create_thing(thingName=thing)
        self.things.ack(thing)
        self.certificates.attempt(str(n))
        created = self.clients["iot"].create_keys_and_certificate(setAsActive=True)
        self.certificates.ack(str(n), created["certificateId"])

    def sagemaker_step(self, n: int) -> None:
        batch = f"{self.prefix}-batch-{n}"
        names = [f"{batch}-{index}" for index in range(BATCH)]
        self.batches.attempt(batch, names)
        self.clients["sagemaker"].register_devices(
            DeviceFleetName=FLEET, Devices=[{"DeviceName": name} for name in names]
        )
        self.batches.ack(batch, names)

    def s3_step(self, n: int) -> None:
        s3, key = self.clients["s3"], f"{self.prefix}/object-{n}"
        self.uploads.attempt(key)
        upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
        parts = []
        for number, size in [(1, PART_SIZE), (2, 1000)]:
            body = part_body(key, number, size)
            etag = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=number, Body=body)["ETag"]
            parts.append({"PartNumber": number, "ETag": etag})
        s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
        self.uploads.ack(key, object_digest(key))
