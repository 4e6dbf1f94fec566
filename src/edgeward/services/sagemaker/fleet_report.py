"""GetDeviceFleetReport: registered and connected devices, agent versions, model statistics from heartbeats.

A device counts as connected when its latest heartbeat is at most `CONNECTED_WINDOW` old (the Edge Manager
agent beats far more often). For a model reported by connected devices, a device is *active* when it ran an
inference within the window and *sampling* when it captured a sample within the window; devices whose
latest heartbeat is older count as offline for the models they last reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from edgeward.core import clock
from edgeward.services.context import Context
from edgeward.services.sagemaker import errors
from edgeward.services.sagemaker.names import fleet_arn
from edgeward.storage.repos import sagemaker_fleets as fleet_repo
from edgeward.storage.repos.sagemaker_heartbeats import fleet_statistics

CONNECTED_WINDOW = timedelta(minutes=10)


def get_device_fleet_report(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["DeviceFleetName"]
    ctx.authorize("sagemaker:GetDeviceFleetReport", fleet_arn(ctx, name))
    fleet = fleet_repo.get_fleet(ctx.conn, ctx.account, ctx.region, name)
    if fleet is None:
        raise errors.no_devicefleet(name)
    now = clock.now()
    since = now - CONNECTED_WINDOW
    stats = fleet_statistics(ctx.conn, fleet.id, since)
    report: dict[str, Any] = {
        "DeviceFleetArn": fleet.arn,
        "DeviceFleetName": fleet.name,
        "OutputConfig": dict(fleet.output_config),
        "ReportGenerated": now,
        "DeviceStats": {"ConnectedDeviceCount": stats.connected, "RegisteredDeviceCount": stats.registered},
        "AgentVersions": [
            {"Version": version, "AgentCount": count} for version, count in sorted(stats.agent_versions.items())
        ],
        "ModelStats": model_stats(stats.models, since.timestamp()),
    }
    if fleet.description:
        report["Description"] = fleet.description
    return report


def model_stats(reports: list[tuple[list[Mapping[str, Any]], bool]], since: float) -> list[dict[str, Any]]:
    """Per (model, version): how many devices run it connected, offline, active and sampling."""
    table: dict[tuple[str, str], dict[str, int]] = {}
    for models, connected in reports:
        for model in models:
            key = (str(model.get("ModelName")), str(model.get("ModelVersion")))
            row = table.setdefault(key, dict.fromkeys(_COUNTS, 0))
            if not connected:
                row["OfflineDeviceCount"] += 1
                continue
            row["ConnectedDeviceCount"] += 1
            row["ActiveDeviceCount"] += _recent(model.get("LatestInference"), since)
            row["SamplingDeviceCount"] += _recent(model.get("LatestSampleTime"), since)
    return [{"ModelName": name, "ModelVersion": version, **counts} for (name, version), counts in sorted(table.items())]


_COUNTS = ("OfflineDeviceCount", "ConnectedDeviceCount", "ActiveDeviceCount", "SamplingDeviceCount")


def _recent(epoch: object, since: float) -> int:
    return int(isinstance(epoch, int | float) and epoch >= since)
