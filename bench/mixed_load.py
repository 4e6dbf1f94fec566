"""Mixed load against 1 and 2 edgeward nodes sharing one PostgreSQL, as the database grows.

    .venv/bin/python bench/mixed_load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/mixed_load.py --sizes 10000,100000,1000000 --nodes 1,2 --duration 20

1. Creates a fresh database next to `--database-url` (dropped at the end) and starts max(--nodes) nodes on it
   (same EDGEWARD_KEK, one credentials-provider port each).
2. Sets up, through boto3 on the first node: users to read, a fleet with its role alias, and one device per
   device client as seed 001 does it (thing, CreateKeysAndCertificate, alias policy, RegisterDevices).
3. For each size: grows the database to that many things, certificates and devices (`seed_rows.grow`,
   set-based SQL), then for each node count runs the mixed load for `--duration` s (after a warm-up that is not
   counted), each client thread on its own keep-alive connection to node `i % n`, one request at a time:
     iam-read   iam:GetUser of one of 16 users, as the administrator (SigV4, query protocol)
     iam-write  iam:CreateUser of a new user, as the administrator
     exchange   GET /role-aliases/<alias>/credentials over mutual TLS with the thing-name header (a new STS session)
     heartbeat  sagemaker-edge:SendHeartbeat, signed with the device's temporary credentials
   Requests are signed on the fly with botocore's SigV4Auth (no boto3 client per request: the load generator
   shares the machine's cores with the servers and PostgreSQL).
4. Prints, per size, node count and kind: requests/s, p50 and p99 latency, errors; CPU per request of the
   servers and of the PostgreSQL backends serving the database (figures that mean something on a busy machine,
   unlike requests/s); the load average before and after. `--per-kind S` also runs each kind alone for S s.
   Results also go to bench/results/mixed-load-<UTC time>.json.

Client threads run in `--processes` processes (the GIL), `--clients` threads per kind in each.
"""

from __future__ import annotations

import argparse
import base64
import configparser
import contextlib
import http.client
import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seed_rows  # bench/ is not a package: the directory is put on the path above

KINDS = ("iam-read", "iam-write", "exchange", "heartbeat")
REGION = "us-east-1"
FLEET = "bench-fleet"
READ_USERS = 16
WARMUP = 3.0


@dataclass
class Node:
    port: int
    mtls_port: int
    pid: int
    data_dir: str


@dataclass
class Device:
    index: int
    thing: str
    name: str
    cert_file: str
    key_file: str


@dataclass
class Setup:
    """Everything a client process needs, picklable."""

    nodes: list[Node]
    admin: tuple[str, str]
    alias: str
    ca_file: str
    devices: list[Device]


# -- nodes ----------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_node(work: Path, index: int, database_url: str, kek: str, first: Node | None) -> tuple[Node, Any]:
    data_dir = work / f"node{index}"
    data_dir.mkdir(mode=0o700)
    if first is not None:  # the account exists: serve it with the first node's administrator
        shutil.copy(Path(first.data_dir) / "credentials", data_dir / "credentials")
    port, mtls_port = free_port(), free_port()
    args = [sys.executable, "-m", "edgeward.cli.main", "serve", "--data-dir", str(data_dir), "--port", str(port)]
    args += ["--mtls-port", str(mtls_port), "--database-url", database_url, "--log-level", "warning"]
    log = open(work / f"node{index}.log", "wb")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "EDGEWARD_KEK": kek})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"node {index} exited: {(work / f'node{index}.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_edgeward/health", timeout=2):
                break
        except OSError:
            time.sleep(0.2)
    time.sleep(1.0)  # the credentials listener starts right after the API
    return Node(port, mtls_port, process.pid, str(data_dir)), process


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- setup through the API ------------------------------------------------------------------------------------


def set_up(nodes: list[Node], devices: int) -> Setup:
    parser = configparser.ConfigParser()
    parser.read(Path(nodes[0].data_dir) / "credentials")
    admin = (parser["default"]["aws_access_key_id"], parser["default"]["aws_secret_access_key"])
    session = boto3.Session(aws_access_key_id=admin[0], aws_secret_access_key=admin[1], region_name=REGION)
    kw: dict[str, Any] = {
        "endpoint_url": f"http://127.0.0.1:{nodes[0].port}",
        "config": BotoConfig(retries={"max_attempts": 1}),
    }
    iam, iot, sagemaker = (session.client(name, **kw) for name in ("iam", "iot", "sagemaker"))
    for index in range(READ_USERS):
        iam.create_user(UserName=f"bench-user-{index}")
    trust = {"Effect": "Allow", "Principal": {"Service": ["credentials.iot.amazonaws.com", "sagemaker.amazonaws.com"]}}
    role_arn = iam.create_role(
        RoleName="BenchEdgeRole",
        AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{**trust, "Action": "sts:AssumeRole"}]}
        ),
    )["Role"]["Arn"]
    allow = {"Effect": "Allow", "Action": ["sagemaker:SendHeartbeat", "s3:*"], "Resource": "*"}
    iam.put_role_policy(
        RoleName="BenchEdgeRole",
        PolicyName="edge",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [allow]}),
    )
    sagemaker.create_device_fleet(
        DeviceFleetName=FLEET, RoleArn=role_arn, OutputConfig={"S3OutputLocation": "s3://bench-bucket/out"}
    )
    alias_arn = sagemaker.describe_device_fleet(DeviceFleetName=FLEET)["IotRoleAlias"]
    alias = alias_arn.rpartition("/")[2]
    document = {"Effect": "Allow", "Action": "iot:AssumeRoleWithCertificate", "Resource": alias_arn}
    iot.create_policy(
        policyName="bench-alias", policyDocument=json.dumps({"Version": "2012-10-17", "Statement": document})
    )
    made = []
    for index in range(devices):
        thing, name = f"bench-thing-{index}", f"bench-device-{index}"
        iot.create_thing(thingName=thing)
        created = iot.create_keys_and_certificate(setAsActive=True)
        cert_file, key_file = (
            Path(nodes[0].data_dir) / f"device{index}.crt",
            Path(nodes[0].data_dir) / f"device{index}.key",
        )
        cert_file.write_text(created["certificatePem"])
        key_file.write_text(created["keyPair"]["PrivateKey"])
        iot.attach_thing_principal(thingName=thing, principal=created["certificateArn"])
        iot.attach_policy(policyName="bench-alias", target=created["certificateArn"])
        sagemaker.register_devices(DeviceFleetName=FLEET, Devices=[{"DeviceName": name, "IotThingName": thing}])
        made.append(Device(index, thing, name, str(cert_file), str(key_file)))
    return Setup(nodes, admin, alias, str(Path(nodes[0].data_dir) / "ca.pem"), made)


# -- clients --------------------------------------------------------------------------------------------------


class Api:
    """SigV4-signed requests on one keep-alive HTTP connection."""

    def __init__(self, node: Node, credentials: Credentials) -> None:
        self.host = f"127.0.0.1:{node.port}"
        self.credentials = credentials
        self.connection = http.client.HTTPConnection("127.0.0.1", node.port, timeout=30)

    def call(self, service: str, path: str, body: bytes, content_type: str) -> int:
        request = AWSRequest("POST", f"http://{self.host}{path}", data=body, headers={"Content-Type": content_type})
        SigV4Auth(self.credentials, service, REGION).add_auth(request)
        self.connection.request("POST", path, body=body, headers=dict(request.headers.items()))
        response = self.connection.getresponse()
        response.read()
        return response.status

    def iam(self, **params: str) -> int:
        body = urlencode({**params, "Version": "2010-05-08"}).encode()
        return self.call("iam", "/", body, "application/x-www-form-urlencoded; charset=utf-8")


class Provider:
    """A device's keep-alive mutual-TLS connection to a node's credentials provider."""

    def __init__(self, node: Node, setup: Setup, device: Device) -> None:
        context = ssl.create_default_context(cafile=setup.ca_file)
        context.load_cert_chain(device.cert_file, device.key_file)
        self.connection = http.client.HTTPSConnection("127.0.0.1", node.mtls_port, context=context, timeout=30)
        self.path, self.thing = f"/role-aliases/{setup.alias}/credentials", device.thing

    def exchange(self) -> tuple[int, dict[str, Any]]:
        self.connection.request("GET", self.path, headers={"x-amzn-iot-thingname": self.thing})
        response = self.connection.getresponse()
        body = response.read()
        return response.status, (json.loads(body).get("credentials", {}) if response.status == 200 else {})


def client_thread(setup: Setup, kind: str, slot: int, nodes: int, start: float, end: float) -> dict[str, Any]:
    node = setup.nodes[slot % nodes]
    admin = Credentials(*setup.admin)
    device = setup.devices[slot % len(setup.devices)]
    latencies: list[float] = []
    errors = 0
    provider = Provider(node, setup, device) if kind in ("exchange", "heartbeat") else None
    api: Api | None = None
    if kind == "heartbeat":
        assert provider is not None
        status, temporary = provider.exchange()
        assert status == 200, status
        credentials = Credentials(temporary["accessKeyId"], temporary["secretAccessKey"], temporary["sessionToken"])
        api = Api(node, credentials)
        heartbeat = json.dumps({"AgentVersion": "1.0", "DeviceName": device.name, "DeviceFleetName": FLEET}).encode()
    elif kind != "exchange":
        api = Api(node, admin)
    n, tag = 0, uuid.uuid4().hex[:8]
    while (now := time.monotonic()) < end:
        if kind == "iam-read":
            assert api is not None
            status = api.iam(Action="GetUser", UserName=f"bench-user-{n % READ_USERS}")
        elif kind == "iam-write":
            assert api is not None
            status = api.iam(Action="CreateUser", UserName=f"w-{tag}-{n}")
        elif kind == "exchange":
            assert provider is not None
            status = provider.exchange()[0]
        else:
            assert api is not None
            status = api.call("sagemaker", "/SendHeartbeat", heartbeat, "application/json")
        done = time.monotonic()
        n += 1
        if now >= start and done <= end:
            latencies.append(done - now)
            errors += status != 200
    return {"kind": kind, "latencies": latencies, "errors": errors}


def client_process(
    setup: Setup, jobs: list[tuple[str, int]], nodes: int, start_wall: float, seconds: float
) -> list[Any]:
    from concurrent.futures import ThreadPoolExecutor

    offset = time.monotonic() - time.time()  # wall clock → this process's monotonic clock
    start, end = start_wall + offset, start_wall + offset + seconds
    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = [pool.submit(client_thread, setup, kind, slot, nodes, start, end) for kind, slot in jobs]
        return [future.result() for future in futures]


# -- one measured run -----------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


@dataclass
class Measure:
    """What one run is: which kinds, against how many nodes, for how long; and where the database runs."""

    kinds: tuple[str, ...]
    nodes: int
    seconds: float
    base_url: str
    database: str


def backend_cpu(measure: Measure) -> tuple[dict[int, float], int]:
    """CPU seconds so far of each PostgreSQL backend serving the benchmark's database (a local server), and how
    many sessions the database has had (pg_stat_database.sessions, PostgreSQL 14+)."""
    import psycopg

    with psycopg.connect(measure.base_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        pids = [
            row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [measure.database])
        ]
        sessions = conn.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", [measure.database]
        ).fetchone()
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError):  # ended meanwhile, or not on this machine
            found[pid] = cpu_seconds(pid)
    return found, int(sessions[0]) if sessions else 0


def run(setup: Setup, measure: Measure, args: argparse.Namespace) -> dict[str, Any]:
    jobs: list[list[tuple[str, int]]] = [[] for _ in range(args.processes)]
    slot = 0
    for kind in measure.kinds:
        for _ in range(args.clients * args.processes):
            jobs[slot % args.processes].append((kind, slot))
            slot += 1
    load_before = os.getloadavg()
    start_wall = time.time() + WARMUP
    with ProcessPoolExecutor(args.processes) as pool:
        futures = [pool.submit(client_process, setup, job, measure.nodes, start_wall, measure.seconds) for job in jobs]
        time.sleep(max(0.0, start_wall - time.time()))
        cpu_before, db_before = [cpu_seconds(node.pid) for node in setup.nodes[: measure.nodes]], backend_cpu(measure)
        time.sleep(measure.seconds)
        cpu_after, db_after = [cpu_seconds(node.pid) for node in setup.nodes[: measure.nodes]], backend_cpu(measure)
        results = [item for future in futures for item in future.result()]
    kinds: dict[str, Any] = {}
    for kind in measure.kinds:
        latencies = [value for item in results if item["kind"] == kind for value in item["latencies"]]
        errors = sum(item["errors"] for item in results if item["kind"] == kind)
        kinds[kind] = {
            "rps": len(latencies) / measure.seconds,
            "p50_ms": percentile(latencies, 0.50) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            "errors": errors,
        }
    total = sum(kind["rps"] for kind in kinds.values()) * measure.seconds
    server_cpu = sum(after - before for before, after in zip(cpu_before, cpu_after, strict=True))
    # Only backends that served through the whole window: connections a pool opened and closed within it (see
    # `sessions_opened`) are not counted, so with connection churn this figure is low.
    db_cpu = sum(db_after[0][pid] - db_before[0][pid] for pid in db_before[0].keys() & db_after[0].keys())
    return {
        "nodes": measure.nodes,
        "kinds": kinds,
        "total_rps": total / measure.seconds,
        "server_cpu_cores": server_cpu / measure.seconds,
        "server_cpu_ms_per_request": 1000 * server_cpu / total if total else float("nan"),
        "db_cpu_ms_per_request": 1000 * db_cpu / total if total else float("nan"),
        "db_sessions_opened": db_after[1] - db_before[1],
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
    }


def print_run(size: int, result: dict[str, Any]) -> None:
    for kind, figures in result["kinds"].items():
        print(
            f"{size:>9,} {result['nodes']:>5} {kind:<10} {figures['rps']:>8.1f} {figures['p50_ms']:>8.1f} "
            f"{figures['p99_ms']:>8.1f} {figures['errors']:>6}"
        )
    before, after = result["loadavg_before"], result["loadavg_after"]
    label = "all" if len(result["kinds"]) > 1 else "(alone)"
    print(
        f"{'':>9} {'':>5} {label:<10} {result['total_rps']:>8.1f}   CPU per request: server "
        f"{result['server_cpu_ms_per_request']:.2f} ms, PostgreSQL {result['db_cpu_ms_per_request']:.2f} ms; "
        f"server {result['server_cpu_cores']:.2f} cores; {result['db_sessions_opened']} database sessions opened; "
        f"load average {before[0]:.2f} -> {after[0]:.2f}",
        flush=True,
    )


# -- main -----------------------------------------------------------------------------------------------------


def fresh_database(base_url: str) -> tuple[str, str]:
    import psycopg

    name = f"edgeward_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base_url.rpartition('/')[0]}/{name}", name


def drop_database(base_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("EDGEWARD_TEST_DATABASE_URL"),
        help="a PostgreSQL URL; the benchmark creates (and drops) its own database next to it",
    )
    parser.add_argument("--sizes", default="10000,100000", help="devices (and things, certificates) to grow to")
    parser.add_argument("--nodes", default="1,2", help="node counts to measure at each size")
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per run")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--clients", type=int, default=2, help="client threads per kind in each process")
    parser.add_argument(
        "--per-kind",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="also run each kind alone on one node for this long: CPU per request of each kind (default: off)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or EDGEWARD_TEST_DATABASE_URL) is required: the nodes share PostgreSQL")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    counts = [int(count) for count in args.nodes.split(",")]
    database_url, name = fresh_database(args.database_url)
    work = Path(tempfile.mkdtemp(prefix="edgeward-mixed-"))
    kek = base64.b64encode(secrets.token_bytes(32)).decode()
    processes: list[Any] = []
    report: dict[str, Any] = {"started": datetime.now(UTC).isoformat(), "args": vars(args), "runs": []}
    try:
        first, process = start_node(work, 0, database_url, kek, None)
        nodes, processes = [first], [process]
        for index in range(1, max(counts)):
            node, process = start_node(work, index, database_url, kek, first)
            nodes.append(node)
            processes.append(process)
        setup = set_up(nodes, args.clients * args.processes)
        print(f"database {name}; {len(nodes)} nodes; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
        print(f"{'devices':>9} {'nodes':>5} {'kind':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
        for size in sizes:
            grown = seed_rows.grow(database_url, size, quiet=True)
            print(f"-- grown to {size:,} devices, things and certificates in {grown['seconds']:.0f} s", flush=True)
            for count in counts:
                result = run(setup, Measure(KINDS, count, args.duration, args.database_url, name), args)
                print_run(size, result)
                report["runs"].append({"devices": size, "seed_seconds": grown["seconds"], **result})
            for kind in KINDS if args.per_kind else ():
                result = run(setup, Measure((kind,), 1, args.per_kind, args.database_url, name), args)
                print_run(size, result)
                report["runs"].append({"devices": size, "alone": kind, **result})
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if not args.keep:
            drop_database(args.database_url, name)
        shutil.rmtree(work, ignore_errors=True)
    results = Path(__file__).resolve().parent / "results"
    results.mkdir(exist_ok=True)
    out = results / f"mixed-load-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps({**report, "setup": {k: v for k, v in asdict(setup).items() if k != "admin"}}, indent=1))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
