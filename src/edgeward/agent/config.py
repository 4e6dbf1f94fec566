"""What the agent needs to reach its credentials: certificate, key, CA, endpoint, role alias (and thing name).

Kept as a small JSON file (`edgeward-agent configure` writes it) so that `credential_process` lines in
`~/.aws/config` stay short.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path(os.environ.get("EDGEWARD_AGENT_CONFIG", "~/.edgeward-agent/config.json")).expanduser()


class ConfigError(Exception):
    """The configuration is missing, unreadable or incomplete; the message says what to fix."""


@dataclass(frozen=True)
class AgentConfig:
    certificate: Path
    private_key: Path
    ca: Path
    endpoint: str  # host[:port] as DescribeEndpoint returns it, or an https:// URL
    role_alias: str
    thing_name: str | None = None
    cache_dir: Path | None = None
    # For `edgeward-agent run` (Edge Manager): the API endpoint, region, the device's names, where models go,
    # which directory holds captured data and the fleet's S3 output location it goes to.
    api_endpoint: str | None = None
    region: str = "us-east-1"
    device_name: str | None = None
    device_fleet_name: str | None = None
    models_dir: Path | None = None
    capture_dir: Path | None = None
    output_location: str | None = None
    heartbeat_seconds: float = 20.0

    @property
    def credentials_url(self) -> str:
        base = self.endpoint if "://" in self.endpoint else f"https://{self.endpoint}"
        if "/role-aliases/" in base:
            return base  # the full URL, as the Edge Manager agent's configuration carries it
        return f"{base.rstrip('/')}/role-aliases/{self.role_alias}/credentials"

    @property
    def cache_path(self) -> Path:
        directory = self.cache_dir or self.certificate.parent
        return directory / f".credentials-{self.role_alias}.json"

    def save(self, path: Path) -> None:
        data: dict[str, Any] = {
            key: str(value) if isinstance(value, Path) else value for key, value in asdict(self).items()
        }
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(json.dumps(data, indent=2) + "\n")
        path.chmod(0o600)

    @classmethod
    def load(cls, path: Path) -> AgentConfig:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"no agent configuration at {path}: run `edgeward-agent configure` first") from None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the agent configuration {path}: {exc}") from None
        return cls.from_mapping(data, base=path.parent)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, base: Path) -> AgentConfig:
        missing = [key for key in ("certificate", "private_key", "ca", "endpoint", "role_alias") if not data.get(key)]
        if missing:
            raise ConfigError(f"the agent configuration lacks {', '.join(missing)}")

        def path(key: str) -> Path:
            value = Path(str(data[key])).expanduser()
            return value if value.is_absolute() else base / value

        return cls(
            certificate=path("certificate"),
            private_key=path("private_key"),
            ca=path("ca"),
            endpoint=str(data["endpoint"]),
            role_alias=str(data["role_alias"]),
            thing_name=_text(data, "thing_name"),
            cache_dir=path("cache_dir") if data.get("cache_dir") else None,
            api_endpoint=_text(data, "api_endpoint"),
            region=_text(data, "region") or "us-east-1",
            device_name=_text(data, "device_name"),
            device_fleet_name=_text(data, "device_fleet_name"),
            models_dir=path("models_dir") if data.get("models_dir") else None,
            capture_dir=path("capture_dir") if data.get("capture_dir") else None,
            output_location=_text(data, "output_location"),
            heartbeat_seconds=float(data.get("heartbeat_seconds") or 20.0),
        )


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return str(value) if value else None
