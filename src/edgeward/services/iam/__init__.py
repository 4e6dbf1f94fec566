"""IAM: each area keeps its own OPERATIONS table (`entities_ops`, `policies_ops`); this package merges them."""

from __future__ import annotations

from edgeward.services.iam import entities_ops, policies_ops
from edgeward.services.operations import merged

OPERATIONS = merged("IAM", entities_ops.OPERATIONS, policies_ops.OPERATIONS)
