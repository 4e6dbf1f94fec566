"""Fail closed: every implemented operation, called through the wire by a principal with no policies — an IAM
user, and a session of a role — is denied in its service's AccessDenied form, except the documented open ones.

Inputs pass the model's validation: they are drawn from botocore's input shapes (tests/fuzzgen), the simplest
Hypothesis can make, with a few hand-picked members (tests/fuzzgen/overrides.py). A failure names the operation.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError

from edgeward.protocol.catalog import operation_model
from edgeward.services.registry import OPEN_OPERATIONS
from tests.fuzzgen import overrides, wire_operations
from tests.fuzzgen.draw import simplest
from tests.fuzzgen.shapes import input_strategy
from tests.serverfixtures import RunningServer

OPERATIONS = wire_operations()

# What each service calls a denial on the wire (spec 4.3); HEAD replies have no body, so botocore sees the status.
DENIAL_CODES = {
    "iam": {"AccessDenied"},
    "sts": {"AccessDenied"},
    "s3": {"AccessDenied"},
    "iot": {"AccessDeniedException"},
    "sagemaker": {"AccessDeniedException"},
    "sagemaker-edge": {"AccessDeniedException"},
}


# Beyond the registry's open operations: GetSessionToken authenticates, and AWS lets no policy control it for IAM
# users (session credentials are refused, in AccessDenied form, with AWS's own sentence).
OPEN_TO_USERS = OPEN_OPERATIONS | {("sts", "GetSessionToken")}
REFUSALS_IN_OTHER_WORDS = {("sts", "GetSessionToken"): "Cannot call GetSessionToken with session credentials"}


# Known bugs, each a real leak: the handler looks the named user up before authorizing, so a caller with no
# permission learns whether the user exists (NoSuchEntity instead of AccessDenied). Strict: a fix turns these red
# until they are removed from here.
# Operations that answer a caller without permissions with something other than AccessDenied (a leak of
# which resources exist). Empty: keep it so.
KNOWN_LEAKS: dict[tuple[str, str], str] = {}


@dataclass
class Caller:
    server: RunningServer
    arn: str
    access_key: str
    secret_key: str
    token: str | None = None

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    @property
    def is_user(self) -> bool:
        return self.token is None

    @cache  # noqa: B019 - one client per service for the module's life
    def client(self, service: str) -> Any:
        extra: dict[str, Any] = {"inject_host_prefix": False}
        if service == "s3":
            extra["s3"] = {"addressing_style": "path"}
        return self.server.client(service, self.access_key, self.secret_key, self.token, **extra)

    def __hash__(self) -> int:
        return hash(self.access_key)


@pytest.fixture(scope="module")
def user(server: RunningServer) -> Caller:
    iam = server.client("iam")
    name = f"nobody-{uuid.uuid4().hex[:8]}"
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Caller(server, arn, key["AccessKeyId"], key["SecretAccessKey"])


@pytest.fixture(scope="module")
def role_session(server: RunningServer) -> Caller:
    iam, sts = server.client("iam"), server.client("sts")
    account = sts.get_caller_identity()["Account"]
    name = f"nobody-role-{uuid.uuid4().hex[:8]}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{name}", RoleSessionName="fail-closed")[
        "Credentials"
    ]
    arn = f"arn:aws:sts::{account}:assumed-role/{name}/fail-closed"
    return Caller(server, arn, credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])


def valid_input(caller: Caller, service: str, operation: str) -> dict[str, Any]:
    model = operation_model(service, operation)
    present = set(model.input_shape.members) if model.input_shape is not None else set()
    pinned = overrides.members(service, operation, present, caller.account, caller_is_user=caller.is_user)
    return simplest(input_strategy(model, overrides=pinned))


def call(caller: Caller, service: str, operation: str) -> Any:
    client = caller.client(service)
    result = getattr(client, xform_name(operation))(**valid_input(caller, service, operation))
    body = result.get("Body") if isinstance(result, dict) else None
    if body is not None:
        body.close()
    return result


def assert_denied(caller: Caller, service: str, operation: str) -> None:
    with pytest.raises(ClientError) as raised:
        call(caller, service, operation)
    error = raised.value.response["Error"]
    status = raised.value.response["ResponseMetadata"]["HTTPStatusCode"]
    where = f"{service}:{operation} as {caller.arn}"
    if operation.startswith("Head"):  # no body: botocore reports the status as the code
        assert (error["Code"], status) == ("403", 403), f"{where}: {error} ({status})"
        return
    assert error["Code"] in DENIAL_CODES[service], f"{where}: not denied but {error} ({status})"
    assert status in (400, 403), f"{where}: status {status}"
    if (service, operation) in REFUSALS_IN_OTHER_WORDS:
        assert error["Message"] == REFUSALS_IN_OTHER_WORDS[(service, operation)], f"{where}: {error['Message']}"
    elif service != "s3":  # S3 says only "Access Denied", as AWS does
        assert f"{caller.arn} is not authorized to perform: " in error["Message"], f"{where}: {error['Message']}"


def check(caller: Caller, service: str, operation: str) -> None:
    if (service, operation) in (OPEN_TO_USERS if caller.is_user else OPEN_OPERATIONS):
        result = call(caller, service, operation)
        assert result.get("Arn", caller.arn) == caller.arn, f"{service}:{operation}: {result}"
    else:
        assert_denied(caller, service, operation)


@pytest.mark.parametrize(("service", "operation"), OPERATIONS, ids=[f"{s}:{o}" for s, o in OPERATIONS])
def test_user_without_policies_is_denied(user: Caller, service: str, operation: str) -> None:
    check(user, service, operation)


@pytest.mark.parametrize(("service", "operation"), OPERATIONS, ids=[f"{s}:{o}" for s, o in OPERATIONS])
def test_role_session_without_policies_is_denied(role_session: Caller, service: str, operation: str) -> None:
    if (service, operation) not in KNOWN_LEAKS:
        check(role_session, service, operation)
        return
    try:  # a role session names the user, which the leak needs
        check(role_session, service, operation)
    except AssertionError:
        pytest.xfail(KNOWN_LEAKS[(service, operation)])
    pytest.fail(f"{service}:{operation} is denied now: remove it from KNOWN_LEAKS")


def test_every_service_is_covered() -> None:
    assert {service for service, _ in OPERATIONS} == set(DENIAL_CODES)
