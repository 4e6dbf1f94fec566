"""Edge deployment plans in SageMaker's words: ARNs, output shapes, stage status, deployment names, errors.

A stage's StageStatus follows from what the operator did and what devices reported: READYTODEPLOY until
started; INPROGRESS while devices have not reported; then DEPLOYED, or FAILED if any device failed; STOPPED
once stopped.

The deployment a device receives is named `<plan>-<stage>-<stage id>` (the sagemaker-edge model allows only
letters, digits and hyphens, at most 63): readable, and the trailing id says which stage a device's
DeploymentResult is about even when names are long or alike.
"""

from __future__ import annotations

from typing import Any

from edgeward.core.errors import ServiceError
from edgeward.services.context import Context
from edgeward.services.sagemaker import errors
from edgeward.storage.repos.sagemaker_deploy_devices import Counts
from edgeward.storage.repos.sagemaker_deploy_plans import STARTED, STOPPED, PlanRecord, StageRecord

DEPLOYMENT_NAME_MAX = 63
DEFAULT_FAILURE_POLICY = "ROLLBACK_ON_FAILURE"  # "By default this is turned on" (EdgeDeploymentConfig)


def plan_arn(ctx: Context, plan: str) -> str:
    return ctx.arn("sagemaker", f"edge-deployment/{plan}")


def no_plan(plan: str, *, modeled: bool = False) -> ServiceError:
    """DescribeEdgeDeploymentPlan models ResourceNotFound; the other plan operations model none."""
    message = f"Edge deployment plan {plan} does not exist."
    return ServiceError("ResourceNotFound", message, 400) if modeled else errors.validation(message)


def no_stage(plan: str, stage: str) -> ServiceError:
    return errors.validation(f"Stage {stage} does not exist in edge deployment plan {plan}.")


def stage_status(stage: StageRecord, counts: Counts | None) -> str:
    if stage.state == STOPPED:
        return "STOPPED"
    if stage.state != STARTED:
        return "READYTODEPLOY"
    counts = counts or Counts()
    if counts.pending:
        return "INPROGRESS"
    return "FAILED" if counts.failed else "DEPLOYED"


def stage_shape(stage: StageRecord, counts: Counts | None) -> dict[str, Any]:
    """A DeploymentStageStatusSummary."""
    counts = counts or Counts()
    status: dict[str, Any] = {
        "StageStatus": stage_status(stage, counts),
        "EdgeDeploymentSuccessInStage": counts.success,
        "EdgeDeploymentPendingInStage": counts.pending,
        "EdgeDeploymentFailedInStage": counts.failed,
    }
    if stage.started_at is not None:
        status["EdgeDeploymentStageStartTime"] = stage.started_at
    if counts.stopped:
        status["EdgeDeploymentStatusMessage"] = f"{counts.stopped} device(s) stopped before reporting."
    return {
        "StageName": stage.name,
        "DeviceSelectionConfig": dict(stage.selection),
        "DeploymentConfig": {"FailureHandlingPolicy": stage.failure_policy},
        "DeploymentStatus": status,
    }


def plan_counts(counts: Counts | None) -> dict[str, int]:
    counts = counts or Counts()
    return {
        "EdgeDeploymentSuccess": counts.success,
        "EdgeDeploymentPending": counts.pending,
        "EdgeDeploymentFailed": counts.failed,
    }


def plan_summary(plan: PlanRecord, counts: Counts | None) -> dict[str, Any]:
    return {
        "EdgeDeploymentPlanArn": plan.arn,
        "EdgeDeploymentPlanName": plan.name,
        "DeviceFleetName": plan.fleet_name,
        **plan_counts(counts),
        "CreationTime": plan.created_at,
        "LastModifiedTime": plan.last_modified_at,
    }


def deployment_name(plan: str, stage: str, stage_id: int) -> str:
    suffix = f"-{stage_id}"
    return f"{plan}-{stage}"[: DEPLOYMENT_NAME_MAX - len(suffix)] + suffix


def stage_id_of(deployment: str) -> int | None:
    """The stage a deployment name (as GetDeployments issued it) refers to; None for other names."""
    _, _, tail = deployment.rpartition("-")
    return int(tail) if tail.isdigit() and len(tail) < 19 else None
