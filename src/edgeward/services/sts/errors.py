"""STS's error vocabulary (query protocol codes; statuses as STS answers them)."""

from __future__ import annotations

from edgeward.core.errors import ServiceError
from edgeward.services.errors import access_denied as _access_denied


def access_denied(message: str) -> ServiceError:
    return _access_denied("sts", message)


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", message, 400)


def packed_policy_too_large(percent: int) -> ServiceError:
    return ServiceError(
        "PackedPolicyTooLarge",
        f"Packed size of session policies and session tags consumes {percent}% of allotted space.",
        400,
    )


def mfa_not_supported(serial_number: str | None) -> ServiceError:
    """edgeward has no MFA devices: say so instead of pretending a code was checked."""
    device = f" {serial_number}" if serial_number else ""
    return access_denied(
        f"MultiFactorAuthentication failed: edgeward does not implement MFA devices, so the MFA device{device} "
        "and its token code cannot be validated. Call without SerialNumber and TokenCode."
    )


def not_authorized(caller_arn: str, action: str, resource: str) -> ServiceError:
    """AWS's denial for a role that does not exist (or is not this account's): no policy type is named."""
    return access_denied(f"User: {caller_arn} is not authorized to perform: {action} on resource: {resource}")
