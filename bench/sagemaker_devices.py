"""SageMaker Edge Manager at scale against a real edgeward (`--workers 2`, SQLite).

    python bench/sagemaker_devices.py [--devices 100000] [--clients 4] [--duration 10] [--connections 16]

1. RegisterDevices: `--devices` devices in batches of 100 (edgeward's per-call limit), sent by `--clients`
   boto3 client processes at once; elapsed time and devices/s. The first 1,000 go first, on their own.
2. DescribeDevice and a ListDevices page (MaxResults=100, starting at random depths) under wrk, with 1,000 and
   then with `--devices` registered: p50 and p99 at each size, and the ratio (it should stay near 1).
3. SendHeartbeat under wrk, signed by the admin: heartbeats/s. Every wrk thread beats for devices of its own,
   each heartbeat reporting two models.

Requests are built and signed by boto3 (captured before sending) and replayed by wrk, as in throughput.py.
Client processes and wrk share the machine's cores with the server: on a small machine the figures are a floor.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_cpu
import bench_requests
import bench_servers
import bench_wrk
from bench_requests import SignedRequest, _to_signed
from bench_servers import Server

from edgeward.services.sagemaker import paging

BATCH = 100
FIRST_SIZE = 1_000
SIGNED_PER_THREAD = 64
FLEET = "bench-fleet"
QUIET_CORES = 0.25


def device_name(i: int) -> str:
    return f"bench-device-{i:07d}"


def client(server: Server, service: str) -> Any:
    return bench_requests.client(server, service, read_timeout=60)  # a batch of 100 devices takes a while


# -- registration: client processes ---------------------------------------------------------------------


def _register_worker(server: Server, batches: list[tuple[int, int]], barrier: Any, out: Any) -> None:
    sm = client(server, "sagemaker")
    barrier.wait()
    start = time.perf_counter()
    for first, last in batches:
        devices = [{"DeviceName": device_name(i), "IotThingName": f"thing-{i}"} for i in range(first, last)]
        sm.register_devices(DeviceFleetName=FLEET, Devices=devices)
    out.put((start, time.perf_counter()))


def register(server: Server, first: int, last: int, clients: int) -> float:
    """Register devices [first, last) in batches split over `clients` processes; the elapsed seconds."""
    batches = [(i, min(i + BATCH, last)) for i in range(first, last, BATCH)]
    barrier, out = multiprocessing.Barrier(clients), multiprocessing.Queue()
    shares = [batches[k::clients] for k in range(clients)]
    workers = [multiprocessing.Process(target=_register_worker, args=(server, s, barrier, out)) for s in shares]
    for worker in workers:
        worker.start()
    spans = [out.get(timeout=900) for _ in workers]
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise RuntimeError("a registering client failed")
    return max(end for _, end in spans) - min(start for start, _ in spans)


# -- signed requests for wrk -------------------------------------------------------------------------------


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def _capture(request: Any, **_: Any) -> None:
    raise _Captured(request)


def signed(server: Server, service: str, operation: str, params: list[dict[str, Any]]) -> list[SignedRequest]:
    api = client(server, service)
    api.meta.events.register_first("before-send", _capture)
    out = []
    for p in params:
        try:
            getattr(api, operation)(**p)
        except _Captured as captured:
            out.append(_one_host(_to_signed(captured.request)))
        else:
            raise RuntimeError(f"{operation}: boto3 sent the request instead of handing it over")
    return out


def _one_host(request: SignedRequest) -> SignedRequest:
    """botocore puts a `host` header on JSON requests besides the `Host` one `_to_signed` adds: send one."""
    headers = {name: value for name, value in request.headers.items() if name != "host"}
    return dataclasses.replace(request, headers=headers)


def describe_params(size: int, rng: random.Random) -> list[dict[str, Any]]:
    return [
        {"DeviceName": device_name(rng.randrange(size)), "DeviceFleetName": FLEET} for _ in range(SIGNED_PER_THREAD)
    ]


def list_params(size: int, rng: random.Random) -> list[dict[str, Any]]:
    pages = []
    for _ in range(SIGNED_PER_THREAD):
        after = device_name(rng.randrange(max(size - 100, 1)))
        pages.append({"DeviceFleetName": FLEET, "MaxResults": 100, "NextToken": paging.encode({"n": after})})
    return pages


def heartbeat_params(thread: int, threads: int, size: int) -> list[dict[str, Any]]:
    models = [{"ModelName": "detector", "ModelVersion": "1.0"}, {"ModelName": "classifier", "ModelVersion": "2.1"}]
    names = [device_name((thread + threads * k) % size) for k in range(SIGNED_PER_THREAD)]
    return [{"AgentVersion": "1.0.20", "DeviceName": n, "DeviceFleetName": FLEET, "Models": models} for n in names]


def wait_until_quiet(max_wait_s: int) -> None:
    """Other load on a shared machine halves the figures: wait (a while) for it to stop, as throughput.py does."""
    deadline = time.monotonic() + max_wait_s
    while bench_cpu.busy_cores() > QUIET_CORES and time.monotonic() < deadline:
        pass


def run_wrk(server: Server, groups: list[list[SignedRequest]], work: Path, args: argparse.Namespace, name: str) -> Any:
    script = bench_wrk.write_script(groups, work / f"{name}.lua")
    bench_wrk.run(server.endpoint, script, 2, args.connections, args.threads)  # warm-up, not counted
    wait_until_quiet(args.quiet_wait)
    before = bench_cpu.snapshot(server.pgid)
    result = bench_wrk.run(server.endpoint, script, args.duration, args.connections, args.threads)
    usage = bench_cpu.since(before, server.pgid)
    result = dataclasses.replace(result, server_cpu_s=usage.group_s, other_load_during=usage.machine_cores)
    if not result.valid:
        raise RuntimeError(f"{name}: {result.non2xx} failed responses, first: {result.first_bad}")
    return result


def reads(server: Server, size: int, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(size)
    figures: dict[str, Any] = {}
    for name, operation, make in (
        ("DescribeDevice", "describe_device", describe_params),
        ("ListDevices", "list_devices", list_params),
    ):
        groups = [signed(server, "sagemaker", operation, make(size, rng)) for _ in range(args.threads)]
        result = run_wrk(server, groups, work, args, f"{operation}-{size}")
        figures[name] = {"req_s": result.requests_per_s, "p50_ms": result.p50_ms, "p99_ms": result.p99_ms}
        print(f"  {name:<15} at {size:>7,} devices: {result.requests_per_s:8,.0f} req/s  "
              f"p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms", flush=True)  # fmt: skip
    return figures


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--devices", type=int, default=100_000, help="devices to register in all (100000)")
    parser.add_argument("--clients", type=int, default=4, help="registering client processes (4)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--quiet-wait", type=int, default=60, help="seconds to wait for other load to stop (60)")
    args = parser.parse_args(argv)
    if args.devices < 2 * FIRST_SIZE:
        parser.error(f"--devices must be at least {2 * FIRST_SIZE}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench_wrk.wrk_path()
    with tempfile.TemporaryDirectory(prefix="edgeward-bench-") as tmp, bench_servers.edgeward(Path(tmp)) as server:
        work = Path(tmp)
        client(server, "sagemaker").create_device_fleet(
            DeviceFleetName=FLEET, OutputConfig={"S3OutputLocation": "s3://sagemaker-bench/out"}
        )
        first = register(server, 0, FIRST_SIZE, args.clients)
        print(f"RegisterDevices: first {FIRST_SIZE:,} devices in {first:.2f} s", flush=True)
        small = reads(server, FIRST_SIZE, work, args)
        rest = register(server, FIRST_SIZE, args.devices, args.clients)
        total = first + rest
        print(f"RegisterDevices: {args.devices:,} devices in {total:.1f} s ({args.devices / total:,.0f} devices/s, "
              f"batches of {BATCH}, {args.clients} clients)", flush=True)  # fmt: skip
        large = reads(server, args.devices, work, args)
        for name in small:
            ratio = large[name]["p99_ms"] / small[name]["p99_ms"]
            print(f"  {name} p99 at {args.devices:,} / at {FIRST_SIZE:,}: {ratio:.2f}x")
        groups = [
            signed(server, "sagemaker-edge", "send_heartbeat", heartbeat_params(t, args.threads, args.devices))
            for t in range(args.threads)
        ]
        beats = run_wrk(server, groups, work, args, "heartbeats")
        print(f"SendHeartbeat: {beats.requests_per_s:,.0f} heartbeats/s  p50 {beats.p50_ms:.1f} ms  "
              f"p99 {beats.p99_ms:.1f} ms  server CPU {beats.cpu_ms_per_request:.2f} ms/heartbeat  "
              f"(machine busy {beats.other_load_during:.2f} cores)", flush=True)  # fmt: skip
        summary = {
            "devices": args.devices,
            "register_seconds": total,
            "reads_small": small,
            "reads_large": large,
            "heartbeats_per_s": beats.requests_per_s,
            "heartbeat_p99_ms": beats.p99_ms,
        }
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
