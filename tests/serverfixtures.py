"""A real edgeward server in a subprocess, and boto3 clients for it.

`server` starts `edgeward serve` on a free loopback port with its own data directory, once per test module,
on SQLite and — when EDGEWARD_TEST_DATABASE_URL is set — on a fresh PostgreSQL database too.
"""

from __future__ import annotations

import configparser
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig

PG_ENV = "EDGEWARD_TEST_DATABASE_URL"
PG_SKIP = (
    "PostgreSQL tests skipped: set EDGEWARD_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    endpoint: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    backend: str
    extra_args: list[str] = field(default_factory=list)

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials"

    def admin_keys(self) -> tuple[str, str]:
        parser = configparser.ConfigParser()
        parser.read(self.credentials_file)
        return parser["default"]["aws_access_key_id"], parser["default"]["aws_secret_access_key"]

    def client(
        self,
        service: str,
        access_key: str | None = None,
        secret_key: str | None = None,
        token: str | None = None,
        region: str = "us-east-1",
        **config: Any,
    ) -> Any:
        if access_key is None:
            access_key, secret_key = self.admin_keys()
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            aws_session_token=token,
            config=BotoConfig(retries={"max_attempts": 1}, **config),
        )

    def env(self) -> dict[str, str]:
        """Environment for the AWS CLI / curl pointing at this server with the admin credentials."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_SHARED_CREDENTIALS_FILE=str(self.credentials_file),
            AWS_DEFAULT_REGION="us-east-1",
            AWS_CONFIG_FILE=os.devnull,
        )
        return env

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(
    data_dir: Path,
    backend: str = "sqlite",
    database_url: str | None = None,
    extra_args: list[str] | None = None,
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> RunningServer:
    port = port or free_port()
    extra_args = list(extra_args or [])
    if "--mtls-port" not in extra_args:
        extra_args += ["--mtls-port", "0"]  # tests that want the credentials listener ask for a free port
    if "--key-pool-size" not in extra_args:
        extra_args += ["--key-pool-size", "2"]  # a test server must not spend its CPU on a thousand RSA keys
    args = [
        sys.executable,
        "-m",
        "edgeward.cli.main",
        "serve",
        "--data-dir",
        str(data_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *extra_args,
    ]
    if database_url:
        args += ["--database-url", database_url]
    log = open(data_dir.parent / f"{data_dir.name}.log", "wb")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    server = RunningServer(f"http://127.0.0.1:{port}", data_dir, process, backend, extra_args)
    _wait_healthy(server, log.name)
    return server


def _wait_healthy(server: RunningServer, log_path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"edgeward exited early:\n{Path(log_path).read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.endpoint}/_edgeward/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"edgeward did not become healthy:\n{Path(log_path).read_text()[-3000:]}")


def fresh_postgres_url(base_url: str) -> tuple[str, str]:
    """Create a new database next to `base_url`'s; returns (its URL, its name)."""
    import psycopg

    name = f"edgeward_s_{uuid.uuid4().hex[:12]}"
    plain = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    head, _, _ = base_url.rpartition("/")
    return f"{head}/{name}", name


def drop_postgres(base_url: str, name: str) -> None:
    import psycopg

    plain = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    backend = request.param
    base_url = os.environ.get(PG_ENV)
    if backend == "postgres" and not base_url:
        pytest.skip(PG_SKIP)
    data_dir = tmp_path_factory.mktemp("edgeward") / "data"
    database_url, db_name = (None, None)
    if backend == "postgres":
        assert base_url
        database_url, db_name = fresh_postgres_url(base_url)
    running = start_server(data_dir, backend, database_url)
    try:
        yield running
    finally:
        running.stop()
        if db_name and base_url:
            drop_postgres(base_url, db_name)


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> RunningServer:
    """The same server, named for readability: `admin.client("iam")` is an administrator's client."""
    return server
