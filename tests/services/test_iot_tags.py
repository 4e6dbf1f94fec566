"""IoT tagging through boto3 and the AWS CLI: TagResource, UntagResource and ListTagsForResource on every
taggable kind (thing groups, thing types, policies, role aliases, CA certificates), IoT's refusals, and
tag-based IAM conditions (aws:RequestTag, aws:TagKeys, aws:ResourceTag).
"""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer
from tests.services.test_iot_cert_registration import Ca, register
from tests.services.test_iot_policies import user_client
from tests.services.test_iot_role_aliases import error_of, eventually, make_role

ALLOW_CONNECT = {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [ALLOW_CONNECT]})


def tags_of(iot: Any, arn: str) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in iot.list_tags_for_resource(resourceArn=arn)["tags"]}


def taggable_resources(server: RunningServer, suffix: str) -> list[str]:
    """One of each taggable kind, created without tags; their ARNs."""
    iot = server.client("iot")
    role_arn = make_role(server, f"TagRole{suffix}")
    ca_id = register(iot, Ca.new(f"Tag CA {suffix}"))
    return [
        iot.create_thing_group(thingGroupName=f"group-{suffix}")["thingGroupArn"],
        iot.create_thing_type(thingTypeName=f"type-{suffix}")["thingTypeArn"],
        iot.create_policy(policyName=f"policy-{suffix}", policyDocument=POLICY)["policyArn"],
        iot.create_role_alias(roleAlias=f"alias-{suffix}", roleArn=role_arn)["roleAliasArn"],
        iot.describe_ca_certificate(certificateId=ca_id)["certificateDescription"]["certificateArn"],
    ]


def test_tag_untag_list_every_kind(server: RunningServer) -> None:
    iot = server.client("iot")
    for arn in taggable_resources(server, "each"):
        assert tags_of(iot, arn) == {}, arn
        iot.tag_resource(resourceArn=arn, tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "edge"}])
        iot.tag_resource(resourceArn=arn, tags=[{"Key": "env", "Value": "dev"}, {"Key": "empty"}])
        assert tags_of(iot, arn) == {"env": "dev", "team": "edge", "empty": ""}, arn
        iot.untag_resource(resourceArn=arn, tagKeys=["team", "never-there"])
        assert tags_of(iot, arn) == {"env": "dev", "empty": ""}, arn


def test_tags_given_at_creation_are_listed(server: RunningServer) -> None:
    iot = server.client("iot")
    arn = iot.create_thing_group(thingGroupName="created-tagged", tags=[{"Key": "site", "Value": "lab"}])[
        "thingGroupArn"
    ]
    assert tags_of(iot, arn) == {"site": "lab"}
    iot.tag_resource(resourceArn=arn, tags=[{"Key": "floor", "Value": "2"}])
    assert tags_of(iot, arn) == {"site": "lab", "floor": "2"}


def test_with_the_aws_cli(server: RunningServer) -> None:
    arn = server.client("iot").create_policy(policyName="cli-tagged", policyDocument=POLICY)["policyArn"]

    def aws(*args: str) -> str:
        done = subprocess.run(["aws", "iot", *args], capture_output=True, text=True, env=server.env(), timeout=60)
        assert done.returncode == 0, done.stderr[-800:]
        return done.stdout

    aws("tag-resource", "--resource-arn", arn, "--tags", "Key=owner,Value=ops", "Key=tier,Value=gold")
    aws("untag-resource", "--resource-arn", arn, "--tag-keys", "tier")
    assert json.loads(aws("list-tags-for-resource", "--resource-arn", arn)) == {
        "tags": [{"Key": "owner", "Value": "ops"}]
    }


def test_refusals(server: RunningServer) -> None:
    iot = server.client("iot")
    account = server.client("sts").get_caller_identity()["Account"]
    group_arn = iot.create_thing_group(thingGroupName="refusals")["thingGroupArn"]
    thing_arn = iot.create_thing(thingName="untaggable")["thingArn"]
    missing = f"arn:aws:iot:us-east-1:{account}:thinggroup/no-such-group"
    elsewhere = group_arn.replace("us-east-1", "eu-west-1")
    cases: list[tuple[str, Any, str, int]] = [
        ("tag_resource", {"resourceArn": missing, "tags": [{"Key": "a", "Value": "b"}]}, "ResourceNotFound", 404),
        ("untag_resource", {"resourceArn": missing, "tagKeys": ["a"]}, "ResourceNotFound", 404),
        ("list_tags_for_resource", {"resourceArn": missing}, "ResourceNotFound", 404),
        # Same name, another region: not this resource.
        ("list_tags_for_resource", {"resourceArn": elsewhere}, "ResourceNotFound", 404),
        ("list_tags_for_resource", {"resourceArn": f"arn:aws:iot:us-east-1:{account}:rule/x"}, "ResourceNotFound", 404),
        ("list_tags_for_resource", {"resourceArn": "not-an-arn"}, "InvalidRequest", 400),
        ("list_tags_for_resource", {"resourceArn": "arn:aws:s3:::bucket"}, "InvalidRequest", 400),
        ("list_tags_for_resource", {"resourceArn": thing_arn}, "InvalidRequest", 400),
        ("tag_resource", {"resourceArn": group_arn, "tags": [{"Key": "aws:x", "Value": "y"}]}, "InvalidRequest", 400),
        ("tag_resource", {"resourceArn": group_arn, "tags": [{"Key": "AWS:x", "Value": "y"}]}, "InvalidRequest", 400),
        ("untag_resource", {"resourceArn": group_arn, "tagKeys": ["aws:createdBy"]}, "InvalidRequest", 400),
        ("tag_resource", {"resourceArn": group_arn, "tags": [{"Key": "k"}, {"Key": "k"}]}, "InvalidRequest", 400),
    ]
    for method, params, code, status in cases:
        with pytest.raises(ClientError) as caught:
            getattr(iot, method)(**params)
        got_code, message, got_status = error_of(caught)
        assert (got_code, got_status) == (code + "Exception", status), (method, params, message)
        assert message, (method, params)


def test_fifty_tags_at_most(server: RunningServer) -> None:
    iot = server.client("iot")
    arn = iot.create_thing_type(thingTypeName="fifty")["thingTypeArn"]
    iot.tag_resource(resourceArn=arn, tags=[{"Key": f"k{i}", "Value": str(i)} for i in range(49)])
    with pytest.raises(ClientError) as caught:
        iot.tag_resource(resourceArn=arn, tags=[{"Key": "new1"}, {"Key": "new2"}])
    assert error_of(caught)[0::2] == ("LimitExceededException", 410)
    assert len(tags_of(iot, arn)) == 49  # nothing half-applied
    iot.tag_resource(resourceArn=arn, tags=[{"Key": "k0", "Value": "changed"}, {"Key": "new1"}])  # 50: fine
    assert len(tags_of(iot, arn)) == 50


def test_concurrent_tagging_merges_and_holds_the_limit(server: RunningServer) -> None:
    """Twenty callers add two keys each at once: 40 distinct keys all land; then 10 callers race for the
    last 10 slots with 2 keys each: exactly 5 succeed, and the resource ends at 50."""
    iot = server.client("iot", max_pool_connections=20)
    arn = iot.create_thing_group(thingGroupName="contended")["thingGroupArn"]

    def tag(i: int) -> bool:
        try:
            iot.tag_resource(resourceArn=arn, tags=[{"Key": f"a{i}"}, {"Key": f"b{i}"}])
            return True
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "LimitExceededException"
            return False

    with ThreadPoolExecutor(20) as pool:
        assert all(pool.map(tag, range(20)))
        assert len(tags_of(iot, arn)) == 40
        assert sum(pool.map(tag, range(100, 110))) == 5
    assert len(tags_of(iot, arn)) == 50


def test_tag_conditions_in_iam_policies(server: RunningServer) -> None:
    iot = server.client("iot")
    arn = iot.create_thing_group(thingGroupName="governed", tags=[{"Key": "owner", "Value": "alice"}])["thingGroupArn"]
    bob_tags = [{"Key": "owner", "Value": "bob"}]
    other = iot.create_thing_group(thingGroupName="not-alices", tags=bob_tags)["thingGroupArn"]
    alice, _ = user_client(
        server,
        "tag-alice",
        {
            "Effect": "Allow",
            "Action": ["iot:TagResource", "iot:UntagResource", "iot:ListTagsForResource"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/owner": "alice"}},
        },
        {
            "Effect": "Deny",
            "Action": ["iot:TagResource", "iot:UntagResource"],
            "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner"]}},
        },
        {
            "Effect": "Deny",
            "Action": "iot:TagResource",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestTag/env": "prod"}},
        },
    )
    eventually(lambda: alice.tag_resource(resourceArn=arn, tags=[{"Key": "env", "Value": "dev"}]))
    assert tags_of(alice, arn) == {"owner": "alice", "env": "dev"}
    refused = [
        lambda: alice.tag_resource(resourceArn=arn, tags=[{"Key": "env", "Value": "prod"}]),  # RequestTag
        lambda: alice.tag_resource(resourceArn=arn, tags=[{"Key": "owner", "Value": "mallory"}]),  # TagKeys
        lambda: alice.untag_resource(resourceArn=arn, tagKeys=["owner"]),  # TagKeys
        lambda: alice.list_tags_for_resource(resourceArn=other),  # ResourceTag
        lambda: alice.tag_resource(resourceArn=other, tags=[{"Key": "env", "Value": "dev"}]),  # ResourceTag
    ]
    for call in refused:
        with pytest.raises(ClientError) as caught:
            call()
        code, message, status = error_of(caught)
        assert (code, status) == ("AccessDeniedException", 403) and "iot:" in message
    assert tags_of(iot, arn) == {"owner": "alice", "env": "dev"}
    assert tags_of(iot, other) == {"owner": "bob"}
