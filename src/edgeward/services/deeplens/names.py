"""Device names and the names of what a registration creates.

A DeepLens device name is 1..100 letters, digits and dashes (seed 000). The IoT thing carries the device
name as it is. SageMaker device names are shorter (63) and must start and end with a letter or digit, so a
device name that does not fit becomes `deeplens-<32 hex of its SHA-256>` for its SageMaker device.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from edgeward.services.context import Context
from edgeward.services.deeplens import errors

MAX_NAME = 100
_NAME = re.compile(r"[A-Za-z0-9-]+")
_SAGEMAKER_DEVICE = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
THING_TYPE = "deeplens"
FLEET = "deeplens"
PREFIX = "DeepLens-"


def device_name(params: dict[str, Any]) -> str:
    """The request's `DeviceName`, checked: ValidationException saying what is wrong."""
    name = params.get("DeviceName")
    if not isinstance(name, str) or not name:
        raise errors.validation("DeviceName is required: 1 to 100 letters, digits and dashes.")
    if len(name) > MAX_NAME:
        raise errors.validation(
            f"Value at 'deviceName' failed to satisfy constraint: Member must have length less than or equal to "
            f"{MAX_NAME} (it has {len(name)} characters)."
        )
    if not _NAME.fullmatch(name):
        raise errors.validation(
            f"Invalid device name {name!r}: use only letters (A-Z, a-z), digits (0-9) and dashes (-)."
        )
    return name


def device_arn(ctx: Context, name: str) -> str:
    return ctx.arn("deeplens", f"device/{name}")


def role_alias(name: str) -> str:
    return f"{PREFIX}{name}"


def policy_name(name: str) -> str:
    return f"{PREFIX}{name}-policy"


def sagemaker_device_name(name: str) -> str:
    if _SAGEMAKER_DEVICE.fullmatch(name):
        return name
    return f"deeplens-{hashlib.sha256(name.encode()).hexdigest()[:32]}"
