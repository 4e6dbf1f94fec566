"""`edgeward decisions`: recent authorization decisions, newest first — "why was I denied?".

Reads the database directly (no key-encryption key needed), so it works while the server runs. Decisions
reach the database in batches about every 200 ms; the log keeps 7 days / 1,000,000 rows by default.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from edgeward.cli.where import add_database_options, database_url
from edgeward.core import clock
from edgeward.storage.database import Database
from edgeward.storage.repos.decisions import DecisionRecord, query_decisions

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_WIDE = 64  # longest cell of a column other than the last; longer ones keep their (informative) end


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "decisions",
        help="show recent authorization decisions (why was a request denied?)",
        description="Recent authorization decisions, newest first. Reads the database directly.",
    )
    add_database_options(parser)
    parser.add_argument("--principal", help="caller ARN, or its last part (user name, role session name)")
    parser.add_argument("--action", help="e.g. iam:GetUser (case-insensitive)")
    parser.add_argument("--denied", action="store_true", help="denials only")
    parser.add_argument(
        "--since", type=parse_since, help="ISO time (UTC unless it has an offset) or an age: 30s, 15m, 2h, 1d, 1w"
    )
    parser.add_argument("--limit", type=_positive, default=50, help="at most this many decisions (default: 50)")
    parser.add_argument("--json", action="store_true", help="JSON lines, one object per decision, every field")
    parser.set_defaults(run=run)


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`15m`, `2h`, `1d` (ago), or an ISO time; naive times are UTC."""
    match = _RELATIVE.match(text)
    if match:
        amount, unit = float(match.group(1)), match.group(2).lower()
        return (now or clock.now()) - timedelta(**{_UNITS[unit]: amount})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time or an age (15m, 2h, 1d): {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def run(args: argparse.Namespace) -> int:
    try:
        db = Database(database_url(args))
    except (LookupError, ValueError) as exc:
        print(f"edgeward: {exc}", file=sys.stderr)
        return 2
    try:
        with db.read() as conn:
            records = query_decisions(
                conn,
                principal=args.principal,
                action=args.action,
                denied_only=args.denied,
                since=args.since,
                limit=args.limit,
            )
    except SQLAlchemyError as exc:
        print(f"edgeward: cannot read the decision log: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    if args.json:
        for record in records:
            print(json.dumps(as_json(record)))
    else:
        print(render_table(records))
    return 0


def as_json(record: DecisionRecord) -> dict[str, Any]:
    return {
        "time": record.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "account": record.account_id,
        "request_id": record.request_id,
        "principal": record.principal_arn,
        "action": record.action,
        "resource": record.resource,
        "decision": "allow" if record.allowed else "deny",
        "policy_type": record.policy_type,
        "policy": record.policy_id,
        "statement": record.statement,
        "reason": record.reason,
    }


def short_reason(record: DecisionRecord) -> str:
    """The reason without what the other columns already say: AWS's denial text names caller, action and
    resource again; keep its `because ...` / `with an explicit deny ...` part and name the statement."""
    reason = record.reason
    head = f"User: {record.principal_arn} is not authorized to perform: {record.action}"
    if reason.startswith(head):
        reason = reason[len(head) :].removeprefix(f" on resource: {record.resource}").strip()
    if not record.allowed and record.policy_id:
        where = record.policy_id + (f" statement {record.statement}" if record.statement else "")
        reason = f"{reason} ({where})"
    return reason


def render_table(records: Sequence[DecisionRecord]) -> str:
    if not records:
        return "no decisions match"
    header = ("TIME (UTC)", "PRINCIPAL", "ACTION", "RESOURCE", "DECISION", "BY / REASON")
    rows = [
        (
            record.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            record.principal_arn,
            record.action,
            record.resource,
            "ALLOW" if record.allowed else "DENY",
            short_reason(record),
        )
        for record in records
    ]
    cells = [header, *[(*(_clip(c) for c in row[:-1]), row[-1]) for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]).rstrip()
        for row in cells
    )


def _clip(text: str) -> str:
    return text if len(text) <= _WIDE else "…" + text[-(_WIDE - 1) :]
