"""Action and resource matching: case rules, wildcards, ARN segments, Not* complements."""

from __future__ import annotations

import pytest

from edgeward.policy import ConditionContext
from edgeward.policy.matching import action_matcher, resource_matcher

from .helpers import ACCOUNT, allow, document, identity

ACTIONS = [
    ("s3:GetObject", "s3:GetObject", True),
    ("s3:GetObject", "S3:getobject", True),
    ("S3:GETOBJECT", "s3:GetObject", True),
    ("s3:GetObject", "s3:GetObjectAcl", False),
    ("s3:Get*", "s3:GetObjectAcl", True),
    ("s3:Get*", "s3:PutObject", False),
    ("s3:*", "s3:AnythingAtAll", True),
    ("s3:*", "s3control:ListJobs", False),
    ("*", "iam:CreateUser", True),
    ("iam:*User", "iam:CreateUser", True),
    ("iam:*User", "iam:CreateUserX", False),
    ("iam:*user*", "iam:ListUserPolicies", True),
    ("iam:Get?ser", "iam:GetUser", True),
    ("iam:Get?ser", "iam:GetUUser", False),
    ("iam:Get?ser", "iam:Getser", False),
    ("iot:*", "iot-data:Publish", False),
    ("sagemaker:Describe*", "sagemaker:DescribeDevice", True),
    ("sagemaker:*Device*", "sagemaker:ListDevices", True),
    ("sts:AssumeRole", "sts:AssumeRoleWithSAML", False),
    ("sts:AssumeRole*", "sts:AssumeRoleWithSAML", True),
    ("iot:AssumeRoleWithCertificate", "iot:assumerolewithcertificate", True),
    ("s3:Get.bject", "s3:GetObject", False),
]


@pytest.mark.parametrize(("pattern", "action", "expected"), ACTIONS)
def test_action_matching(pattern: str, action: str, expected: bool) -> None:
    assert action_matcher([pattern], negated=False).matches(action.lower()) is expected
    assert action_matcher([pattern], negated=True).matches(action.lower()) is not expected


def test_action_list_is_ored() -> None:
    matcher = action_matcher(["s3:GetObject", "iam:List*"], negated=False)
    assert matcher.matches("iam:listusers")
    assert matcher.matches("s3:getobject")
    assert not matcher.matches("s3:putobject")


RESOURCES = [
    ("*", "arn:aws:s3:::anything/at/all", True),
    ("*", "*", True),
    ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", True),
    ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a:b", True),
    ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", False),
    ("arn:aws:s3:::bucket*", "arn:aws:s3:::bucket/x", True),
    ("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/x", False),
    ("arn:aws:s3:::bucket/X", "arn:aws:s3:::bucket/x", False),
    ("arn:aws:s3:::bucket?", "arn:aws:s3:::bucket1", True),
    ("arn:aws:s3:::bucket?", "arn:aws:s3:::bucket12", False),
    ("arn:aws:s3:::*SageMaker*", "arn:aws:s3:::my-SageMaker-data", True),
    ("arn:aws:s3:::*SageMaker*", "arn:aws:s3:::my-sagemaker-data", False),
    (f"arn:aws:iam::{ACCOUNT}:user/*", f"arn:aws:iam::{ACCOUNT}:user/division/bob", True),
    (f"arn:aws:iam::{ACCOUNT}:user/*", f"arn:aws:iam::{ACCOUNT}:role/bob", False),
    ("arn:aws:iam::*:user/bob", f"arn:aws:iam::{ACCOUNT}:user/bob", True),
    ("arn:aws:iam::*:user/bob", f"arn:aws:iam::{ACCOUNT}:role/bob", False),
    (f"arn:aws:iam::{ACCOUNT}:*", f"arn:aws:iam::{ACCOUNT}:user/bob", True),
    ("arn:aws:iam::*:role/*SageMaker*", f"arn:aws:iam::{ACCOUNT}:role/service-role/SageMakerEdge", True),
    (
        "arn:aws:sagemaker:*:*:device-fleet/fleet-1/device/*",
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:device-fleet/fleet-1/device/d1",
        True,
    ),
    (
        "arn:aws:sagemaker:*:*:device-fleet/fleet-1",
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:device-fleet/fleet-1/device/d1",
        False,
    ),
    (
        f"arn:aws:sagemaker:us-?ast-1:{ACCOUNT}:device-fleet/f",
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:device-fleet/f",
        True,
    ),
    (
        "arn:aws:iot:*:*:rolealias/SageMakerEdge*",
        f"arn:aws:iot:eu-west-1:{ACCOUNT}:rolealias/SageMakerEdge-fleet",
        True,
    ),
    # a wildcard stays inside its segment before the resource part
    (f"arn:aws:sqs:*:{ACCOUNT}:q", f"arn:aws:sqs:us-east-1:extra:{ACCOUNT}:q", False),
    ("arn:aws:sqs:us-east-1:*:*", f"arn:aws:sqs:us-east-1:{ACCOUNT}:q", True),
    ("arn:aws:sqs:*:*:*", "arn:aws:sqs:::", True),
    # no wildcards in the service segment
    (f"arn:aws:*:us-east-1:{ACCOUNT}:thing/x", f"arn:aws:iot:us-east-1:{ACCOUNT}:thing/x", False),
    # regex metacharacters are literal
    ("arn:aws:s3:::a.b/(x)+", "arn:aws:s3:::a.b/(x)+", True),
    ("arn:aws:s3:::a.b", "arn:aws:s3:::aXb", False),
    ("arn:aws:s3:::a[bc]", "arn:aws:s3:::ab", False),
    # a request without a resource (list actions) is matched only by "*"
    (f"arn:aws:iam::{ACCOUNT}:user/*", "*", False),
]


@pytest.mark.parametrize(("pattern", "resource", "expected"), RESOURCES)
def test_resource_matching(pattern: str, resource: str, expected: bool) -> None:
    context = ConditionContext()
    assert resource_matcher([pattern], negated=False, variables=True).matches(resource, context) is expected
    assert resource_matcher([pattern], negated=True, variables=True).matches(resource, context) is not expected


def test_resource_list_mixes_static_and_variable_patterns() -> None:
    matcher = resource_matcher(
        ["arn:aws:s3:::public/*", "arn:aws:s3:::home/${aws:username}/*"], negated=False, variables=True
    )
    context = ConditionContext({"aws:username": "bob"})
    assert matcher.matches("arn:aws:s3:::public/x", context)
    assert matcher.matches("arn:aws:s3:::home/bob/x", context)
    assert not matcher.matches("arn:aws:s3:::home/alice/x", context)
    assert [v.key for v in matcher.variables] == ["aws:username"]


def test_statements_are_indexed_by_action() -> None:
    policy = identity(
        allow("s3:GetObject"),
        allow("iam:*"),
        allow("*"),
        allow(None, NotAction="s3:*"),
        allow(["sagemaker:Describe*", "s3:List*"]),
    )
    assert [s.index for s in policy.for_action("s3:getobject")] == [0, 2]
    assert [s.index for s in policy.for_action("s3:listbucket")] == [2, 4]
    assert [s.index for s in policy.for_action("iam:getuser")] == [1, 2, 3]
    assert [s.index for s in policy.for_action("iot:listthings")] == [2, 3]
    assert policy.for_action("iot:listthings") is policy.for_action("iot:listthings")


def test_action_index_is_bounded() -> None:
    policy = identity(allow("s3:*"))
    for n in range(5000):
        policy.for_action(f"s3:action{n}")
    assert policy.for_action("s3:getobject")
    assert policy.for_action("iam:getuser") == ()


def test_document_helper_roundtrip() -> None:
    assert '"Version": "2012-10-17"' in document(allow())
