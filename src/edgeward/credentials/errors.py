"""The credentials provider's refusals: a status, AWS's message, and the `x-amzn-ErrorType` to send.

The messages are the ones AWS's credentials endpoint answers with (spec 1.4). None of them names a resource,
so a refusal tells a device nothing about what exists in any account.
"""

from __future__ import annotations

ACCESS_DENIED = "AccessDeniedException"
NOT_FOUND = "ResourceNotFoundException"
INVALID_REQUEST = "InvalidRequestException"


class ProviderError(Exception):
    def __init__(self, status: int, message: str, error_type: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type


def invalid_certificate() -> ProviderError:
    """Unknown, INACTIVE, REVOKED or PENDING_TRANSFER certificate, or one whose CA is no longer ACTIVE."""
    return ProviderError(403, "Certificate is invalid on this endpoint", ACCESS_DENIED)


def invalid_thing_name() -> ProviderError:
    return ProviderError(403, "Invalid thing name passed", ACCESS_DENIED)


def access_denied() -> ProviderError:
    return ProviderError(403, "Access Denied", ACCESS_DENIED)


def role_alias_not_found() -> ProviderError:
    return ProviderError(404, "Role alias does not exist", NOT_FOUND)


def cannot_assume_role() -> ProviderError:
    return ProviderError(400, "Unable to assume the role, or the role to assume does not exist", INVALID_REQUEST)


def duration_exceeds_role() -> ProviderError:
    return ProviderError(
        400, "The requested CredentialDurationSeconds exceeds the MaxSessionDuration set for the role", INVALID_REQUEST
    )


def invalid_role_alias(message: str) -> ProviderError:
    return ProviderError(400, message, INVALID_REQUEST)
