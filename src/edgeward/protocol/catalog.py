"""The AWS services edgeward speaks, described by botocore's own service models."""

from __future__ import annotations

from functools import cache

import botocore.session
from botocore.model import OperationModel, ServiceModel

# botocore service name -> the SigV4 signing name clients put in the credential scope.
SERVICES: dict[str, str] = {
    "iam": "iam",
    "sts": "sts",
    "iot": "iot",
    "sagemaker": "sagemaker",
    "sagemaker-edge": "sagemaker",
    "s3": "s3",
}


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def service_model(service: str) -> ServiceModel:
    if service not in SERVICES:
        raise KeyError(service)
    return _session().get_service_model(service)


@cache
def operation_model(service: str, operation: str) -> OperationModel:
    return service_model(service).operation_model(operation)


def protocol_of(service: str) -> str:
    """`query`, `json`, `rest-json` or `rest-xml`."""
    return str(service_model(service).protocol)


def services_signing_as(signing_name: str) -> list[str]:
    return [name for name, signing in SERVICES.items() if signing == signing_name]
