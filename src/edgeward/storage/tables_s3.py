"""S3 buckets, objects, multipart uploads and (on PostgreSQL) blob chunks."""

from __future__ import annotations

from edgeward.storage.tables import metadata  # noqa: F401
