"""The Edge Manager device data plane (sagemaker-edge)."""

from __future__ import annotations

from edgeward.services.context import Handler

OPERATIONS: dict[str, Handler] = {}


def _merge() -> None:
    from edgeward.services.sagemaker_edge import edge_ops

    for module in (edge_ops,):
        for name, handler in module.OPERATIONS.items():
            if name in OPERATIONS:
                raise RuntimeError(f"sagemaker-edge operation {name} registered twice")
            OPERATIONS[name] = handler


_merge()
