"""IoT's error vocabulary (rest-json codes and statuses from the IoT model)."""

from __future__ import annotations

from edgeward.core.errors import ServiceError


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequestException", message, 400)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, 404)


def already_exists(message: str, resource_id: str = "", resource_arn: str = "") -> ServiceError:
    fields = {key: value for key, value in (("resourceId", resource_id), ("resourceArn", resource_arn)) if value}
    return ServiceError("ResourceAlreadyExistsException", message, 409, fields=fields)


def conflict(message: str) -> ServiceError:
    return ServiceError("ConflictException", message, 409)


def delete_conflict(message: str) -> ServiceError:
    return ServiceError("DeleteConflictException", message, 409)


def version_conflict(message: str) -> ServiceError:
    return ServiceError("VersionConflictException", message, 409)


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceededException", message, 410)


def certificate_validation(message: str) -> ServiceError:
    return ServiceError("CertificateValidationException", message, 400)


def certificate_state(message: str) -> ServiceError:
    return ServiceError("CertificateStateException", message, 406)


def certificate_conflict(message: str) -> ServiceError:
    return ServiceError("CertificateConflictException", message, 409)


def malformed_policy(message: str) -> ServiceError:
    return ServiceError("MalformedPolicyException", message, 400)


def versions_limit(message: str) -> ServiceError:
    return ServiceError("VersionsLimitExceededException", message, 409)
