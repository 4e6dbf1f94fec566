"""DeepLens registration errors. DeepLens has no public API, so edgeward answers in the vocabulary its other
JSON services use: the code names the kind of failure, the message says what to do."""

from __future__ import annotations

from edgeward.core.errors import ServiceError


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, 404)


def already_exists(message: str) -> ServiceError:
    return ServiceError("ResourceAlreadyExistsException", message, 409)


def conflict(message: str) -> ServiceError:
    return ServiceError("ConflictException", message, 409)


def no_device(name: str) -> ServiceError:
    return not_found(f"Device {name} is not registered.")
