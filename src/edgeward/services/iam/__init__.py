"""IAM: each area keeps its own OPERATIONS table (`entities_ops`, `policies_ops`); this package merges them."""

from __future__ import annotations

from edgeward.services.context import Handler

OPERATIONS: dict[str, Handler] = {}


def _merge() -> None:
    from edgeward.services.iam import entities_ops, policies_ops

    for module in (entities_ops, policies_ops):
        for name, handler in module.OPERATIONS.items():
            if name in OPERATIONS:
                raise RuntimeError(f"IAM operation {name} registered twice")
            OPERATIONS[name] = handler


_merge()
