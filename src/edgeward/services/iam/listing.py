"""Marker/MaxItems pagination over a list already in memory (IAM's listings of policies and the like).

A marker is the key of the last item returned; the next page starts after the item with that key, or, if
it is gone meanwhile, after where it would sort.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def page(items: Sequence[T], key: Callable[[T], str], marker: str | None, max_items: int) -> tuple[list[T], str | None]:
    """The page of `items` (ordered by `key`) after `marker`, and the marker of the next page (None: last)."""
    start = 0
    if marker:
        keys = [key(item) for item in items]
        start = next((i + 1 for i, k in enumerate(keys) if k == marker), None) or next(
            (i for i, k in enumerate(keys) if k > marker), len(keys)
        )
    chosen = list(items[start : start + max_items])
    more = start + max_items < len(items)
    return chosen, (key(chosen[-1]) if more and chosen else None)
