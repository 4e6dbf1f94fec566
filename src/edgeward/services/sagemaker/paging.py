"""NextToken for SageMaker listings: an opaque, URL-safe encoding of where the last page ended.

Listings with a `SortBy` (fleets, deployment plans, packaging jobs) page by keyset: the token carries the
sort it was made for and the (sort value, name) of the last item; using it with another sort is a
ValidationException.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from edgeward.services.sagemaker import errors

DEFAULT_MAX_RESULTS = 10
TIME_SORTS = ("CREATION_TIME", "LAST_MODIFIED_TIME")
_BAD_SORT_TOKEN = "The NextToken does not belong to this listing's sort order. Start again without it."
Position = tuple[Any, str]  # (the sort column's value, the name) of the last item shown


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


def sort_order(params: dict[str, Any]) -> tuple[str, bool]:
    """(SortBy, descending): newest first by default, as SageMaker's listings."""
    return params.get("SortBy") or "CREATION_TIME", (params.get("SortOrder") or "Descending") == "Descending"


def sorted_position(params: dict[str, Any], sort_by: str, descending: bool) -> Position | None:
    """Where a sorted listing resumes (None without a token); ValidationException for a token of another
    sort or one we did not issue."""
    token = decode(params.get("NextToken"))
    if token is None:
        return None
    key = token.get("k")
    if token.get("s") != sort_by or token.get("d") != descending or not isinstance(key, list) or len(key) != 2:
        raise errors.validation(_BAD_SORT_TOKEN)
    value, name = key
    if not isinstance(value, str) or not isinstance(name, str):
        raise errors.validation(_BAD_SORT_TOKEN)
    if sort_by not in TIME_SORTS:
        return value, name
    try:
        return datetime.fromisoformat(value), name
    except ValueError:
        raise errors.validation(_BAD_SORT_TOKEN) from None


def sorted_page(output: dict[str, Any], last: Position | None, sort_by: str, descending: bool) -> dict[str, Any]:
    """`output` with the NextToken of a sorted listing when there is a next page."""
    if last is not None:
        value = last[0].isoformat() if isinstance(last[0], datetime) else last[0]
        output["NextToken"] = encode({"s": sort_by, "d": descending, "k": [value, last[1]]})
    return output
