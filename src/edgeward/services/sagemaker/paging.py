"""NextToken for SageMaker listings: an opaque, URL-safe encoding of where the last page ended."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from edgeward.services.sagemaker import errors

DEFAULT_MAX_RESULTS = 10


def encode(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode(token: str | None) -> dict[str, Any] | None:
    """The position a NextToken names (None for no token); ValidationException for one we did not issue."""
    if not token:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        raise errors.validation("The NextToken is not valid. Use the NextToken of the previous page.") from None
    if not isinstance(position, dict):
        raise errors.validation("The NextToken is not valid. Use the NextToken of the previous page.")
    return position


def max_results(params: dict[str, Any], default: int = DEFAULT_MAX_RESULTS) -> int:
    """The page size asked for; SageMaker's validation error for one below 1 (the model sets no minimum)."""
    value = params.get("MaxResults")
    if value is None:
        return default
    if int(value) < 1:
        raise errors.validation(
            f"1 validation error detected: Value '{value}' at 'maxResults' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1"
        )
    return int(value)
