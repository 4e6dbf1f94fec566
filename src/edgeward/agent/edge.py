"""`edgeward-agent run`: what the Edge Manager agent did on a device, against edgeward.

Each cycle: send a heartbeat (agent version, the models this device holds, the results of deployments since the
last heartbeat), ask for deployments, download and verify (SHA-1) the model artifacts they name from S3 with
the device's own credentials, remove models marked for undeployment, and upload captured data files to the
fleet's S3 output location. Model state lives in `<models_dir>/state.json`.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edgeward.agent.api import ApiClient, ApiError

AGENT_VERSION = "edgeward-agent-0.1.0"
log = logging.getLogger("edgeward.agent")


@dataclass(frozen=True)
class EdgeSettings:
    device_name: str
    device_fleet_name: str
    models_dir: Path
    capture_dir: Path | None = None
    output_location: str | None = None  # s3://bucket/prefix of the fleet's OutputConfig


@dataclass
class EdgeAgent:
    api: ApiClient
    settings: EdgeSettings
    pending_results: list[dict[str, Any]] = field(default_factory=list)

    def cycle(self) -> dict[str, Any]:
        """One heartbeat + deployments + upload round; returns what happened (for logs and tests)."""
        self.heartbeat()
        deployed = self.apply_deployments()
        uploaded = self.upload_captures()
        return {"deployed": deployed, "uploaded": uploaded}

    def heartbeat(self) -> None:
        payload: dict[str, Any] = {
            "DeviceName": self.settings.device_name,
            "DeviceFleetName": self.settings.device_fleet_name,
            "AgentVersion": AGENT_VERSION,
            "Models": [
                {"ModelName": model["name"], "ModelVersion": model["version"], "LatestSampleTime": _now()}
                for model in self._state().values()
            ],
        }
        if self.pending_results:
            payload["DeploymentResult"] = self.pending_results[0]
        self.api.edge("SendHeartbeat", payload)
        if self.pending_results:
            self.pending_results.pop(0)

    def apply_deployments(self) -> list[str]:
        answer = self.api.edge(
            "GetDeployments",
            {"DeviceName": self.settings.device_name, "DeviceFleetName": self.settings.device_fleet_name},
        )
        done: list[str] = []
        for deployment in answer.get("Deployments") or []:
            started = _now()
            models = [self._apply(definition) for definition in deployment.get("Definitions") or []]
            failed = [model for model in models if model["Status"] == "FAIL"]
            self.pending_results.append(
                {
                    "DeploymentName": deployment.get("DeploymentName", ""),
                    "DeploymentStatus": "FAIL" if failed else "SUCCESS",
                    "DeploymentStatusMessage": failed[0]["StatusReason"] if failed else "deployed",
                    "DeploymentStartTime": started,
                    "DeploymentEndTime": _now(),
                    "DeploymentModels": models,
                }
            )
            done.extend(model["ModelHandle"] for model in models if model["Status"] == "SUCCESS")
        return done

    def _apply(self, definition: dict[str, Any]) -> dict[str, Any]:
        handle = str(definition.get("ModelHandle", ""))
        desired = str(definition.get("State", "DEPLOY"))
        result = {"ModelHandle": handle, "ModelName": handle, "ModelVersion": "1", "DesiredState": desired}
        state = self._state()
        try:
            if desired == "UNDEPLOY":
                state.pop(handle, None)
                shutil.rmtree(self.settings.models_dir / handle, ignore_errors=True)
            else:
                expected = str((definition.get("Checksum") or {}).get("Sum", "")).lower()
                if state.get(handle, {}).get("sha1") != expected or not expected:
                    state[handle] = self._download(handle, str(definition.get("S3Url", "")), expected)
            self._save_state(state)
        except (ApiError, OSError, ValueError) as exc:
            return {**result, "State": "UNDEPLOY", "Status": "FAIL", "StatusReason": str(exc)[:1000]}
        return {**result, "State": desired, "Status": "SUCCESS"}

    def _download(self, handle: str, url: str, expected_sha1: str) -> dict[str, str]:
        bucket, key = split_s3_url(url)
        target = self.settings.models_dir / handle / Path(key).name
        actual = self.api.get_object(bucket, key, target)
        if expected_sha1 and actual != expected_sha1:
            target.unlink(missing_ok=True)
            raise ValueError(f"checksum mismatch for {url}: expected SHA-1 {expected_sha1}, got {actual}")
        return {"name": handle, "version": "1", "sha1": actual, "path": str(target)}

    def upload_captures(self) -> list[str]:
        directory, location = self.settings.capture_dir, self.settings.output_location
        if directory is None or location is None or not directory.is_dir():
            return []
        bucket, prefix = split_s3_url(location)
        uploaded: list[str] = []
        for path in sorted(p for p in directory.iterdir() if p.is_file()):
            key = "/".join(
                part
                for part in (
                    prefix.strip("/"),
                    self.settings.device_fleet_name,
                    self.settings.device_name,
                    "capture",
                    path.name,
                )
                if part
            )
            self.api.put_object(bucket, key, path.read_bytes())
            path.unlink()
            uploaded.append(f"s3://{bucket}/{key}")
        return uploaded

    def _state(self) -> dict[str, dict[str, str]]:
        path = self.settings.models_dir / "state.json"
        try:
            loaded: dict[str, dict[str, str]] = json.loads(path.read_text())
            return loaded
        except (OSError, ValueError):
            return {}

    def _save_state(self, state: dict[str, dict[str, str]]) -> None:
        self.settings.models_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.settings.models_dir / "state.json.tmp"
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.settings.models_dir / "state.json")


def split_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/key` (or `https://host/bucket/key`) -> (bucket, key)."""
    if url.startswith("s3://"):
        bucket, _, key = url[5:].partition("/")
    elif url.startswith(("https://", "http://")):
        _, _, rest = url.partition("://")
        _, _, path = rest.partition("/")
        bucket, _, key = path.partition("/")
    else:
        raise ValueError(f"not an S3 location: {url!r}")
    if not bucket:
        raise ValueError(f"no bucket in {url!r}")
    return bucket, key


def _now() -> float:
    return datetime.now(UTC).timestamp()
