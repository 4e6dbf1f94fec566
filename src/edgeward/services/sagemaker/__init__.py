"""SageMaker Edge Manager control plane: each area keeps its own OPERATIONS table; this package merges them."""

from __future__ import annotations

from edgeward.services.context import Handler

OPERATIONS: dict[str, Handler] = {}


def _merge() -> None:
    from edgeward.services.sagemaker import deployments_ops, devices_ops, fleets_ops

    for module in (
        fleets_ops,
        devices_ops,
        deployments_ops,
    ):
        for name, handler in module.OPERATIONS.items():
            if name in OPERATIONS:
                raise RuntimeError(f"SageMaker operation {name} registered twice")
            OPERATIONS[name] = handler


_merge()
