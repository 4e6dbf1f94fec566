"""What the pages beyond IAM share: paging through a list operation, heartbeat status, error pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from starlette.responses import Response

from edgeward.console.calls import Caller
from edgeward.console.page import Page
from edgeward.core import clock
from edgeward.core.errors import ServiceError

# A device is Online while its latest heartbeat is this recent. The agent beats every few seconds to a minute;
# two minutes tolerates a missed beat without showing a live device as Offline.
ONLINE_WINDOW = timedelta(minutes=2)
# Pages list at most this many items: enough for a console page, bounded for the server.
LIST_LIMIT = 1000


def status_of(exc: ServiceError) -> int:
    """The page's HTTP status for a failed call: the service's own for client faults."""
    return exc.status if exc.status < 500 else 500


def error_page(page: Page, title: str, exc: ServiceError) -> Response:
    return page.render("error.html", status_of(exc), title=title, message=exc.message)


def collect(
    caller: Caller,
    service: str,
    operation: str,
    params: dict[str, Any],
    items: str,
    token: tuple[str, str],
    page_size: tuple[str, int],
) -> list[Any]:
    """Every item of a paged list operation, up to LIST_LIMIT. `token` is (input name, output name)."""
    token_in, token_out = token
    found: list[Any] = []
    request = {**params, page_size[0]: page_size[1]}
    while len(found) < LIST_LIMIT:
        answer = caller.call(service, operation, request)
        found.extend(answer.get(items, []))
        next_token = answer.get(token_out)
        if not next_token:
            break
        request = {**request, token_in: next_token}
    return found[:LIST_LIMIT]


def heartbeat_status(latest: datetime | None, now: datetime | None = None) -> str:
    """Online when the device's latest heartbeat is within ONLINE_WINDOW, else Offline."""
    if latest is None:
        return "Offline"
    return "Online" if (now or clock.now()) - latest <= ONLINE_WINDOW else "Offline"


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def redirect(page: Page, to: str, notice: str = "") -> Response:
    return page.redirect(to, notice)
