"""IoT control plane: each area keeps its own OPERATIONS table; this package merges them."""

from __future__ import annotations

from edgeward.services.context import Handler, Preparer

OPERATIONS: dict[str, Handler] = {}
PREPARERS: dict[str, Preparer] = {}


def _merge() -> None:
    from edgeward.services.iot import certificates_ops, policies_ops, role_aliases_ops, tags, things_ops

    for module in (
        things_ops,
        certificates_ops,
        policies_ops,
        role_aliases_ops,
        tags,
    ):
        for name, handler in module.OPERATIONS.items():
            if name in OPERATIONS:
                raise RuntimeError(f"IoT operation {name} registered twice")
            OPERATIONS[name] = handler
        PREPARERS.update(getattr(module, "PREPARERS", {}))


_merge()
