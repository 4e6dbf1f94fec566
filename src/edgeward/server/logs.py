"""Log output of `edgeward serve`: text for people (the default) or JSON lines for log collectors.

Both go to standard error and are set up by uvicorn in every worker process from `logging_config(...)`.
Each AWS API request gives one line on the `edgeward.access` logger with its request id, service, operation,
HTTP status, duration and the caller's ARN. Never its body, query string or headers: presigned URLs carry
signatures and session tokens there, and bodies carry secrets. Errors name the request id too.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

access_log = logging.getLogger("edgeward.access")

# Attributes every LogRecord has; anything else on a record came in through `extra=` and is a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the record's extra fields,
    and the formatted exception if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for uvicorn's `log_config`: one handler on the root logger, which
    uvicorn's and edgeward's loggers all propagate to."""
    formatter: dict[str, Any] = {"()": f"{__name__}.JsonFormatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    propagate = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"edgeward": formatter},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "edgeward", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {"uvicorn": propagate, "uvicorn.error": propagate, "uvicorn.access": propagate},
    }


def configure(log_format: str, level: str) -> None:
    """The same set-up for the `edgeward serve` process itself, before uvicorn starts."""
    import logging.config

    logging.config.dictConfig(logging_config(log_format, level))


def request_line(
    request_id: str,
    service: str,
    operation: str,
    status: int,
    seconds: float,
    principal: str,
    method: str,
    path: str,
) -> None:
    """The access-log line of one request (INFO; WARNING for a 5xx)."""
    level = logging.WARNING if status >= 500 else logging.INFO
    if not access_log.isEnabledFor(level):
        return
    duration_ms = round(seconds * 1000, 3)
    access_log.log(
        level,
        "%s %s:%s %d %.1fms request_id=%s principal=%s",
        method,
        service,
        operation,
        status,
        duration_ms,
        request_id,
        principal or "-",
        extra={
            "request_id": request_id,
            "service": service,
            "operation": operation,
            "status": status,
            "duration_ms": duration_ms,
            "principal": principal or None,
            "method": method,
            "path": path,
        },
    )
