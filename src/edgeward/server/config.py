"""Server configuration: the one place that knows every setting and its default."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT_PORT = 4566
DEFAULT_MTLS_PORT = 8443
DEFAULT_REGION = "us-east-1"
CONFIG_ENV = "EDGEWARD_SERVE_CONFIG"


@dataclass(frozen=True)
class Config:
    data_dir: Path = Path("edgeward-data")
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    mtls_port: int = DEFAULT_MTLS_PORT
    # True when the operator chose the port: then failing to listen on it stops the server. With the default
    # port the API still serves and the failure is logged (e.g. a second server on the same machine).
    mtls_required: bool = False
    account_id: str | None = None
    database_url: str | None = None
    workers: int = 1
    region: str = DEFAULT_REGION
    dev: bool = False
    public_hosts: tuple[str, ...] = field(default_factory=tuple)
    log_level: str = "info"
    max_body_bytes: int = 16 * 1024 * 1024
    # HTTPS on the API port with a certificate from the installation's CA (`--tls`).
    tls: bool = False
    # RSA keys each worker process keeps ready for CreateKeysAndCertificate (0: none).
    key_pool_size: int = 0

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "edgeward.db"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path.resolve()}"

    @property
    def credentials_path(self) -> Path:
        return self.data_dir / "credentials"

    @property
    def kek_path(self) -> Path:
        return self.data_dir / "kek"

    @property
    def endpoint_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.public_host}:{self.port}"

    @property
    def public_host(self) -> str:
        """The host name clients are told to use (first `--public-host`, else the bind address)."""
        return self.public_hosts[0] if self.public_hosts else _display_host(self.host)

    def iot_endpoints(self) -> dict[str, str]:
        """`DescribeEndpoint` answers: host names that reach this installation, `host:port` unless 443."""
        api = _host_port(self.public_host, self.port)
        endpoints = {"iot:Data-ATS": api, "iot:Data": api, "iot:Jobs": api, "edgeward:Api": self.endpoint_url}
        if self.mtls_port > 0:  # --mtls-port 0: no credentials listener
            endpoints["iot:CredentialProvider"] = _host_port(self.public_host, self.mtls_port)
        return endpoints

    def to_env(self) -> str:
        data = asdict(self)
        data["data_dir"] = str(self.data_dir.resolve())
        data["public_hosts"] = list(self.public_hosts)
        return json.dumps(data)

    @classmethod
    def from_env(cls) -> Config:
        raw = os.environ.get(CONFIG_ENV)
        if not raw:
            return cls()
        data = json.loads(raw)
        data["data_dir"] = Path(data["data_dir"])
        data["public_hosts"] = tuple(data.get("public_hosts") or ())
        return cls(**data)


def _display_host(bind_host: str) -> str:
    if bind_host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    if ":" in bind_host:
        return f"[{bind_host}]"
    return bind_host


def _host_port(host: str, port: int) -> str:
    return host if port == 443 else f"{host}:{port}"
