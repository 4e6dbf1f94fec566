"""Policy evaluation throughput: a typical user with 3 managed policies of ~10 statements each.

Run: python bench/policy_eval.py [seconds-per-scenario]
Prints evaluations per CPU-second per request shape (building the Request included), and compile throughput.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from edgeward.policy import Caller, CallerKind, Policy, Request, evaluate, parse_policy

ACCOUNT = "123456789012"
USER = Caller(CallerKind.USER, f"arn:aws:iam::{ACCOUNT}:user/mateojackson", ACCOUNT, unique_id="AIDAEXAMPLE1234567")
CONTEXT: dict[str, Any] = {
    "aws:username": "mateojackson",
    "aws:userid": "AIDAEXAMPLE1234567",
    "aws:PrincipalAccount": ACCOUNT,
    "aws:PrincipalArn": USER.arn,
    "aws:PrincipalType": "User",
    "aws:SecureTransport": "true",
    "aws:SourceIp": "10.1.2.3",
    "aws:CurrentTime": "2024-05-01T12:00:00Z",
    "aws:EpochTime": "1714564800",
    "aws:PrincipalTag/team": "edge",
}


def _statement(effect: str, action: Any, resource: Any, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"Effect": effect, "Action": action, "Resource": resource}
    if condition:
        body["Condition"] = condition
    return body


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


EDGE_FLEET = _document(
    _statement("Allow", ["s3:PutObject", "s3:GetBucketLocation"], "arn:aws:s3:::*SageMaker*"),
    _statement("Allow", ["s3:PutObject", "s3:GetBucketLocation"], "arn:aws:s3:::*Sagemaker*"),
    _statement("Allow", ["s3:PutObject", "s3:GetBucketLocation"], "arn:aws:s3:::*sagemaker*"),
    _statement("Allow", ["sagemaker:SendHeartbeat", "sagemaker:GetDeviceRegistration"], "*"),
    _statement(
        "Allow",
        ["iot:CreateRoleAlias", "iot:DescribeRoleAlias", "iot:UpdateRoleAlias", "iot:TagResource"],
        "arn:aws:iot:*:*:rolealias/SageMakerEdge*",
    ),
    _statement("Allow", "iot:ListTagsForResource", "arn:aws:iot:*:*:rolealias/SageMakerEdge*"),
    _statement(
        "Allow",
        ["iam:GetRole", "iam:PassRole"],
        [
            "arn:aws:iam::*:role/*SageMaker*",
            "arn:aws:iam::*:role/*Sagemaker*",
            "arn:aws:iam::*:role/*sagemaker*",
        ],
        {"StringEqualsIfExists": {"iam:PassedToService": ["iot.amazonaws.com", "credentials.iot.amazonaws.com"]}},
    ),
    _statement("Allow", "sagemaker:Describe*", f"arn:aws:sagemaker:*:{ACCOUNT}:device-fleet/*"),
    _statement("Allow", "sagemaker:List*", "*"),
    _statement("Deny", "sagemaker:Delete*", "*", {"Bool": {"aws:MultiFactorAuthPresent": "false"}}),
)
DATA_ACCESS = _document(
    _statement("Allow", "s3:ListAllMyBuckets", "*"),
    _statement(
        "Allow",
        "s3:ListBucket",
        "arn:aws:s3:::edge-data",
        {"StringLike": {"s3:prefix": ["${aws:username}/*"]}},
    ),
    _statement("Allow", ["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::edge-data/${aws:username}/*"),
    _statement("Allow", "s3:GetObject", "arn:aws:s3:::edge-shared/*", {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
    _statement("Deny", "s3:*", "arn:aws:s3:::edge-data/*", {"Bool": {"aws:SecureTransport": "false"}}),
    _statement("Allow", "s3:GetObject", "arn:aws:s3:::edge-team/${aws:PrincipalTag/team}/*"),
    _statement("Deny", "s3:DeleteBucket", "*"),
    _statement("Allow", ["iot:DescribeThing", "iot:ListThings"], "*"),
    _statement("Allow", "iot:*Certificate*", f"arn:aws:iot:*:{ACCOUNT}:cert/*"),
    _statement("Allow", "iot:DescribeEndpoint", "*"),
)
SELF_SERVICE = _document(
    _statement("Allow", ["iam:GetUser", "iam:ChangePassword"], "arn:aws:iam::*:user/${aws:username}"),
    _statement("Allow", "iam:*AccessKey*", "arn:aws:iam::*:user/${aws:username}"),
    _statement("Allow", "iam:*LoginProfile", "arn:aws:iam::*:user/${aws:username}"),
    _statement("Allow", ["iam:ListUsers", "iam:GetAccountPasswordPolicy"], "*"),
    _statement("Allow", "iam:*MFADevice", "arn:aws:iam::*:mfa/${aws:username}"),
    _statement("Allow", "sts:GetCallerIdentity", "*"),
    _statement(
        "Deny",
        "iam:*",
        "*",
        {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
    ),
    _statement("Deny", ["iam:CreateUser", "iam:DeleteUser"], "*"),
    _statement("Allow", "iam:List*Policies", "arn:aws:iam::*:user/${aws:username}"),
    _statement(
        "Allow",
        "iam:Tag*",
        "arn:aws:iam::*:user/${aws:username}",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost-center"]}},
    ),
)
DOCUMENTS = (EDGE_FLEET, DATA_ACCESS, SELF_SERVICE)

SCENARIOS: list[tuple[str, str, str | None, dict[str, Any]]] = [
    (
        "allow sagemaker:DescribeDevice",
        "sagemaker:DescribeDevice",
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:device-fleet/f/device/d",
        {},
    ),
    ("allow s3:GetObject (variable)", "s3:GetObject", "arn:aws:s3:::edge-data/mateojackson/model.bin", {}),
    (
        "allow iam:PassRole (condition)",
        "iam:PassRole",
        f"arn:aws:iam::{ACCOUNT}:role/SageMakerEdge",
        {"iam:PassedToService": "credentials.iot.amazonaws.com"},
    ),
    ("implicit deny iot:CreateThing", "iot:CreateThing", f"arn:aws:iot:us-east-1:{ACCOUNT}:thing/t", {}),
    ("explicit deny iam:CreateUser", "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/new", {}),
]


def _rate(label: str, seconds: float, step: Callable[[], object]) -> float:
    """Operations per CPU-second (process time, so other load on the machine does not skew it)."""
    count, start = 0, time.process_time()
    deadline = start + seconds
    while time.process_time() < deadline:
        for _ in range(200):
            step()
        count += 200
    rate = count / (time.process_time() - start)
    print(f"  {label:<40} {rate:>12,.0f} /s")
    return rate


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    policies: list[Policy] = [
        parse_policy(d).with_source(f"managed-{i}", "user-managed") for i, d in enumerate(DOCUMENTS)
    ]
    print(
        f"policy evaluation: 1 user, {len(policies)} managed policies, "
        f"{sum(len(p.statements) for p in policies)} statements, {len(CONTEXT)} context keys"
    )
    rates = []
    for label, action, resource, extra in SCENARIOS:
        context = {**CONTEXT, **extra}

        def step(action: str = action, resource: str | None = resource, context: dict[str, Any] = context) -> object:
            return evaluate(Request(USER, action, resource, context), policies)

        rates.append(_rate(label, seconds, step))
    print(f"  {'mean over scenarios':<40} {sum(rates) / len(rates):>12,.0f} evaluations/s")
    print("compilation (uncached):")
    _rate("parse_policy of a 10-statement document", seconds, lambda: parse_policy(DATA_ACCESS))


if __name__ == "__main__":
    main()
