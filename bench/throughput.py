"""Throughput benchmark: wrk replays SigV4-signed requests against edgeward (--workers 2) and MiniStack.

    python bench/throughput.py [--duration 10] [--connections 32] [--threads 2] [--quiet-wait 60]
                               [--only edgeward|ministack]

Both servers run on free 127.0.0.1 ports with fresh state; each workload is measured on one server, then on the
other, back to back (an idle server uses no CPU), so a change in the machine's load between runs skews the ratio
as little as possible. Both are stopped at the end, also on Ctrl-C or an error. See bench/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from types import FrameType

import bench_cpu
import bench_report
import bench_servers
import bench_wrk
from bench_requests import WORKLOADS, WRITE_DESCRIPTION, Fixture, Workload, create_fixture, prepare, sign
from bench_servers import Server, ServerError

SERVERS: dict[str, Callable[[Path], AbstractContextManager[Server]]] = {
    "edgeward": bench_servers.edgeward,
    "ministack": bench_servers.ministack,
}
MAX_DURATION_S = 300
MAX_CONNECTIONS = 256  # the write has one wrk thread and one access key per connection
WARMUP_S = 2
BUSY_WARNING_CORES = 0.25

Results = dict[str, dict[str, bench_wrk.WrkResult]]  # server name -> workload name -> result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per workload/server (10)")
    parser.add_argument("--connections", type=int, default=32, help="open keep-alive connections (32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads for the reads (2)")
    parser.add_argument(
        "--quiet-wait", type=int, default=60, help="seconds to wait for other load to stop before each run (60)"
    )
    parser.add_argument("--only", choices=sorted(SERVERS), help="measure one server only (no ratio)")
    args = parser.parse_args(argv)
    if not 0 <= args.quiet_wait <= MAX_DURATION_S:
        parser.error(f"--quiet-wait must be 0..{MAX_DURATION_S}")
    if not 1 <= args.duration <= MAX_DURATION_S:
        parser.error(f"--duration must be 1..{MAX_DURATION_S}")
    if not 1 <= args.threads <= args.connections <= MAX_CONNECTIONS:
        parser.error(f"need 1 <= --threads <= --connections <= {MAX_CONNECTIONS}")
    return args


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _run_wrk(
    server: Server, workload: Workload, fixture: Fixture, script: Path, seconds: int, args: argparse.Namespace
) -> bench_wrk.WrkResult:
    prepare(server, workload, fixture)
    bench_wrk.write_script(sign(server, workload, fixture), script)  # signed just before the run
    threads = args.connections if workload.per_connection else args.threads
    start = bench_cpu.snapshot(server.pgid)
    result = bench_wrk.run(server.endpoint + "/", script, seconds, args.connections, threads)
    usage = bench_cpu.since(start, server.pgid)
    others = usage.machine_cores - (usage.group_s + result.wrk_cpu_s) / usage.wall_s
    return dataclasses.replace(result, server_cpu_s=usage.group_s, other_load_during=max(0.0, others))


def _measure(
    server: Server, workload: Workload, fixture: Fixture, work_dir: Path, args: argparse.Namespace
) -> bench_wrk.WrkResult:
    script = work_dir / f"{server.name}-{workload.operation}.lua"
    _run_wrk(server, workload, fixture, script, min(WARMUP_S, args.duration), args)  # warm-up, not reported
    busy = _wait_until_quiet(args.quiet_wait)
    result = dataclasses.replace(
        _run_wrk(server, workload, fixture, script, args.duration, args), busy_cores_before=busy
    )
    _print_run(server, workload, result)
    return result


def _wait_until_quiet(max_wait_s: int) -> float:
    """Wait (at most max_wait_s) until the machine idles; return the CPU it used in the last second."""
    deadline = time.monotonic() + max_wait_s
    busy = bench_cpu.busy_cores()
    while busy > BUSY_WARNING_CORES and time.monotonic() < deadline:
        busy = bench_cpu.busy_cores()
    return busy


def _print_run(server: Server, workload: Workload, result: bench_wrk.WrkResult) -> None:
    notes = "" if result.valid else f"  INVALID: {result.non2xx} non-2xx, {result.socket_errors} socket err."
    if result.other_load_cores > BUSY_WARNING_CORES:
        notes += f"  (other load: {result.busy_cores_before:.2f} cores before, {result.other_load_during:.2f} during)"
    print(
        f"  {server.name:<10} {workload.name:<42} {result.requests_per_s:>8,.0f} req/s"
        f"  p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms"
        f"  CPU: server {result.server_cpu_s / result.duration_s:4.2f} cores = {result.cpu_ms_per_request:4.2f} ms/req,"
        f" wrk {result.wrk_cpu_s / result.duration_s:4.2f} cores{notes}",
        flush=True,
    )


def _start(names: list[str], stack: ExitStack, tmp: Path, connections: int) -> list[tuple[Server, Fixture]]:
    started = []
    for name in names:
        (tmp / name).mkdir()
        server = stack.enter_context(SERVERS[name](tmp / name))
        print(f"{name} {server.version} ready at {server.endpoint}", flush=True)
        started.append((server, create_fixture(server, connections)))
    return started


def _bench(names: list[str], args: argparse.Namespace) -> tuple[Results, dict[str, str]]:
    results: Results = {name: {} for name in names}
    with tempfile.TemporaryDirectory(prefix="edgeward-bench-") as tmp, ExitStack() as stack:
        started = _start(names, stack, Path(tmp), args.connections)
        for workload in WORKLOADS:
            for server, fixture in started:
                results[server.name][workload.name] = _measure(server, workload, fixture, Path(tmp), args)
        versions = {server.name: server.version for server, _ in started}
    return results, versions


def _rows(results: Results) -> Iterator[bench_report.Row]:
    for workload in WORKLOADS:
        yield bench_report.Row(
            workload, results.get("edgeward", {}).get(workload.name), results.get("ministack", {}).get(workload.name)
        )


def _print_report(rows: list[bench_report.Row], args: argparse.Namespace, path: Path) -> None:
    print(
        f"\n{args.duration}s per run, {args.connections} connections, edgeward --workers "
        f"{bench_servers.EDGEWARD_WORKERS}; reads: {args.threads} wrk threads; write: one wrk thread per "
        f"connection.\n{WRITE_DESCRIPTION}\n"
    )
    print(bench_report.table(rows))
    print(f"\n{bench_report.cpu_line(rows)}")
    for line in bench_report.errors(rows):
        print(f"NOT VALID: {line}")
    for line in bench_report.busy_runs(rows, BUSY_WARNING_CORES):
        print(f"MACHINE BUSY (figure low by an unknown amount): {line}")
    print(f"\nsaved {path}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench_wrk.wrk_path()
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started with SIGINT ignored (a background job)
    names = [args.only] if args.only else list(SERVERS)
    try:
        results, versions = _bench(names, args)
    except ServerError as exc:
        print(f"bench: a server failed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; servers stopped", file=sys.stderr)
        return 130
    rows = list(_rows(results))
    settings = {
        "duration_s": args.duration,
        "connections": args.connections,
        "threads": args.threads,
        "edgeward_workers": bench_servers.EDGEWARD_WORKERS,
        "quiet_wait_s": args.quiet_wait,
        "warmup_s": WARMUP_S,
    }
    _print_report(rows, args, bench_report.save(rows, settings, versions))
    return 1 if bench_report.errors(rows) else 0


if __name__ == "__main__":
    sys.exit(main())
