"""S3 transfer throughput: a large object up and down through boto3's transfer manager, edgeward next to MiniStack.

Both servers run in the same invocation on the same machine (bench_servers.py starts and stops them). For each,
boto3's `upload_file` (multipart, parts in parallel) and `download_file` (parallel ranged GETs) move one object of
`--size-mib` MiB; the figures are MB/s (10^6 bytes per second) of each direction, the downloaded file's SHA-256
is compared with the source, and the server's peak resident memory is sampled from /proc while it works
(every process of its process group: uvicorn's workers; the largest one and the sum are reported).

    python bench/s3_transfer.py                    # 1 GiB, both servers
    python bench/s3_transfer.py --size-mib 256 --only edgeward

Results go to bench/results/s3-transfer-<UTC time>.json. Exit code 0 when every transfer verified, 1 otherwise,
2 when a server did not start.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3
from bench_servers import Server, ServerError, edgeward, ministack
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

MiB = 1024 * 1024
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figures:
    server: str
    version: str
    size_bytes: int
    upload_mb_s: float
    download_mb_s: float
    verified: bool
    peak_rss_mib_largest_process: float
    peak_rss_mib_all_processes: float


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return pids


def status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemorySampler:
    """Samples the RSS of every process in a process group; also reads each one's VmHWM at the end."""

    def __init__(self, pgid: int) -> None:
        self.pgid = pgid
        self.largest = 0
        self.total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, field: str) -> None:
        sizes = [status_kib(pid, field) for pid in group_pids(self.pgid)]
        self.largest = max(self.largest, *sizes, 0)
        self.total = max(self.total, sum(sizes))

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self._sample("VmRSS")

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample("VmHWM")


def make_source(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    block = os.urandom(MiB)
    with path.open("wb") as handle:
        for index in range(size // MiB):
            chunk = index.to_bytes(8, "big") + block[8:]  # distinct blocks, cheap to make
            handle.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def measure(server: Server, source: Path, expected: str, work: Path, concurrency: int) -> Figures:
    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=server.credentials.access_key_id,
        aws_secret_access_key=server.credentials.secret_access_key,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
    )
    transfer = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=concurrency)
    client.create_bucket(Bucket="bench-transfer")
    target = work / f"{server.name}.down"
    size = source.stat().st_size
    with MemorySampler(server.pgid) as memory:
        started = time.perf_counter()
        client.upload_file(str(source), "bench-transfer", "object", Config=transfer)
        uploaded = time.perf_counter()
        client.download_file("bench-transfer", "object", str(target), Config=transfer)
        downloaded = time.perf_counter()
    verified = sha256_of(target) == expected
    target.unlink()
    return Figures(
        server=server.name,
        version=server.version,
        size_bytes=size,
        upload_mb_s=round(size / (uploaded - started) / 1e6, 1),
        download_mb_s=round(size / (downloaded - uploaded) / 1e6, 1),
        verified=verified,
        peak_rss_mib_largest_process=round(memory.largest / 1024, 1),
        peak_rss_mib_all_processes=round(memory.total / 1024, 1),
    )


@contextmanager
def started(name: str, work: Path) -> Iterator[Server]:
    context: AbstractContextManager[Server] = edgeward(work) if name == "edgeward" else ministack(work)
    with context as server:
        yield server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--concurrency", type=int, default=10, help="transfer manager threads (boto3's default)")
    parser.add_argument("--only", choices=["edgeward", "ministack"])
    args = parser.parse_args()
    names = [args.only] if args.only else ["edgeward", "ministack"]
    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="s3-transfer-") as temp:
        work = Path(temp)
        source = work / "source.bin"
        expected = make_source(source, args.size_mib * MiB)
        for name in names:
            server_dir = work / name
            server_dir.mkdir()
            try:
                with started(name, server_dir) as server:
                    results.append(measure(server, source, expected, work, args.concurrency))
            except ServerError as exc:
                print(exc, file=sys.stderr)
                return 2
            print(json.dumps(asdict(results[-1])), flush=True)
    report(results)
    save(args, results)
    return 0 if all(result.verified for result in results) else 1


def report(results: list[Figures]) -> None:
    print(f"\n{'server':<10} {'upload MB/s':>12} {'download MB/s':>14} {'peak RSS MiB (max/sum)':>24}  verified")
    for r in results:
        rss = f"{r.peak_rss_mib_largest_process:.0f} / {r.peak_rss_mib_all_processes:.0f}"
        print(f"{r.server:<10} {r.upload_mb_s:>12.1f} {r.download_mb_s:>14.1f} {rss:>24}  {r.verified}")
    by_name = {r.server: r for r in results}
    if "edgeward" in by_name and "ministack" in by_name:
        ours, theirs = by_name["edgeward"], by_name["ministack"]
        print(
            f"edgeward / MiniStack: upload {ours.upload_mb_s / theirs.upload_mb_s:.2f}x, "
            f"download {ours.download_mb_s / theirs.download_mb_s:.2f}x"
        )


def save(args: argparse.Namespace, results: list[Figures]) -> None:
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    payload: dict[str, Any] = {
        "settings": vars(args),
        "cpus": os.cpu_count(),
        "results": [asdict(result) for result in results],
    }
    (RESULTS / f"s3-transfer-{stamp}.json").write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    sys.exit(main())
