"""How devices look on the wire: DescribeDevice's output and ListDevices' summaries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from edgeward.core import clock
from edgeward.services.context import Context
from edgeward.services.sagemaker.names import device_arn
from edgeward.storage.repos.sagemaker_devices import DeviceRecord


def description(ctx: Context, device: DeviceRecord) -> dict[str, Any]:
    """DescribeDevice's output. All reported models come in one page (heartbeats carry at most
    `MAX_MODELS`), so there is never a NextToken."""
    shape = _common(ctx, device)
    shape["Models"] = [_model(model, detailed=True) for model in device.models]
    return shape


def summary(ctx: Context, device: DeviceRecord) -> dict[str, Any]:
    shape = _common(ctx, device)
    shape["Models"] = [_model(model, detailed=False) for model in device.models]
    return shape


def _common(ctx: Context, device: DeviceRecord) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "DeviceArn": device_arn(ctx, device.fleet_name, device.name),
        "DeviceName": device.name,
        "DeviceFleetName": device.fleet_name,
        "RegistrationTime": device.registered_at,
    }
    for key, value in (
        ("Description", device.description),
        ("IotThingName", device.iot_thing_name),
        ("LatestHeartbeat", device.latest_heartbeat),
        ("AgentVersion", device.agent_version),
    ):
        if value:
            shape[key] = value
    return shape


def _model(model: Mapping[str, Any], *, detailed: bool) -> dict[str, Any]:
    shape: dict[str, Any] = {"ModelName": model.get("ModelName"), "ModelVersion": model.get("ModelVersion")}
    if detailed:
        for key in ("LatestSampleTime", "LatestInference"):
            when = epoch_to_datetime(model.get(key))
            if when is not None:
                shape[key] = when
    return {key: value for key, value in shape.items() if value is not None}


def epoch_to_datetime(epoch: object) -> datetime | None:
    """Heartbeat times are stored as epoch seconds (JSON); None when absent."""
    return clock.from_epoch(float(epoch)) if isinstance(epoch, int | float) else None
