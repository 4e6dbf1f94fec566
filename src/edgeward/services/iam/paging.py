"""IAM's Marker/MaxItems pagination."""

from __future__ import annotations

from typing import Any

DEFAULT_MAX_ITEMS = 100


def page_args(params: dict[str, Any]) -> tuple[str | None, int]:
    return params.get("Marker"), int(params.get("MaxItems") or DEFAULT_MAX_ITEMS)


def page_output(key: str, items: list[dict[str, Any]], next_marker: str | None) -> dict[str, Any]:
    output: dict[str, Any] = {key: items, "IsTruncated": next_marker is not None}
    if next_marker is not None:
        output["Marker"] = next_marker
    return output
