"""Registering an already-packaged model artifact as a COMPLETED Edge packaging job.

edgeward does not compile or package models (CreateEdgePackagingJob says so). A model packaged elsewhere and
uploaded to S3 is registered instead — `edgeward models register`, or `register_packaged_model` from code — and
then DescribeEdgePackagingJob / ListEdgePackagingJobs show it, and deployment plans name it in their
ModelConfigs. Devices receive its S3 URL and SHA-1 from GetDeployments and verify what they download.

The SHA-1 comes from the caller, from the object's stored SHA-1 checksum (a single-part upload made with
`ChecksumAlgorithm=SHA1`), or is computed by reading the object's bytes from edgeward's S3 storage.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from edgeward.core import arn as arns
from edgeward.core import clock
from edgeward.storage.blobs import BlobStore
from edgeward.storage.repos import s3_buckets, s3_objects
from edgeward.storage.repos import sagemaker_deploy_packages as repo
from edgeward.storage.repos.sagemaker_deploy_packages import PackageRecord

COMPLETED = "COMPLETED"
_ENTITY_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_VERSION = re.compile(r"[a-zA-Z0-9 _.]{1,30}")
_SHA1 = re.compile(r"[0-9a-f]{40}")


class PackageError(ValueError):
    """The package cannot be registered; the message says why."""


@dataclass(frozen=True, slots=True)
class PackagedModel:
    job_name: str
    model_name: str
    model_version: str
    s3_url: str  # s3://bucket/key
    sha1: str | None = None  # hex; None: read it from edgeward's S3 storage


def register_packaged_model(
    conn: Connection, blobs: BlobStore | None, account: str, region: str, model: PackagedModel
) -> PackageRecord:
    """Record `model` as a COMPLETED packaging job (replacing the artifact of a job of the same name)."""
    _check_names(model)
    bucket, key = split_s3_url(model.s3_url)
    sha1 = model.sha1.lower() if model.sha1 else artifact_sha1(conn, blobs, bucket, key)
    if not _SHA1.fullmatch(sha1):
        raise PackageError(f"not a SHA-1 (40 hex digits): {model.sha1!r}")
    now = clock.now()
    values: dict[str, Any] = {
        "name": model.job_name,
        "arn": arns.build("sagemaker", region, account, f"edge-packaging-job/{model.job_name}"),
        "model_name": model.model_name,
        "model_version": model.model_version,
        "model_artifact": f"s3://{bucket}/{key}",
        "sha1": sha1,
        "status": COMPLETED,
        "status_message": "Registered with edgeward: packaged outside edgeward, not compiled by it.",
        "created_at": now,
        "last_modified_at": now,
    }
    return repo.put_package(conn, account, region, values)


def artifact_sha1(conn: Connection, blobs: BlobStore | None, bucket: str, key: str) -> str:
    """The SHA-1 (hex) of an object in edgeward's S3: its stored full-object SHA-1 checksum, or its bytes'."""
    found = s3_buckets.get_bucket(conn, bucket)
    record = s3_objects.get_object(conn, found.id, key) if found is not None else None
    if record is None:
        raise PackageError(f"no object s3://{bucket}/{key} in this edgeward's S3 (upload it first, or give --sha1)")
    stored = record.checksums.get("SHA1")
    if stored and record.parts_count is None:  # a multipart SHA-1 is a checksum of part checksums
        return base64.b64decode(stored).hex()
    if blobs is None:
        raise PackageError("the object's bytes are not reachable from here: give its SHA-1")
    digest = hashlib.sha1()  # the checksum type Edge Manager deployments carry
    for segment in s3_objects.segments(conn, record.id):
        for chunk in blobs.read(segment.blob_id):
            digest.update(chunk)
    return digest.hexdigest()


def split_s3_url(url: str) -> tuple[str, str]:
    if not url.startswith("s3://"):
        raise PackageError(f"not an s3:// URL: {url!r}")
    bucket, _, key = url[5:].partition("/")
    if not bucket or not key:
        raise PackageError(f"an s3:// URL names a bucket and a key: {url!r}")
    return bucket, key


def _check_names(model: PackagedModel) -> None:
    for what, value in (("packaging job name", model.job_name), ("model name", model.model_name)):
        if not _ENTITY_NAME.fullmatch(value):
            raise PackageError(f"{what} {value!r} must be 1-63 letters, digits and hyphens, starting with one")
    if not _VERSION.fullmatch(model.model_version):
        raise PackageError(f"model version {model.model_version!r} must be 1-30 of letters, digits, ' ', '_', '.'")


def job_shape(job: PackageRecord) -> dict[str, Any]:
    """DescribeEdgePackagingJob's output."""
    return {
        "EdgePackagingJobArn": job.arn,
        "EdgePackagingJobName": job.name,
        "ModelName": job.model_name,
        "ModelVersion": job.model_version,
        "EdgePackagingJobStatus": job.status,
        "EdgePackagingJobStatusMessage": job.status_message or "",
        "CreationTime": job.created_at,
        "LastModifiedTime": job.last_modified_at,
        "ModelArtifact": job.model_artifact,
        "ModelSignature": job.sha1,
    }


def job_summary(job: PackageRecord) -> dict[str, Any]:
    return {
        "EdgePackagingJobArn": job.arn,
        "EdgePackagingJobName": job.name,
        "EdgePackagingJobStatus": job.status,
        "ModelName": job.model_name,
        "ModelVersion": job.model_version,
        "CreationTime": job.created_at,
        "LastModifiedTime": job.last_modified_at,
    }
