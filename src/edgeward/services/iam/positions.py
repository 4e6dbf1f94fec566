"""Where each statement sits in a policy document's text, as the policy simulator reports it.

AWS's `StartPosition` is the place right after the `[` (or `,`) that precedes the statement, `EndPosition`
the place right after its closing `}`; lines and columns count from 1. (On AWS's own two-space-indented
AdministratorAccess this gives line 3 column 17 to line 8 column 6, as the service answers.)
"""

from __future__ import annotations

import json
from functools import lru_cache

Position = tuple[int, int]  # (line, column), 1-based
Span = tuple[Position, Position]

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def _position(text: str, offset: int) -> Position:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _statement_offsets(text: str) -> list[tuple[int, int]]:
    index = _skip(text, 0)
    if text[index] != "{":
        return []
    index += 1
    while True:
        index = _skip(text, index)
        if text[index] == "}":
            return []
        key, index = _DECODER.raw_decode(text, index)
        index = _skip(text, index)
        after_colon = index + 1  # text[index] is ':'
        index = _skip(text, after_colon)
        if key == "Statement":
            return (
                _elements(text, index) if text[index] == "[" else [(after_colon, _DECODER.raw_decode(text, index)[1])]
            )
        _, index = _DECODER.raw_decode(text, index)
        index = _skip(text, index)
        if text[index] != ",":
            return []
        index += 1


def _elements(text: str, index: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = index + 1  # after '['
    while True:
        value_at = _skip(text, start)
        if text[value_at] == "]":
            return spans
        _, end = _DECODER.raw_decode(text, value_at)
        spans.append((start, end))
        after = _skip(text, end)
        if text[after] != ",":
            return spans
        start = after + 1


@lru_cache(maxsize=1024)
def statement_spans(text: str) -> tuple[Span, ...]:
    """(start, end) of each statement, in order; empty when the text cannot be read that way."""
    try:
        offsets = _statement_offsets(text)
    except (ValueError, IndexError):
        return ()
    return tuple((_position(text, start), _position(text, end)) for start, end in offsets)
