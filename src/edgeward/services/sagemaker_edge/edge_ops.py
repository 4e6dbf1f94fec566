"""sagemaker-edge, the device data plane: SendHeartbeat, GetDeviceRegistration, GetDeployments.

Each is authorized by IAM on the device ARN (`sagemaker:<Operation>`), and a device's own credentials must
belong to the device (see `identity`).

- SendHeartbeat records the latest heartbeat on the device: time (the server's), agent version, models,
  agent metrics, deployment result — one UPDATE statement on the hot path.
- GetDeviceRegistration answers `REGISTERED` for a device registered in the fleet and `DEREGISTERED` for
  a name the fleet does not hold (never registered, or deregistered); the agent may cache the answer for
  `CacheTTL` seconds.
- GetDeployments: the deployments of started stages this device has not reported on yet (see
  `sagemaker.deploy_stages`), each with its model definitions (S3 URL, SHA-1, DEPLOY/UNDEPLOY).
- A heartbeat's DeploymentResult (for a deployment GetDeployments named) marks the device's deployment DEPLOYED
  or FAILED, which DescribeEdgeDeploymentPlan and ListStageDevices then show. A result naming a deployment the
  device does not have (or a stopped one) is kept on the device like any heartbeat, and changes nothing else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edgeward.core import clock
from edgeward.services.context import Context, Handler
from edgeward.services.sagemaker import deploy_shapes, errors
from edgeward.services.sagemaker.names import device_arn
from edgeward.services.sagemaker_edge import identity
from edgeward.storage.repos import sagemaker_deploy_devices as deploy_devices
from edgeward.storage.repos import sagemaker_devices as device_repo
from edgeward.storage.repos.sagemaker_deploy_devices import PendingDeployment
from edgeward.storage.repos.sagemaker_devices import model_names_key
from edgeward.storage.repos.sagemaker_heartbeats import Heartbeat, record_heartbeat

MAX_MODELS = 100
MAX_AGENT_METRICS = 100
CACHE_TTL_SECONDS = 300
REGISTERED, DEREGISTERED = "REGISTERED", "DEREGISTERED"


def send_heartbeat(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    fleet, name = params["DeviceFleetName"], params["DeviceName"]
    action, arn = "sagemaker:SendHeartbeat", device_arn(ctx, fleet, name)
    identity.authorize_device_call(ctx, action, arn, fleet, name)
    beat = _heartbeat(params)
    thing = identity.caller_thing(ctx)
    if not record_heartbeat(ctx.conn, ctx.account, ctx.region, fleet, name, beat, thing=thing):
        identity.own_device(ctx, action, arn, fleet, name)  # raises the reason no row matched
    if beat.deployment_result is not None:
        _record_result(ctx, name, beat.deployment_result, beat.at)
    return {}


def _record_result(ctx: Context, device: str, result: dict[str, Any], at: datetime) -> None:
    stage_id = deploy_shapes.stage_id_of(str(result.get("DeploymentName") or ""))
    if stage_id is None:
        return
    models = result.get("DeploymentModels") or []
    failed = [model for model in models if str(model.get("Status", "")).upper() == "FAIL"]
    deployed = str(result.get("DeploymentStatus", "")).upper() == "SUCCESS" and not failed
    message = result.get("DeploymentStatusMessage") or (failed[0].get("StatusReason") if failed else None)
    deploy_devices.record_result(
        ctx.conn, ctx.account, ctx.region, device, stage_id, deployed=deployed, message=message, now=at
    )


def _heartbeat(params: dict[str, Any]) -> Heartbeat:
    models = params.get("Models") or []
    metrics = params.get("AgentMetrics")
    if len(models) > MAX_MODELS:
        raise errors.list_length(f"[{len(models)} items]", "models", MAX_MODELS)
    if metrics is not None and len(metrics) > MAX_AGENT_METRICS:
        raise errors.list_length(f"[{len(metrics)} items]", "agentMetrics", MAX_AGENT_METRICS)
    result = params.get("DeploymentResult")
    return Heartbeat(
        at=clock.now(),
        agent_version=params["AgentVersion"],
        models=[_jsonable(model) for model in models],
        model_names=model_names_key(model["ModelName"] for model in models if model.get("ModelName")),
        agent_metrics=[_jsonable(metric) for metric in metrics] if metrics is not None else None,
        deployment_result=_jsonable(result) if result is not None else None,
    )


def _jsonable(value: Any) -> Any:
    """Input structures with timestamps as epoch seconds, ready for a JSON column."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def get_device_registration(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    fleet, name = params["DeviceFleetName"], params["DeviceName"]
    action, arn = "sagemaker:GetDeviceRegistration", device_arn(ctx, fleet, name)
    identity.authorize_device_call(ctx, action, arn, fleet, name)
    device = device_repo.get_device(ctx.conn, ctx.account, ctx.region, name)
    if device is None or device.fleet_name != fleet:
        if not identity.fleet_exists(ctx, fleet):
            raise errors.no_device_fleet(fleet)
        status = DEREGISTERED
    else:
        thing = identity.caller_thing(ctx)
        if thing is not None and device.iot_thing_name != thing:
            raise identity.other_device(ctx, action, arn, name, thing)
        status = REGISTERED
    return {"DeviceRegistration": status, "CacheTTL": str(CACHE_TTL_SECONDS)}


def get_deployments(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    fleet, name = params["DeviceFleetName"], params["DeviceName"]
    action, arn = "sagemaker:GetDeployments", device_arn(ctx, fleet, name)
    identity.authorize_device_call(ctx, action, arn, fleet, name)
    device = identity.own_device(ctx, action, arn, fleet, name)
    return {"Deployments": [_deployment(pending) for pending in deploy_devices.pending_for(ctx.conn, device.id)]}


def _deployment(pending: PendingDeployment) -> dict[str, Any]:
    return {
        "DeploymentName": deploy_shapes.deployment_name(pending.plan_name, pending.stage_name, pending.stage_id),
        "Type": "Model",
        "FailureHandlingPolicy": pending.failure_policy,
        "Definitions": [dict(definition) for definition in pending.definitions],
    }


OPERATIONS: dict[str, Handler] = {
    "SendHeartbeat": send_heartbeat,
    "GetDeviceRegistration": get_device_registration,
    "GetDeployments": get_deployments,
}
