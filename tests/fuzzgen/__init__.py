"""Inputs for edgeward's operations generated from botocore's shapes: valid ones (fail-closed test) and broken
ones (fuzz smoke test, bench/fuzz)."""


def wire_operations() -> list[tuple[str, str]]:
    """Every implemented operation that clients reach on the wire (the registry also holds edgeward's own
    console/CLI-only APIs, which have no botocore model)."""
    from edgeward.protocol.catalog import SERVICES
    from edgeward.services.registry import handlers

    return sorted(key for key in handlers() if key[0] in SERVICES)
