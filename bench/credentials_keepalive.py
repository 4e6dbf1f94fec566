"""Credentials provider keep-alive exchanges per second, with the server's CPU per exchange.

    .venv/bin/python bench/credentials_keepalive.py [--seconds 10] [--clients 2] [--connections 32] [--workers 2]

Like the keep-alive part of `credentials_provider.py`, but the clients are asyncio processes (one event loop,
`--connections` TLS connections each, one exchange at a time per connection), which spend far less CPU per
exchange than a thread per connection: on a small machine the clients share the cores with the server, so
a lighter client leaves more of them to it. Prints exchanges/s, the server's CPU ms per exchange (all its
processes, from /proc) and the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_cpu
from credentials_provider import set_up_device, start_edgeward

_LENGTH = re.compile(rb"content-length: (\d+)", re.I)


def start(data_dir: Path, workers: int) -> tuple[subprocess.Popen[bytes], int, int]:
    return start_edgeward(data_dir, workers, None)


async def _connection(port: int, context: ssl.SSLContext, request: bytes, until: float) -> tuple[int, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="127.0.0.1")
    ok = failed = 0
    try:
        while time.monotonic() < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            match = _LENGTH.search(head)
            await reader.readexactly(int(match.group(1)) if match else 0)
            if head.startswith(b"HTTP/1.1 200 "):
                ok += 1
            else:
                failed += 1
    finally:
        writer.close()
    return ok, failed


def _client(job: tuple[int, str, str, str, str, float, int]) -> tuple[int, int, float]:
    port, cert, key, ca, path, seconds, connections = job
    context = ssl.create_default_context(cafile=ca)
    context.load_cert_chain(cert, key)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()

    async def main() -> list[tuple[int, int]]:
        until = time.monotonic() + seconds
        return list(await asyncio.gather(*(_connection(port, context, request, until) for _ in range(connections))))

    start = time.process_time()
    results = asyncio.run(main())
    return sum(r[0] for r in results), sum(r[1] for r in results), time.process_time() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32, help="connections per client process")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edgeward-bench-") as temp:
        data_dir = Path(temp) / "data"
        process, port, mtls_port = start(data_dir, args.workers)
        try:
            cert, key, path = set_up_device(data_dir, port)
            job = (mtls_port, str(cert), str(key), str(data_dir / "ca.pem"), path, 2.0, args.connections)
            with multiprocessing.Pool(args.clients) as pool:
                pool.map(_client, [job] * args.clients)  # warm-up
                job = (*job[:5], float(args.seconds), args.connections)
                before = bench_cpu.snapshot(os.getpgid(process.pid))
                results = pool.map(_client, [job] * args.clients)
                usage = bench_cpu.since(before, os.getpgid(process.pid))
        finally:
            process.terminate()
            process.wait(timeout=30)
    ok, failed = sum(r[0] for r in results), sum(r[1] for r in results)
    client_s = sum(r[2] for r in results)
    print(
        f"keep-alive exchanges: {ok / args.seconds:,.0f}/s ({failed} non-200), {args.clients}x{args.connections} "
        f"connections, --workers {args.workers}; server CPU {usage.group_s * 1000 / max(ok, 1):.3f} ms/exchange "
        f"({usage.group_s / args.seconds:.2f} cores), clients {client_s * 1000 / max(ok, 1):.3f} ms/exchange; "
        f"machine busy {usage.machine_cores:.2f} cores; load average {os.getloadavg()[0]:.2f}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
