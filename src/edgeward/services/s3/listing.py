"""One page of a bucket listing: keys in UTF-8 byte order under a prefix, rolled up at a delimiter.

Keys come from the database in batches, in order. A key that rolls up into a common prefix makes the scan
jump past every key under that prefix (a range query starting after `prefix + U+10FFFF`, the highest code
point), so a folder of a million keys costs one row, not a million. A page holds at most `max_keys` entries,
objects and common prefixes together; `after` is exclusive (a marker, start-after or continuation key), and
a common prefix that `after` lies inside was reported by an earlier page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from edgeward.storage.repos import s3_objects
from edgeward.storage.repos.s3_objects import ObjectRecord

_HIGHEST = "\U0010ffff"
_BATCH = 1000


@dataclass(slots=True)
class Page:
    objects: list[ObjectRecord] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str = ""  # the page's last key or common prefix: where the next page starts (exclusive)

    @property
    def count(self) -> int:
        return len(self.objects) + len(self.prefixes)


def list_page(conn: Connection, bucket_id: int, *, prefix: str, delimiter: str, after: str, max_keys: int) -> Page:
    page = Page()
    if max_keys <= 0:
        return page
    start, inclusive = (prefix, True) if prefix > after else (after, False)
    while True:
        limit = min(max_keys - page.count + 1, _BATCH)
        rows = s3_objects.scan(conn, bucket_id, start=start, inclusive=inclusive, limit=limit)
        resume = _take(page, rows, prefix, delimiter, after, max_keys, exhausted=len(rows) < limit)
        if resume is None:
            return page
        start, inclusive = resume, False


def _take(
    page: Page, rows: list[ObjectRecord], prefix: str, delimiter: str, after: str, max_keys: int, *, exhausted: bool
) -> str | None:
    """Add `rows` to the page; where to resume the scan (exclusive), or None when the listing is over."""
    for obj in rows:
        key = obj.key
        if not key.startswith(prefix):
            return None
        rolled = _rolled_up(key, prefix, delimiter)
        if page.count == max_keys and (rolled is None or not after.startswith(rolled)):
            page.truncated = True
            return None
        if rolled is not None:
            if not after.startswith(rolled):
                page.prefixes.append(rolled)
                page.last = rolled
            return rolled + _HIGHEST
        page.objects.append(obj)
        page.last = key
    return None if exhausted or not rows else rows[-1].key


def _rolled_up(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    return None if at < 0 else key[: at + len(delimiter)]
