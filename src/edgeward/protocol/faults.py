"""The protocol-level errors each service answers with, in its own vocabulary.

Codecs and the router use these so that a malformed request to IAM says `ValidationError`, to SageMaker
`ValidationException`, to IoT `InvalidRequestException`, and to S3 `InvalidArgument` / `MalformedXML`.
"""

from __future__ import annotations

from edgeward.core.errors import ServiceError
from edgeward.protocol import validate

# service -> (code for constraint violations, HTTP status)
_VALIDATION: dict[str, tuple[str, int]] = {
    "iam": ("ValidationError", 400),
    "sts": ("ValidationError", 400),
    "sagemaker": ("ValidationException", 400),
    "sagemaker-edge": ("ValidationException", 400),
    "iot": ("InvalidRequestException", 400),
    "s3": ("InvalidArgument", 400),
}


def validation(service: str, found: list[str]) -> ServiceError:
    """Constraint violations, as `N validation errors detected: ...`."""
    code, status = _VALIDATION.get(service, ("ValidationException", 400))
    return ServiceError(code, validate.message(found), status)


def invalid_input(service: str, text: str) -> ServiceError:
    """A value of the wrong type or form (`MaxItems=abc`, a timestamp that is not one)."""
    code, status = _VALIDATION.get(service, ("ValidationException", 400))
    return ServiceError(code, text, status)


def malformed_body(service: str, detail: str) -> ServiceError:
    """A body that is not JSON / XML / form data at all."""
    if service == "s3":
        return ServiceError(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema",
            400,
        )
    if service in ("iam", "sts"):
        return ServiceError("MalformedInput", f"The request body could not be read: {detail}", 400)
    if service == "iot":
        return ServiceError("InvalidRequestException", f"The request body could not be read: {detail}", 400)
    return ServiceError("SerializationException", f"The request body could not be read: {detail}", 400)


def unknown_operation(service: str, detail: str) -> ServiceError:
    """A request that names no operation of the service (`Action=Nope`, an unknown path)."""
    if service in ("iam", "sts"):
        return ServiceError("InvalidAction", detail, 400)
    if service == "s3":
        return ServiceError("MethodNotAllowed", detail, 405)
    if service in ("sagemaker",):
        return ServiceError("UnknownOperationException", detail, 400)
    return ServiceError("UnknownOperationException", detail, 404)


def too_large(service: str, limit: int) -> ServiceError:
    code = "EntityTooLarge" if service == "s3" else "RequestEntityTooLarge"
    text = f"The request body is larger than the {limit} bytes this operation accepts."
    return ServiceError(code, text, 413)
