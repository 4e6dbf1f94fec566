"""Start edgeward and MiniStack on free loopback ports, wait until they answer, and always stop them."""

from __future__ import annotations

import configparser
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"
BENCH_DIR = Path(__file__).resolve().parent
MINISTACK_VENV = BENCH_DIR / ".venv-ministack"
EDGEWARD_WORKERS = 2
READY_TIMEOUT_S = 120.0
POLL_INTERVAL_S = 0.25
STOP_TIMEOUT_S = 15.0
INSTALL_TIMEOUT_S = 900


class ServerError(RuntimeError):
    """A server did not start, or exited while it was being waited for."""


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


@dataclass(frozen=True)
class Server:
    name: str
    endpoint: str
    credentials: Credentials
    version: str
    log_path: Path
    pgid: int  # its own process group: the server and every worker process it starts


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_ready(
    name: str, proc: subprocess.Popen[bytes], health_url: str, ready_file: Path | None, log_path: Path
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError(f"{name} exited with code {proc.returncode} before it was ready:\n{_log_tail(log_path)}")
        if (ready_file is None or ready_file.exists()) and _http_ok(health_url):
            return
        time.sleep(POLL_INTERVAL_S)
    raise ServerError(f"{name} not ready after {READY_TIMEOUT_S:.0f}s ({health_url}):\n{_log_tail(log_path)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's own process group (started in a new session), then SIGKILL if it lingers."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def _process(argv: list[str], env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=log_path.parent,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        _stop(proc)


def _edgeward_command() -> list[str]:
    beside = Path(sys.executable).with_name("edgeward")
    found = str(beside) if beside.exists() else shutil.which("edgeward")
    if found is None:
        raise ServerError("the `edgeward` command was not found: run with the project venv's python")
    return [found]


def _read_credentials(path: Path) -> Credentials:
    parser = configparser.ConfigParser()
    parser.read(path)
    section = parser["default"]
    return Credentials(section["aws_access_key_id"], section["aws_secret_access_key"], section.get("aws_session_token"))


def _edgeward_version() -> str:
    from importlib.metadata import version

    return version("edgeward")


def _quiet_start_options() -> list[str]:
    """No pool of pre-generated RSA keys (CreateKeysAndCertificate's): each worker would spend its first
    minute or so filling it, and the benchmark would measure that. Only where `serve` has the option."""
    shown = subprocess.run([*_edgeward_command(), "serve", "--help"], capture_output=True, text=True, check=False)
    return ["--key-pool-size", "0"] if "--key-pool-size" in shown.stdout else []


@contextmanager
def edgeward(work_dir: Path, *, key_pool: bool = False) -> Iterator[Server]:
    """`edgeward serve --workers 2` with a fresh data directory under work_dir (and, unless `key_pool`, no pool
    of pre-generated keys filling in the background)."""
    port, data_dir, log_path = free_port(), work_dir / "edgeward-data", work_dir / "edgeward.log"
    argv = [
        *_edgeward_command(),
        "serve",
        "--data-dir",
        str(data_dir),
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--mtls-port",
        str(free_port()),
        "--workers",
        str(EDGEWARD_WORKERS),
        "--log-level",
        "warning",
        *([] if key_pool else _quiet_start_options()),
    ]
    endpoint = f"http://{LOOPBACK}:{port}"
    with _process(argv, dict(os.environ), log_path) as proc:
        credentials_path = data_dir / "credentials"
        _wait_ready("edgeward", proc, f"{endpoint}/_edgeward/health", credentials_path, log_path)
        credentials = _read_credentials(credentials_path)
        yield Server("edgeward", endpoint, credentials, _edgeward_version(), log_path, proc.pid)


def ensure_ministack() -> Path:
    """The `ministack` command of bench/.venv-ministack, creating that venv on first use."""
    command = MINISTACK_VENV / "bin" / "ministack"
    if command.exists():
        return command
    print(f"installing MiniStack into {MINISTACK_VENV} ...", flush=True)
    subprocess.run(["python3", "-m", "venv", str(MINISTACK_VENV)], check=True, timeout=INSTALL_TIMEOUT_S)
    pip = MINISTACK_VENV / "bin" / "pip"
    subprocess.run([str(pip), "install", "--quiet", "ministack"], check=True, timeout=INSTALL_TIMEOUT_S)
    if not command.exists():
        raise ServerError(f"pip installed ministack but {command} is missing")
    return command


def _ministack_version() -> str:
    python = MINISTACK_VENV / "bin" / "python"
    script = "import importlib.metadata as m; print(m.version('ministack'))"
    out = subprocess.run([str(python), "-c", script], capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.strip()


def _ministack_env(port: int, work_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "GATEWAY_PORT": str(port),
            "BIND_HOST": LOOPBACK,
            "LOG_LEVEL": "WARNING",  # no per-request access log, like edgeward (access_log=False)
            "TMPDIR": str(work_dir),  # its PID file
            "PERSIST_STATE": "0",
            "S3_PERSIST": "0",
        }
    )
    return env


@contextmanager
def ministack(work_dir: Path) -> Iterator[Server]:
    """MiniStack in the foreground (hypercorn, one process) on a free port, bound to 127.0.0.1."""
    command = ensure_ministack()
    port, log_path = free_port(), work_dir / "ministack.log"
    endpoint = f"http://{LOOPBACK}:{port}"
    with _process([str(command)], _ministack_env(port, work_dir), log_path) as proc:
        _wait_ready("ministack", proc, f"{endpoint}/_ministack/health", None, log_path)
        yield Server("ministack", endpoint, Credentials("test", "test"), _ministack_version(), log_path, proc.pid)
