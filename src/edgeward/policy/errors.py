"""Why a policy document was refused, in IAM's `MalformedPolicyDocument` wording."""

from __future__ import annotations

from enum import Enum

from edgeward.core.errors import ServiceError


class Reason(Enum):
    """A machine-readable class for each refusal, so a service can reword it (S3 says `MalformedPolicy`)."""

    SYNTAX = "syntax"
    LEGACY = "legacy"
    UNKNOWN_FIELD = "unknown-field"
    PRINCIPAL_FORBIDDEN = "principal-forbidden"
    PRINCIPAL_MISSING = "principal-missing"
    PRINCIPAL_INVALID = "principal-invalid"
    ACTION_MISSING = "action-missing"
    ACTION_INVALID = "action-invalid"
    RESOURCE_MISSING = "resource-missing"
    RESOURCE_INVALID = "resource-invalid"
    RESOURCE_FORBIDDEN = "resource-forbidden"
    CONDITION_INVALID = "condition-invalid"
    SID_INVALID = "sid-invalid"
    SID_DUPLICATE = "sid-duplicate"


class PolicyError(ServiceError):
    """A refused policy document: IAM's `MalformedPolicyDocument`, HTTP 400, with IAM's message.

    It is a `ServiceError`, so an IAM handler may let it propagate; other services re-raise it with their
    own code (`MalformedPolicy` for S3, `MalformedPolicyException` for IoT) using `message` and `reason`.
    """

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__("MalformedPolicyDocument", message, 400)
        self.reason = reason

    def __repr__(self) -> str:
        return f"PolicyError({self.reason.name}, {self.message!r})"


SYNTAX_MESSAGE = "Syntax errors in policy."
LEGACY_MESSAGE = "The policy failed legacy parsing"
VENDOR_MESSAGE = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."


def syntax() -> PolicyError:
    return PolicyError(Reason.SYNTAX, SYNTAX_MESSAGE)


def legacy() -> PolicyError:
    return PolicyError(Reason.LEGACY, LEGACY_MESSAGE)


def unknown_field(name: str) -> PolicyError:
    return PolicyError(Reason.UNKNOWN_FIELD, f"Unknown field {name}")


def missing_vendor() -> PolicyError:
    return PolicyError(Reason.ACTION_INVALID, VENDOR_MESSAGE)
