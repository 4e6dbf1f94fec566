"""Throughput benchmark: wrk replays SigV4-signed requests against edgeward (--workers 2) and MiniStack.

    python bench/throughput.py [--duration 10] [--connections 32] [--threads 2] [--only edgeward|ministack]

Each server is started in turn on a free 127.0.0.1 port with a fresh state, measured, and stopped (also on
Ctrl-C or an error), so the two never compete for the CPU. See bench/README.md.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from types import FrameType
from typing import Any

import bench_report
import bench_servers
import bench_wrk
from bench_requests import WORKLOADS, Fixture, Workload, check_once, create_fixture, sign
from bench_servers import Server, ServerError

SERVERS: dict[str, Callable[[Path], AbstractContextManager[Server]]] = {
    "edgeward": bench_servers.edgeward,
    "ministack": bench_servers.ministack,
}
MAX_DURATION_S = 300
WARMUP_S = 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per workload/server (10)")
    parser.add_argument("--connections", type=int, default=32, help="open keep-alive connections (32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--only", choices=sorted(SERVERS), help="measure one server only (no ratio)")
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= MAX_DURATION_S:
        parser.error(f"--duration must be 1..{MAX_DURATION_S}")
    if not 1 <= args.threads <= args.connections <= 10_000:
        parser.error("need 1 <= --threads <= --connections <= 10000")
    return args


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _run_wrk(
    server: Server, workload: Workload, fixture: Fixture, script: Path, seconds: int, args: argparse.Namespace
) -> bench_wrk.WrkResult:
    bench_wrk.write_script(sign(server, workload, fixture), script)  # signed just before the run
    return bench_wrk.run(server.endpoint + "/", script, seconds, args.connections, args.threads)


def _measure(
    server: Server, workload: Workload, fixture: Fixture, work_dir: Path, args: argparse.Namespace
) -> bench_wrk.WrkResult:
    check_once(server, workload, fixture)
    script = work_dir / f"{workload.operation}.lua"
    _run_wrk(server, workload, fixture, script, min(WARMUP_S, args.duration), args)  # warm-up, not reported
    result = _run_wrk(server, workload, fixture, script, args.duration, args)
    errors = "" if result.valid else f"  INVALID: {result.non2xx} non-2xx, {result.socket_errors} socket err."
    print(
        f"  {workload.name:<45} {result.requests_per_s:>10,.0f} req/s  p50 {result.p50_ms:6.1f} ms"
        f"  p99 {result.p99_ms:6.1f} ms{errors}",
        flush=True,
    )
    return result


def _bench_server(name: str, work_dir: Path, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    work_dir.mkdir()
    with SERVERS[name](work_dir) as server:
        print(f"{name} {server.version} ready at {server.endpoint}", flush=True)
        fixture = create_fixture(server)
        results = {w.name: _measure(server, w, fixture, work_dir, args) for w in WORKLOADS}
    return results, server.version


def _rows(results: dict[str, dict[str, Any]]) -> Iterator[bench_report.Row]:
    for workload in WORKLOADS:
        yield bench_report.Row(
            workload, results.get("edgeward", {}).get(workload.name), results.get("ministack", {}).get(workload.name)
        )


def _print_report(rows: list[bench_report.Row], args: argparse.Namespace, path: Path) -> None:
    print(
        f"\n{args.duration}s per run, {args.connections} connections, {args.threads} wrk threads, "
        f"edgeward --workers {bench_servers.EDGEWARD_WORKERS}; "
        "write = iam:UpdateAccessKey setting an existing key of a dedicated user to Active\n"
    )
    print(bench_report.table(rows))
    for line in bench_report.errors(rows):
        print(f"NOT VALID: {line}")
    print(f"\nsaved {path}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench_wrk.wrk_path()
    signal.signal(signal.SIGTERM, _interrupt)
    names = [args.only] if args.only else list(SERVERS)
    results: dict[str, dict[str, Any]] = {}
    versions: dict[str, str] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="edgeward-bench-") as tmp:
            for name in names:
                results[name], versions[name] = _bench_server(name, Path(tmp) / name, args)
    except ServerError as exc:
        print(f"bench: a server failed: {exc}", file=sys.stderr)
        return 2
    rows = list(_rows(results))
    settings = {
        "duration_s": args.duration,
        "connections": args.connections,
        "threads": args.threads,
        "edgeward_workers": bench_servers.EDGEWARD_WORKERS,
        "warmup_s": WARMUP_S,
    }
    _print_report(rows, args, bench_report.save(rows, settings, versions))
    return 1 if bench_report.errors(rows) else 0


if __name__ == "__main__":
    sys.exit(main())
