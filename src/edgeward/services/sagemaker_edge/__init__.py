"""The Edge Manager device data plane (sagemaker-edge)."""

from __future__ import annotations

from edgeward.services.operations import merged
from edgeward.services.sagemaker_edge import edge_ops

OPERATIONS = merged("sagemaker-edge", edge_ops.OPERATIONS)
