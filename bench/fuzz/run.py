"""Fuzz campaign: over 10,000 broken requests at a real edgeward; zero 5xx, zero hangs, memory bounded.

    .venv/bin/python bench/fuzz/run.py                       # SQLite, about 10,500 cases
    .venv/bin/python bench/fuzz/run.py --per-operation 100   # more
    .venv/bin/python bench/fuzz/run.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Starts `edgeward serve` on a free port with a fresh data directory (on PostgreSQL: a fresh database next to the
URL's), creates what the inputs name (tests/fuzzgen/resources.py), then sends, per implemented operation,
`--per-operation` param-level broken inputs and as many byte-level broken bodies, plus every malformed-HTTP case
(tests/fuzzgen/malformed.py) `--http-rounds` times. Prints a summary; failing cases (exact bytes sent) go to
bench/results/fuzz-failures-<UTC time>.jsonl. Exit status 1 when any case failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from botocore.credentials import Credentials  # noqa: E402
from tests.fuzzgen import campaign, malformed, resources, wire_operations  # noqa: E402
from tests.serverfixtures import drop_postgres, fresh_postgres_url, start_server  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-operation", type=int, default=27, help="param-level cases per operation (27)")
    parser.add_argument("--wire-per-operation", type=int, default=27, help="byte-level cases per operation (27)")
    parser.add_argument("--http-rounds", type=int, default=3, help="times every malformed-HTTP case runs (3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=4, help="concurrent client connections (4)")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request deadline in seconds (30)")
    parser.add_argument("--slow-connections", type=int, default=200, help="slow clients at once (200)")
    parser.add_argument("--database-url", help="PostgreSQL base URL; a fresh database is created next to it")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="edgeward-fuzz-"))
    database_url, db_name = fresh_postgres_url(args.database_url) if args.database_url else (None, None)
    server = start_server(work / "data", "postgres" if database_url else "sqlite", database_url)
    try:
        resources.create(lambda service, **config: server.client(service, **config))
        key, secret = server.admin_keys()
        host, port = server.endpoint.removeprefix("http://").split(":")
        target = malformed.Target(host, int(port), Credentials(key, secret), timeout=args.timeout)
        account = server.client("sts").get_caller_identity()["Account"]
        operations = wire_operations()
        http = [case for _ in range(args.http_rounds) for case in malformed.all_cases(args.slow_connections, 4.0)]
        cases = chain(
            campaign.shape_cases(target, account, operations, args.per_operation, args.seed),
            campaign.wire_cases(target, account, operations, args.wire_per_operation, args.seed),
            campaign.http_cases(http),
        )
        report = campaign.run(cases, target, server_pid=server.process.pid, workers=args.workers)
        alive = server.process.poll() is None
    finally:
        server.stop()
        if db_name and args.database_url:
            drop_postgres(args.database_url, db_name)
    log = (work / "data.log").read_text(errors="replace")
    print(report.summary())
    print(
        f"backend {server.backend}; server alive at the end: {alive}; tracebacks in its log: {log.count('Traceback')}"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (machine shared; timings are indicative only)")
    if report.failures:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = ROOT / "bench" / "results" / f"fuzz-failures-{stamp}.jsonl"
        campaign.write_failures(report, out)
        print(f"failing cases written to {out}")
    return 1 if report.failures or not alive else 0


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"total {time.monotonic() - started:.0f} s")
    sys.exit(code)
