"""The one error type every layer raises; the protocol layer serializes it in each wire format."""

from __future__ import annotations

from collections.abc import Mapping


class ServiceError(Exception):
    """An AWS-style error: a code clients match on, a message people read, an HTTP status.

    `fields` are extra members some protocols put in the error body (S3 `<Key>`, IoT `resourceId`).
    `headers` are extra response headers (rare: S3 `x-amz-delete-marker` and the like).
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        sender_fault: bool = True,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        self.fields: dict[str, str] = dict(fields or {})
        self.headers: dict[str, str] = dict(headers or {})

    def __repr__(self) -> str:
        return f"ServiceError({self.code!r}, {self.message!r}, {self.status})"


def not_implemented(service: str, operation: str) -> ServiceError:
    """The answer for an operation of a known service that edgeward does not implement (yet)."""
    return ServiceError(
        "NotImplemented",
        f"edgeward does not implement the {service} operation {operation}.",
        501,
        sender_fault=False,
    )


def internal_error() -> ServiceError:
    return ServiceError(
        "InternalFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        500,
        sender_fault=False,
    )
