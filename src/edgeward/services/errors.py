"""Errors every service shares, in each service's own vocabulary."""

from __future__ import annotations

from edgeward.core.errors import ServiceError

# service -> (code, HTTP status) for an authorization denial (spec 4.3).
_ACCESS_DENIED: dict[str, tuple[str, int]] = {
    "iam": ("AccessDenied", 403),
    "sts": ("AccessDenied", 403),
    "s3": ("AccessDenied", 403),
    "sagemaker": ("AccessDeniedException", 400),
    "sagemaker-edge": ("AccessDeniedException", 403),
    "iot": ("AccessDeniedException", 403),
}


def access_denied(service: str, message: str) -> ServiceError:
    code, status = _ACCESS_DENIED.get(service, ("AccessDeniedException", 403))
    return ServiceError(code, message, status)


def unauthorized_handler(service: str, operation: str) -> ServiceError:
    """A handler returned without authorizing: refuse (fail closed) rather than let the effect through."""
    return access_denied(service, f"edgeward refused {service}:{operation}: the operation made no authorization check.")
