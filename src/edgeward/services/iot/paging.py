"""IoT's nextToken/maxResults pagination for the registry listings (things, thing types, thing groups,
principals).

A token is the key the next page starts after, base64url-encoded: opaque to clients, stable across
requests and nodes, and needing no server-side state.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from edgeward.services.iot import errors

DEFAULT_MAX_RESULTS = 50
_TOKEN_PREFIX = "ew1."


def page_args(params: dict[str, Any]) -> tuple[str | None, int]:
    """(the key to start after, or None; the page size) from `nextToken` and `maxResults`."""
    return decode_token(params.get("nextToken")), int(params.get("maxResults") or DEFAULT_MAX_RESULTS)


def page_output(key: str, items: list[Any], next_key: str | None) -> dict[str, Any]:
    output: dict[str, Any] = {key: items}
    if next_key is not None:
        output["nextToken"] = encode_token(next_key)
    return output


def encode_token(key: str) -> str:
    return _TOKEN_PREFIX + base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_token(token: str | None) -> str | None:
    if not token:
        return None
    if not token.startswith(_TOKEN_PREFIX):
        raise errors.invalid_request("The nextToken is not valid.")
    encoded = token[len(_TOKEN_PREFIX) :]
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.invalid_request("The nextToken is not valid.") from None
