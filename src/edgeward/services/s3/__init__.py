"""S3: each area keeps its own OPERATIONS table; this package merges them."""

from __future__ import annotations

from edgeward.services.operations import merged
from edgeward.services.s3 import buckets_ops, copy_ops, listing_ops, multipart_ops, objects_ops, policy_ops

OPERATIONS = merged(
    "S3",
    buckets_ops.OPERATIONS,
    policy_ops.OPERATIONS,
    objects_ops.OPERATIONS,
    copy_ops.OPERATIONS,
    listing_ops.OPERATIONS,
    multipart_ops.OPERATIONS,
)
