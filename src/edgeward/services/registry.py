"""Every implemented operation: (botocore service name, operation name) -> handler."""

from __future__ import annotations

from functools import cache

from edgeward.services.context import Handler, Preparer


@cache
def handlers() -> dict[tuple[str, str], Handler]:
    from edgeward.services import deeplens, iam, iot, s3, sagemaker, sagemaker_edge, sts

    table: dict[tuple[str, str], Handler] = {}
    services = (
        ("iam", iam),
        ("sts", sts),
        ("iot", iot),
        ("s3", s3),
        ("sagemaker", sagemaker),
        ("sagemaker-edge", sagemaker_edge),
        ("deeplens", deeplens),  # edgeward's own API: for the console and CLI, never routed on the wire
    )
    for service, module in services:
        for operation, handler in module.OPERATIONS.items():
            table[(service, operation)] = handler
    return table


def handler_for(service: str, operation: str) -> Handler | None:
    return handlers().get((service, operation))


@cache
def preparers() -> dict[tuple[str, str], Preparer]:
    """Operations whose CPU-heavy part can run before their write transaction (`context.Preparer`)."""
    from edgeward.services import iot

    return {("iot", operation): preparer for operation, preparer in iot.PREPARERS.items()}


def preparer_for(service: str, operation: str) -> Preparer | None:
    return preparers().get((service, operation))


# Operations any authenticated caller may use without a permission (AWS leaves these open too).
OPEN_OPERATIONS: frozenset[tuple[str, str]] = frozenset({("sts", "GetCallerIdentity")})


# Operations that only read run in a read-only transaction (no write lock on SQLite, `READ ONLY` on
# PostgreSQL, so a stray write fails loudly). Reads by AWS's naming, less the few that write.
_READ_PREFIXES = ("Get", "List", "Describe", "Head", "Simulate")
_WRITING_READS: frozenset[tuple[str, str]] = frozenset(
    {
        ("sts", "GetSessionToken"),
        ("sts", "GetFederationToken"),
    }
)


def is_read_only(service: str, operation: str) -> bool:
    return operation.startswith(_READ_PREFIXES) and (service, operation) not in _WRITING_READS
