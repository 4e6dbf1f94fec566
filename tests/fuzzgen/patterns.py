"""AWS's Java regular expressions, read as Python can generate from them.

The models' patterns are Java regexes. Python's `re` reads most of them the same way; the exceptions here are the
Unicode property classes (`\\p{L}` and friends), which Python lacks. For *generating* valid strings a subset is
enough, so each class becomes a plain range of characters that the Java class certainly contains.
"""

from __future__ import annotations

import re
from functools import cache

# Unicode properties -> characters certainly inside them (ASCII plus a few Latin-1 letters for flavour).
_PROPERTY_SUBSETS = {
    "L": "a-zA-Z\u00c0-\u00d6",
    "Z": " ",
    "N": "0-9",
    "Graph": "!-~",
    "Print": " -~",
    "Alnum": "a-zA-Z0-9",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Punct": "!-/:-@\\[-`{-~",
}
_PROPERTY = re.compile(r"\\p\{(\w+)\}")
# A pattern that is one character class (or `.` / `\w`) repeated: the common AWS form.
_SINGLE_CLASS = re.compile(r"^\^?(\[(?:\\.|[^\]\\])*\]|\\[wdsS]|\.)([*+])\$?$")


def _inside_class(pattern: str, index: int) -> bool:
    depth, escaped = 0, False
    for char in pattern[:index]:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
    return depth > 0


@cache
def python_pattern(java: str) -> str:
    """`java` with every Unicode property class replaced by a Python-readable subset of it."""
    out, last = [], 0
    for match in _PROPERTY.finditer(java):
        subset = _PROPERTY_SUBSETS.get(match.group(1), "a-z")
        out.append(java[last : match.start()])
        out.append(subset if _inside_class(java, match.start()) else f"[{subset}]")
        last = match.end()
    out.append(java[last:])
    return "".join(out)


def bounded_pattern(java: str, low: int, high: int) -> str | None:
    """The pattern with its single repetition bounded to [low, high] characters, or None when it is not one class
    repeated (callers then filter by length instead)."""
    match = _SINGLE_CLASS.match(python_pattern(java))
    if match is None:
        return None
    low = max(low, 1 if match.group(2) == "+" else 0)
    return f"{match.group(1)}{{{low},{max(low, high)}}}"


@cache
def compiled(java: str) -> re.Pattern[str] | None:
    try:
        return re.compile(python_pattern(java), re.DOTALL)
    except re.error:
        return None
