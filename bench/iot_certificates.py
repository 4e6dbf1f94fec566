"""IoT certificate issuing: bursts of CreateKeysAndCertificate and CreateCertificateFromCsr against a real
edgeward (`--workers 2`, SQLite), next to moto's in-process figures for the same calls.

    python bench/iot_certificates.py [--count 1000] [--clients 8] [--pool-wait 600] [--only edgeward|moto]
                                     [--wrk-seconds 5]

edgeward: `--clients` client processes (boto3, one client each, no GIL shared) start together at a barrier
and split `--count` calls; the rate is calls / (last finish - first start), with latency percentiles. Before
each burst the script waits (at most `--pool-wait` seconds) until the workers' key pools are full
(`edgeward serve --key-pool-size`, 1000 keys in each worker by default, filled at start and whenever the
server is idle; the server's `edgeward_key_pool_ready` gauge tells), because a burst is what the pool
exists for. `keys made` is how many keys a worker had to generate while its caller waited (its pool ran
dry: `edgeward_device_keys_total{source="on_demand"}`). The CSRs (half RSA-2048, half EC P-256, each with
its own common name) are made before timing. Client processes share the machine's cores with the server
(8 boto3 clients need more CPU than the server does), so on a small machine these figures are a floor.

edgeward, server capacity: then wrk (as in bench/throughput.py) replays pre-signed requests for
`--wrk-seconds` over 16 connections (a signed CreateCertificateFromCsr or CreateKeysAndCertificate is valid to
replay: each one issues a new certificate), so no Python client shares the CPU. 0 skips it.

moto: installed on first use into its own venv, `bench/.venv-moto` (never a project dependency), and run
there in a subprocess: `mock_aws` in one process, the same calls one after another with the same CSRs (moto
runs in the caller's process; concurrency adds nothing under one GIL).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench_servers
import bench_wrk
from bench_requests import Fixture, SignedRequest, Workload, sign
from bench_servers import Server

MOTO_VENV = bench_servers.BENCH_DIR / ".venv-moto"
INSTALL_TIMEOUT_S = 900

MOTO_SCRIPT = r"""
import json, sys, time
import boto3
from moto import mock_aws
count, csr_file = int(sys.argv[1]), sys.argv[2]
csrs = json.loads(open(csr_file).read())
with mock_aws():
    iot = boto3.client("iot", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    iot.create_keys_and_certificate(setAsActive=True)  # warm-up: imports, first backend
    out = {}
    for name, call in (
        ("CreateKeysAndCertificate", lambda i: iot.create_keys_and_certificate(setAsActive=True)),
        ("CreateCertificateFromCsr",
         lambda i: iot.create_certificate_from_csr(certificateSigningRequest=csrs[i], setAsActive=True)),
    ):
        latencies = []
        start = time.perf_counter()
        for i in range(count):
            t = time.perf_counter(); call(i); latencies.append(time.perf_counter() - t)
        out[name] = {"elapsed": time.perf_counter() - start, "latencies": latencies}
import moto
out["version"] = moto.__version__
print(json.dumps(out))
"""


def make_csrs(count: int) -> list[str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    keys = [rsa.generate_private_key(65537, 2048), ec.generate_private_key(ec.SECP256R1())]
    csrs = []
    for i in range(count):
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"bench-device-{i}")])
        csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(keys[i % 2], hashes.SHA256())
        csrs.append(csr.public_bytes(serialization.Encoding.PEM).decode())
    return csrs


# -- edgeward: client processes -----------------------------------------------------------------------------


def _client(server: Server) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "iot",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=server.credentials.access_key_id,
        aws_secret_access_key=server.credentials.secret_access_key,
        config=Config(retries={"max_attempts": 1}, max_pool_connections=2),
    )


def _calls(operation: str, client: Any, csrs: list[str]) -> Callable[[int], Any]:
    if operation == "CreateKeysAndCertificate":
        return lambda i: client.create_keys_and_certificate(setAsActive=True)
    return lambda i: client.create_certificate_from_csr(certificateSigningRequest=csrs[i], setAsActive=True)


def _worker(server: Server, operation: str, indexes: list[int], csrs: list[str], barrier: Any, results: Any) -> None:
    call = _calls(operation, _client(server), csrs)
    latencies: list[float] = []
    failures = 0
    barrier.wait()
    start = time.time()
    for i in indexes:
        began = time.perf_counter()
        try:
            call(i)
        except Exception:  # counted, not fatal: a bench reports failures
            failures += 1
        latencies.append(time.perf_counter() - began)
    results.put({"start": start, "end": time.time(), "latencies": latencies, "failures": failures})


def burst(server: Server, operation: str, count: int, clients: int, csrs: list[str]) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(clients), context.Queue()
    shares = [list(range(count))[n::clients] for n in range(clients)]
    processes = [
        context.Process(target=_worker, args=(server, operation, share, csrs, barrier, results)) for share in shares
    ]
    on_demand_before = on_demand_keys(server)
    for process in processes:
        process.start()
    cpu_before = _group_cpu_seconds(server.pgid)
    parts = [results.get(timeout=600) for _ in processes]
    cpu = _group_cpu_seconds(server.pgid) - cpu_before
    on_demand = on_demand_keys(server) - on_demand_before
    for process in processes:
        process.join()
    elapsed = max(p["end"] for p in parts) - min(p["start"] for p in parts)
    latencies = [x for p in parts for x in p["latencies"]]
    figures = summary(count, elapsed, latencies, sum(p["failures"] for p in parts))
    # The load-independent figure: the server's CPU per call (its key pools' refilling included), and the rate
    # that would allow on every core of this machine with nothing else running.
    figures["server_cpu_ms"] = round(cpu / count * 1000, 2)
    figures["cpu_bound_per_second"] = round((os.cpu_count() or 1) * count / cpu, 1) if cpu else None
    figures["keys_on_demand"] = on_demand
    return figures


def on_demand_keys(server: Server) -> int:
    """Keys the server generated while a caller waited (its pool was empty), from its Prometheus metrics."""
    return metric(server, 'edgeward_device_keys_total{source="on_demand"}')


def metric(server: Server, series: str) -> int:
    """One series of the server's Prometheus metrics (summed over the workers by the server)."""
    import urllib.request

    with urllib.request.urlopen(f"{server.endpoint}/_edgeward/metrics", timeout=30) as response:
        text = response.read().decode()
    return sum(int(float(line.split()[-1])) for line in text.splitlines() if line.split(" ")[0] == series)


def summary(count: int, elapsed: float, latencies: list[float], failures: int = 0) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "calls": count,
        "failures": failures,
        "seconds": round(elapsed, 3),
        "per_second": round(count / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
    }


WRK_CONNECTIONS = 16
WRK_OPERATIONS = {
    "CreateKeysAndCertificate": ("create_keys_and_certificate", lambda csrs: [{"setAsActive": True}]),
    "CreateCertificateFromCsr": (
        "create_certificate_from_csr",
        lambda csrs: [{"certificateSigningRequest": csr, "setAsActive": True} for csr in csrs[:64]],
    ),
}


def wrk_run(server: Server, operation: str, csrs: list[str], seconds: int, work: Path) -> dict[str, Any]:
    """Server capacity for one operation: wrk replays botocore-signed requests for `seconds`."""
    method, params = WRK_OPERATIONS[operation]
    workload = Workload(operation, "write", "iot", method, 1.0, lambda _fixture: [params(csrs)])
    groups = [[_one_host_header(request) for request in group] for group in sign(server, workload, Fixture(()))]
    script = bench_wrk.write_script(groups, work / f"{operation}.lua")
    on_demand_before = on_demand_keys(server)
    result = bench_wrk.run(server.endpoint, script, seconds, WRK_CONNECTIONS, 2)
    return {
        "calls": result.requests,
        "failures": result.non2xx + result.socket_errors,
        "seconds": seconds,
        "per_second": round(result.requests_per_s, 1),
        "p50_ms": round(result.p50_ms, 1),
        "p99_ms": round(result.p99_ms, 1),
        "first_failure": result.first_bad,
        "keys_on_demand": on_demand_keys(server) - on_demand_before,
    }


def _one_host_header(request: SignedRequest) -> SignedRequest:
    """botocore puts a lowercase `host` among rest-json headers, and wrk adds `Host` unless that exact key is
    there: two Host headers would make the server see another canonical request than the one signed."""
    headers = {name: value for name, value in request.headers.items() if name != "host"}
    headers["Host"] = request.headers.get("Host") or request.headers.get("host", "")
    return dataclasses.replace(request, headers=headers)


def fill_pools(server: Server, args: argparse.Namespace) -> None:
    """Let every worker's key pool fill (they fill when the workers start and whenever the server is idle):
    a burst is what they are for. The server's `edgeward_key_pool_ready` gauge says how many keys are
    ready; `--pool-wait` bounds the wait."""
    print(f"edgeward: waiting up to {args.pool_wait}s for {KEY_POOL_SIZE} pooled keys ...", flush=True)
    began = time.monotonic()
    ready = 0
    while time.monotonic() - began < args.pool_wait:
        ready = metric(server, "edgeward_key_pool_ready")
        if ready >= KEY_POOL_SIZE:
            print(f"edgeward: pools full after {time.monotonic() - began:.0f}s", flush=True)
            return
        time.sleep(1.0)
    print(f"edgeward: {ready} keys ready after {args.pool_wait}s; measuring anyway", flush=True)


KEY_POOL_SIZE = 2 * 1000  # `edgeward serve`'s default --key-pool-size, in each of the 2 workers


def _group_cpu_seconds(pgid: int) -> float:
    """User + system CPU time of every live process in the process group (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) == pgid:  # fields after the command: state, ppid, pgrp, ..., utime (11), stime (12)
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def run_edgeward(args: argparse.Namespace, csrs: list[str], work: Path) -> dict[str, dict[str, Any]]:
    """Each burst starts with full key pools (none of the server's CPU goes to refilling them during a
    burst that could have been made before it)."""
    results: dict[str, dict[str, Any]] = {"edgeward": {}, "edgeward-wrk": {}}
    with bench_servers.edgeward(work, key_pool=True) as server:
        for operation in WRK_OPERATIONS:
            fill_pools(server, args)
            results["edgeward"][operation] = burst(server, operation, args.count, args.clients, csrs)
        for operation in WRK_OPERATIONS if args.wrk_seconds else ():
            fill_pools(server, args)
            results["edgeward-wrk"][operation] = wrk_run(server, operation, csrs, args.wrk_seconds, work)
        for figures in results.values():
            figures["version"] = server.version
    if not args.wrk_seconds:
        del results["edgeward-wrk"]
    return results


# -- moto: its own venv, in-process -----------------------------------------------------------------------------


def ensure_moto() -> Path:
    python = MOTO_VENV / "bin" / "python"
    if not python.exists():
        print(f"installing moto into {MOTO_VENV} ...", flush=True)
        subprocess.run(["python3", "-m", "venv", str(MOTO_VENV)], check=True, timeout=INSTALL_TIMEOUT_S)
        pip = str(MOTO_VENV / "bin" / "pip")
        subprocess.run([pip, "install", "--quiet", "moto[iot]", "boto3"], check=True, timeout=INSTALL_TIMEOUT_S)
    return python


def run_moto(args: argparse.Namespace, csrs: list[str], work: Path) -> dict[str, Any]:
    csr_file = work / "csrs.json"
    csr_file.write_text(json.dumps(csrs))
    out = subprocess.run(
        [str(ensure_moto()), "-c", MOTO_SCRIPT, str(args.count), str(csr_file)],
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
    )
    raw = json.loads(out.stdout.strip().splitlines()[-1])
    figures: dict[str, Any] = {"version": raw.pop("version")}
    for name, part in raw.items():
        figures[name] = summary(args.count, part["elapsed"], part["latencies"])
    return figures


def report(results: dict[str, dict[str, Any]]) -> None:
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    header = f"{'operation':<28}{'server':<14}{'calls/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}"
    print(header + f"{'srv cpu ms':>12}{'cpu-bound/s':>13}{'keys made':>11}")
    for operation in ("CreateKeysAndCertificate", "CreateCertificateFromCsr"):
        for server, figures in results.items():
            f = figures[operation]
            row = f"{operation:<28}{server:<14}{f['per_second']:>10}{f['p50_ms']:>9}{f['p99_ms']:>9}{f['failures']:>8}"
            made = f.get("keys_on_demand", "") if operation == "CreateKeysAndCertificate" else ""
            print(row + f"{f.get('server_cpu_ms', ''):>12}{f.get('cpu_bound_per_second') or '':>13}{made:>11}")
        if "moto" in results:
            for server in (name for name in results if name != "moto"):
                ratio = results[server][operation]["per_second"] / results["moto"][operation]["per_second"]
                print(f"{'':<28}{'ratio':<14}{ratio:>9.1f}x  ({server} / moto)")
    print("versions: " + ", ".join(f"{name} {figures['version']}" for name, figures in results.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=1000, help="calls per burst (1000)")
    parser.add_argument("--clients", type=int, default=8, help="edgeward client processes (8)")
    parser.add_argument(
        "--pool-wait", type=int, default=600, help="at most this many seconds for edgeward's key pools to fill (600)"
    )
    parser.add_argument("--wrk-seconds", type=int, default=5, help="seconds of wrk replay per operation (5; 0: none)")
    parser.add_argument("--only", choices=("edgeward", "moto"), help="measure one side only")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= min(64, args.count):
        parser.error("need 1 <= --clients <= min(64, --count)")
    csrs = make_csrs(args.count)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="edgeward-bench-certs-") as temp:
        work = Path(temp)
        if args.only in (None, "edgeward"):
            results.update(run_edgeward(args, csrs, work))
        if args.only in (None, "moto"):
            results["moto"] = run_moto(args, csrs, work)
    report(results)
    print(json.dumps(results, indent=2))
    return 0 if all(f[op]["failures"] == 0 for f in results.values() for op in f if op != "version") else 1


if __name__ == "__main__":
    sys.exit(main())
