"""`edgeward-agent run`: what the Edge Manager agent did on a device, against edgeward.

Each cycle: send a heartbeat (agent version, the models this device holds), ask for deployments, download and
verify (SHA-1) the model artifacts they name from S3 with the device's own credentials, remove models marked
for undeployment, report each deployment's result in a heartbeat of its own (the API carries one result per
heartbeat), and upload captured data files to the fleet's S3 output location.

A download lands in `<models_dir>/.incoming` and replaces the model only once its SHA-1 matched, so a failed
deployment leaves the previous model in place (what ROLLBACK_ON_FAILURE asks for). Model state lives in
`<models_dir>/state.json`. A result not reported (the agent stopped first) is reported again on the next run:
edgeward keeps handing out a deployment until the device reported on it, and a model already held with the
right SHA-1 is not downloaded twice.

Deployments carry no model name or version, so the agent reports a model by its handle (prefixed `model-` when
shorter than the four characters a ModelName needs) and its version as the first 12 hex digits of its SHA-1.
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

AGENT_VERSION = "edgeward_agent 0.1.0"  # the model's Version pattern allows letters, digits, ' ', '_', '.'
VERSION_DIGITS = 12
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
    last_capture: float | None = None

    def cycle(self) -> dict[str, Any]:
        """One round: heartbeat, deployments (each result reported at once), captured data; returns what happened
        (for logs and tests)."""
        self.heartbeat()
        deployed, failed = self.apply_deployments()
        uploaded = self.upload_captures()
        if uploaded and not self.pending_results:
            self.heartbeat()  # the models' new LatestSampleTime
        while self.pending_results:
            self.heartbeat()
        return {"deployed": deployed, "failed": failed, "uploaded": uploaded}

    def heartbeat(self) -> None:
        payload: dict[str, Any] = {
            "DeviceName": self.settings.device_name,
            "DeviceFleetName": self.settings.device_fleet_name,
            "AgentVersion": AGENT_VERSION,
            "Models": [self._reported(handle, model) for handle, model in sorted(self._state().items())],
        }
        if self.pending_results:
            payload["DeploymentResult"] = self.pending_results[0]
        self.api.edge("SendHeartbeat", payload)
        if self.pending_results:
            self.pending_results.pop(0)

    def _reported(self, handle: str, model: dict[str, str]) -> dict[str, Any]:
        reported: dict[str, Any] = {"ModelName": model_name(handle), "ModelVersion": model["version"]}
        if self.last_capture is not None:
            reported["LatestSampleTime"] = self.last_capture
        return reported

    def apply_deployments(self) -> tuple[list[str], list[str]]:
        """Act on every deployment GetDeployments names; (model handles deployed, handles that failed)."""
        answer = self.api.edge(
            "GetDeployments",
            {"DeviceName": self.settings.device_name, "DeviceFleetName": self.settings.device_fleet_name},
        )
        deployed: list[str] = []
        failed: list[str] = []
        for deployment in answer.get("Deployments") or []:
            started = _now()
            models = [self._apply(definition) for definition in deployment.get("Definitions") or []]
            failures = [model for model in models if model["Status"] == "FAIL"]
            result: dict[str, Any] = {
                "DeploymentName": deployment.get("DeploymentName", ""),
                "DeploymentStatus": "FAIL" if failures else "SUCCESS",
                "DeploymentStartTime": started,
                "DeploymentEndTime": _now(),
                "DeploymentModels": models,
            }
            if failures:
                result["DeploymentStatusMessage"] = failures[0]["StatusReason"]
            self.pending_results.append(result)
            deployed.extend(model["ModelHandle"] for model in models if model["Status"] == "SUCCESS")
            failed.extend(model["ModelHandle"] for model in failures)
        return deployed, failed

    def _apply(self, definition: dict[str, Any]) -> dict[str, Any]:
        handle = str(definition.get("ModelHandle", ""))
        desired = str(definition.get("State", "DEPLOY"))
        expected = str((definition.get("Checksum") or {}).get("Sum", "")).lower()
        result: dict[str, Any] = {"ModelHandle": handle, "ModelName": model_name(handle), "DesiredState": desired}
        state = self._state()
        try:
            if desired == "UNDEPLOY":
                state.pop(handle, None)
                shutil.rmtree(self.settings.models_dir / handle, ignore_errors=True)
            elif not expected or state.get(handle, {}).get("sha1") != expected:
                state[handle] = self._download(handle, str(definition.get("S3Url", "")), expected)
            self._save_state(state)
        except (ApiError, OSError, ValueError) as exc:
            held = "DEPLOY" if handle in state else "UNDEPLOY"
            if expected:
                result["ModelVersion"] = expected[:VERSION_DIGITS]
            return {**result, "State": held, "Status": "FAIL", "StatusReason": str(exc)[:1000]}
        if handle in state:
            result["ModelVersion"] = state[handle]["version"]
        return {**result, "State": desired, "Status": "SUCCESS"}

    def _download(self, handle: str, url: str, expected_sha1: str) -> dict[str, str]:
        bucket, key = split_s3_url(url)
        name = Path(key).name or "model"
        incoming = self.settings.models_dir / ".incoming" / handle / name
        actual = self.api.get_object(bucket, key, incoming)
        if expected_sha1 and actual != expected_sha1:
            incoming.unlink(missing_ok=True)
            raise ValueError(f"checksum mismatch for {url}: expected SHA-1 {expected_sha1}, got {actual}")
        target = self.settings.models_dir / handle
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        incoming.replace(target / name)
        return {"version": actual[:VERSION_DIGITS], "sha1": actual, "path": str(target / name), "url": url}

    def upload_captures(self) -> list[str]:
        directory, location = self.settings.capture_dir, self.settings.output_location
        if directory is None or location is None or not directory.is_dir():
            return []
        bucket, prefix = split_s3_url(location)
        uploaded: list[str] = []
        for path in sorted(p for p in directory.iterdir() if p.is_file()):
            parts = (
                prefix.strip("/"),
                self.settings.device_fleet_name,
                self.settings.device_name,
                "capture",
                path.name,
            )
            key = "/".join(part for part in parts if part)
            self.api.put_object(bucket, key, path.read_bytes())
            path.unlink()
            uploaded.append(f"s3://{bucket}/{key}")
        if uploaded:
            self.last_capture = _now()
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


def model_name(handle: str) -> str:
    """The ModelName the agent reports for a model handle (ModelName needs at least 4 characters)."""
    return handle if len(handle) >= 4 else f"model-{handle}"


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
