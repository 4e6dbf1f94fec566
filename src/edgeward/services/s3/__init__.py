"""S3: each area keeps its own OPERATIONS table; this package merges them."""

from __future__ import annotations

from edgeward.services.context import Handler

OPERATIONS: dict[str, Handler] = {}


def _merge() -> None:
    from edgeward.services.s3 import (
        buckets_ops,
        copy_ops,
        listing_ops,
        multipart_ops,
        objects_ops,
        policy_ops,
    )

    for module in (
        buckets_ops,
        policy_ops,
        objects_ops,
        copy_ops,
        listing_ops,
        multipart_ops,
    ):
        for name, handler in module.OPERATIONS.items():
            if name in OPERATIONS:
                raise RuntimeError(f"S3 operation {name} registered twice")
            OPERATIONS[name] = handler


_merge()
