"""SageMaker: what edgeward says about model compilation and packaging.

edgeward manages devices, their identities and their credentials; it does not compile or package models
(SageMaker Neo / Edge Packaging). Those operations answer so, plainly and without a retryable status;
ListEdgePackagingJobs truthfully lists none. Edge deployment plans are not offered yet (answered 501).
"""

from __future__ import annotations

from typing import Any

from edgeward.services.context import Context, Handler
from edgeward.services.sagemaker import errors

NOT_OFFERED = (
    "edgeward does not offer model compilation or edge packaging (SageMaker Neo / Edge Packaging jobs): "
    "package and sign the model yourself and upload it to S3 for your devices."
)


def _job_arn(ctx: Context, params: dict[str, Any]) -> str:
    return ctx.arn("sagemaker", f"edge-packaging-job/{params['EdgePackagingJobName']}")


def _refuse(action: str) -> Handler:
    def handler(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        ctx.authorize(f"sagemaker:{action}", _job_arn(ctx, params))
        raise errors.validation(NOT_OFFERED)

    handler.__name__ = action
    return handler


def list_edge_packaging_jobs(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("sagemaker:ListEdgePackagingJobs", "*")
    return {"EdgePackagingJobSummaries": []}


OPERATIONS: dict[str, Handler] = {
    "CreateEdgePackagingJob": _refuse("CreateEdgePackagingJob"),
    "DescribeEdgePackagingJob": _refuse("DescribeEdgePackagingJob"),
    "StopEdgePackagingJob": _refuse("StopEdgePackagingJob"),
    "ListEdgePackagingJobs": list_edge_packaging_jobs,
}
