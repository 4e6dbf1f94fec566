"""IoT policies through boto3 and the AWS CLI: the seed's alias policy attached to a certificate, versions
(at most five), attachments and their limits, deletion conflicts, effective policies, paging and denials.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer

REGION = "us-east-1"


def account_of(server: RunningServer) -> str:
    return str(server.client("sts").get_caller_identity()["Account"])


def cert_arn(account: str) -> str:
    """Any well-formed certificate ARN will do: attachments do not need the certificate to exist here."""
    return f"arn:aws:iot:{REGION}:{account}:cert/{secrets.token_hex(32)}"


def alias_policy(alias_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "iot:AssumeRoleWithCertificate", "Resource": alias_arn},
        }
    )


def iot_doc(action: str = "iot:Connect", resource: str = "*") -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}
    )


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def user_client(server: RunningServer, name: str, *statements: dict[str, Any]) -> tuple[Any, str]:
    """An IoT client for a new IAM user whose one inline policy holds `statements` (none: no policy)."""
    iam = server.client("iam")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if statements:
        document = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
        iam.put_user_policy(UserName=name, PolicyName="iot", PolicyDocument=document)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("iot", key["AccessKeyId"], key["SecretAccessKey"]), arn


def cli(server: RunningServer, *args: str) -> Any:
    out = subprocess.run(["aws", "iot", *args], capture_output=True, text=True, env=server.env(), timeout=60)
    assert out.returncode == 0, out.stderr[-800:]
    return json.loads(out.stdout) if out.stdout.strip() else None


# -- the seed's steps ----------------------------------------------------------------------------------


def test_seed_alias_policy_created_and_attached_to_the_certificate(server: RunningServer) -> None:
    iot = server.client("iot")
    account = account_of(server)
    alias_arn = f"arn:aws:iot:{REGION}:{account}:rolealias/SageMakerEdge-demo-fleet"
    name = "aliaspolicy-" + str(int(time.time()))
    created = iot.create_policy(policyName=name, policyDocument=alias_policy(alias_arn))
    assert created["policyArn"] == f"arn:aws:iot:{REGION}:{account}:policy/{name}"
    assert (created["policyName"], created["policyVersionId"]) == (name, "1")
    assert json.loads(created["policyDocument"])["Statement"]["Resource"] == alias_arn
    cert = cert_arn(account)
    iot.attach_policy(policyName=name, target=cert)
    iot.attach_policy(policyName=name, target=cert)  # attaching again changes nothing
    attached = iot.list_attached_policies(target=cert)["policies"]
    assert attached == [{"policyName": name, "policyArn": created["policyArn"]}]
    assert iot.list_targets_for_policy(policyName=name)["targets"] == [cert]
    effective = iot.get_effective_policies(principal=cert)["effectivePolicies"]
    assert effective == [
        {"policyName": name, "policyArn": created["policyArn"], "policyDocument": alias_policy(alias_arn)}
    ]
    got = iot.get_policy(policyName=name)
    assert got["defaultVersionId"] == "1" and got["policyDocument"] == alias_policy(alias_arn)
    assert got["creationDate"] <= got["lastModifiedDate"] and got["generationId"]


def test_seed_steps_with_the_aws_cli(server: RunningServer, tmp_path: Path) -> None:
    account = account_of(server)
    alias_arn = f"arn:aws:iot:{REGION}:{account}:rolealias/cli-alias"
    path = tmp_path / "policy.json"
    path.write_text(alias_policy(alias_arn))
    created = cli(server, "create-policy", "--policy-name", "cli-policy", "--policy-document", f"file://{path}")
    assert created["policyArn"].endswith(":policy/cli-policy") and created["policyVersionId"] == "1"
    cert = cert_arn(account)
    assert cli(server, "attach-policy", "--policy-name", "cli-policy", "--target", cert) is None
    listed = cli(server, "list-attached-policies", "--target", cert)
    assert [p["policyName"] for p in listed["policies"]] == ["cli-policy"]
    got = cli(server, "get-policy", "--policy-name", "cli-policy")
    assert json.loads(got["policyDocument"])["Statement"]["Resource"] == alias_arn
    assert cli(server, "detach-policy", "--policy-name", "cli-policy", "--target", cert) is None
    assert cli(server, "list-targets-for-policy", "--policy-name", "cli-policy")["targets"] == []


# -- documents and names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        "{not json",
        json.dumps({"Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}),
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*"}]}),
    ],
)
def test_malformed_documents_are_refused(server: RunningServer, document: str) -> None:
    iot = server.client("iot")
    with pytest.raises(iot.exceptions.MalformedPolicyException) as caught:
        iot.create_policy(policyName="malformed", policyDocument=document)
    assert error_of(caught)[2] == 400
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.get_policy(policyName="malformed")


def test_duplicate_names_and_missing_policies(server: RunningServer) -> None:
    iot = server.client("iot")
    iot.create_policy(policyName="Dup", policyDocument=iot_doc())
    iot.create_policy(policyName="dup", policyDocument=iot_doc())  # IoT names are case-sensitive
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException) as caught:
        iot.create_policy(policyName="Dup", policyDocument=iot_doc())
    assert error_of(caught) == (
        "ResourceAlreadyExistsException",
        "Policy cannot be created - name already exists (name=Dup)",
        409,
    )
    assert caught.value.response["resourceId"] == "Dup"
    call: Callable[[], Any]
    for call in (
        lambda: iot.get_policy(policyName="Nope"),
        lambda: iot.delete_policy(policyName="Nope"),
        lambda: iot.list_policy_versions(policyName="Nope"),
        lambda: iot.create_policy_version(policyName="Nope", policyDocument=iot_doc()),
        lambda: iot.attach_policy(policyName="Nope", target=cert_arn(account_of(server))),
        lambda: iot.list_targets_for_policy(policyName="Nope"),
    ):
        with pytest.raises(iot.exceptions.ResourceNotFoundException) as missing:
            call()
        assert error_of(missing)[2] == 404


@pytest.mark.parametrize(
    "target",
    ["not-an-arn", "arn:aws:iot:us-east-1:123456789012:thing/x", "arn:aws:iot:us-east-1:123456789012:cert/abc"],
)
def test_bad_targets_are_invalid_requests(server: RunningServer, target: str) -> None:
    iot = server.client("iot")
    if not _exists(iot, "for-bad-targets"):  # one policy for every parametrized case
        iot.create_policy(policyName="for-bad-targets", policyDocument=iot_doc())
    with pytest.raises(iot.exceptions.InvalidRequestException) as caught:
        iot.attach_policy(policyName="for-bad-targets", target=target)
    assert error_of(caught)[2] == 400


def test_a_target_of_another_account_is_refused(server: RunningServer) -> None:
    iot = server.client("iot")
    iot.create_policy(policyName="other-account", policyDocument=iot_doc())
    other = "999999999999" if account_of(server) != "999999999999" else "111111111111"
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.attach_policy(policyName="other-account", target=cert_arn(other))


def _exists(iot: Any, name: str) -> bool:
    try:
        iot.get_policy(policyName=name)
    except iot.exceptions.ResourceNotFoundException:
        return False
    return True


# -- versions ------------------------------------------------------------------------------------------------


def test_versions_at_most_five_and_the_default(server: RunningServer) -> None:
    iot = server.client("iot")
    iot.create_policy(policyName="versioned", policyDocument=iot_doc("iot:Connect"))
    for n in range(2, 6):
        made = iot.create_policy_version(policyName="versioned", policyDocument=iot_doc(f"iot:Publish{n}"))
        assert (made["policyVersionId"], made["isDefaultVersion"]) == (str(n), False)
    with pytest.raises(iot.exceptions.VersionsLimitExceededException) as caught:
        iot.create_policy_version(policyName="versioned", policyDocument=iot_doc())
    assert error_of(caught) == (
        "VersionsLimitExceededException",
        "The policy versioned already has the maximum number of versions (5)",
        409,
    )
    listed = iot.list_policy_versions(policyName="versioned")["policyVersions"]
    assert [(v["versionId"], v["isDefaultVersion"]) for v in listed] == [
        ("5", False),
        ("4", False),
        ("3", False),
        ("2", False),
        ("1", True),
    ]
    iot.set_default_policy_version(policyName="versioned", policyVersionId="3")
    got = iot.get_policy(policyName="versioned")
    assert (
        got["defaultVersionId"] == "3" and json.loads(got["policyDocument"])["Statement"][0]["Action"] == "iot:Publish3"
    )
    version = iot.get_policy_version(policyName="versioned", policyVersionId="3")
    assert version["isDefaultVersion"] and version["policyName"] == "versioned"
    assert not iot.get_policy_version(policyName="versioned", policyVersionId="1")["isDefaultVersion"]
    with pytest.raises(iot.exceptions.DeleteConflictException) as conflict:
        iot.delete_policy_version(policyName="versioned", policyVersionId="3")
    assert error_of(conflict)[2] == 409
    iot.delete_policy_version(policyName="versioned", policyVersionId="1")
    made = iot.create_policy_version(policyName="versioned", policyDocument=iot_doc("iot:Subscribe"), setAsDefault=True)
    assert (made["policyVersionId"], made["isDefaultVersion"]) == ("6", True)
    assert iot.get_policy(policyName="versioned")["defaultVersionId"] == "6"
    call: Callable[[], Any]
    for call in (
        lambda: iot.get_policy_version(policyName="versioned", policyVersionId="1"),
        lambda: iot.set_default_policy_version(policyName="versioned", policyVersionId="1"),
        lambda: iot.delete_policy_version(policyName="versioned", policyVersionId="99999999999"),
    ):
        with pytest.raises(iot.exceptions.ResourceNotFoundException):
            call()
    with pytest.raises(iot.exceptions.MalformedPolicyException):
        iot.create_policy_version(policyName="versioned", policyDocument="[]")


def test_concurrent_versions_never_pass_five(server: RunningServer) -> None:
    server.client("iot").create_policy(policyName="raced", policyDocument=iot_doc())

    def create(n: int) -> str:
        iot = server.client("iot")
        try:
            iot.create_policy_version(policyName="raced", policyDocument=iot_doc(f"iot:Publish{n}"))
        except iot.exceptions.VersionsLimitExceededException:
            return "limit"
        return "created"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(create, range(8)))
    assert sorted(outcomes) == ["created"] * 4 + ["limit"] * 4
    versions = server.client("iot").list_policy_versions(policyName="raced")["policyVersions"]
    assert len(versions) == 5 and len({v["versionId"] for v in versions}) == 5


# -- attachments and deletion --------------------------------------------------------------------------------


def test_an_attached_policy_cannot_be_deleted(server: RunningServer) -> None:
    iot = server.client("iot")
    cert = cert_arn(account_of(server))
    iot.create_policy(policyName="attached", policyDocument=iot_doc())
    iot.attach_policy(policyName="attached", target=cert)
    with pytest.raises(iot.exceptions.DeleteConflictException) as caught:
        iot.delete_policy(policyName="attached")
    assert error_of(caught) == (
        "DeleteConflictException",
        "The policy cannot be deleted as the policy is attached to one or more principals (name=attached)",
        409,
    )
    iot.detach_policy(policyName="attached", target=cert)
    iot.create_policy_version(policyName="attached", policyDocument=iot_doc("iot:Publish"))
    with pytest.raises(iot.exceptions.DeleteConflictException):
        iot.delete_policy(policyName="attached")  # a non-default version is left
    iot.delete_policy_version(policyName="attached", policyVersionId="2")
    iot.delete_policy(policyName="attached")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.get_policy(policyName="attached")
    assert iot.list_attached_policies(target=cert)["policies"] == []


def test_attach_racing_delete_never_leaves_an_attachment_to_a_deleted_policy(server: RunningServer) -> None:
    cert = cert_arn(account_of(server))

    def attach(name: str) -> str:
        iot = server.client("iot")
        try:
            iot.attach_policy(policyName=name, target=cert)
        except iot.exceptions.ResourceNotFoundException:
            return "gone"
        return "attached"

    def delete(name: str) -> str:
        iot = server.client("iot")
        try:
            iot.delete_policy(policyName=name)
        except iot.exceptions.DeleteConflictException:
            return "conflict"
        return "deleted"

    for round_ in range(6):
        name = f"race-{round_}"
        server.client("iot").create_policy(policyName=name, policyDocument=iot_doc())
        with ThreadPoolExecutor(max_workers=2) as pool:
            attached, deleted = pool.submit(attach, name), pool.submit(delete, name)
            outcome = (attached.result(), deleted.result())
        assert outcome in {("attached", "conflict"), ("gone", "deleted")}, outcome
    listed = {p["policyName"] for p in server.client("iot").list_attached_policies(target=cert)["policies"]}
    for name in listed:
        assert server.client("iot").get_policy(policyName=name)["policyName"] == name


def test_at_most_ten_policies_per_target(server: RunningServer) -> None:
    iot = server.client("iot")
    cert = cert_arn(account_of(server))
    for n in range(11):
        iot.create_policy(policyName=f"quota-{n:02d}", policyDocument=iot_doc())
    for n in range(10):
        iot.attach_policy(policyName=f"quota-{n:02d}", target=cert)
    with pytest.raises(iot.exceptions.LimitExceededException) as caught:
        iot.attach_policy(policyName="quota-10", target=cert)
    assert error_of(caught)[2] == 410
    iot.attach_policy(policyName="quota-09", target=cert)  # already attached: still fine at the limit
    iot.detach_policy(policyName="quota-00", target=cert)
    iot.attach_policy(policyName="quota-10", target=cert)
    names = [p["policyName"] for p in iot.list_attached_policies(target=cert)["policies"]]
    assert names == [f"quota-{n:02d}" for n in range(1, 11)]


def test_thing_group_targets_and_legacy_principal_operations(server: RunningServer) -> None:
    iot = server.client("iot")
    account = account_of(server)
    group = f"arn:aws:iot:{REGION}:{account}:thinggroup/edge-devices"
    cert = cert_arn(account)
    iot.create_policy(policyName="group-policy", policyDocument=iot_doc())
    iot.create_policy(policyName="legacy-policy", policyDocument=iot_doc())
    iot.attach_policy(policyName="group-policy", target=group)
    assert [p["policyName"] for p in iot.list_attached_policies(target=group)["policies"]] == ["group-policy"]
    iot.attach_principal_policy(policyName="legacy-policy", principal=cert)
    assert [p["policyName"] for p in iot.list_principal_policies(principal=cert)["policies"]] == ["legacy-policy"]
    assert iot.list_policy_principals(policyName="legacy-policy")["principals"] == [cert]
    assert [p["policyName"] for p in iot.get_effective_policies(principal=cert)["effectivePolicies"]] == [
        "legacy-policy"
    ]
    iot.detach_principal_policy(policyName="legacy-policy", principal=cert)
    assert iot.list_principal_policies(principal=cert)["policies"] == []


def test_effective_policies_include_the_things_groups(server: RunningServer) -> None:
    iot = server.client("iot")
    try:
        group_arn = iot.create_thing_group(thingGroupName="effective-group")["thingGroupArn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NotImplemented":
            pytest.skip("thing groups are not implemented in this tree yet")
        raise
    iot.create_thing(thingName="effective-thing")
    iot.add_thing_to_thing_group(thingGroupName="effective-group", thingName="effective-thing")
    cert = cert_arn(account_of(server))
    iot.create_policy(policyName="eff-cert", policyDocument=iot_doc())
    iot.create_policy(policyName="eff-group", policyDocument=iot_doc("iot:Publish"))
    iot.attach_policy(policyName="eff-cert", target=cert)
    iot.attach_policy(policyName="eff-group", target=group_arn)
    both = iot.get_effective_policies(principal=cert, thingName="effective-thing")["effectivePolicies"]
    assert [p["policyName"] for p in both] == ["eff-cert", "eff-group"]
    alone = iot.get_effective_policies(principal=cert)["effectivePolicies"]
    assert [p["policyName"] for p in alone] == ["eff-cert"]
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.get_effective_policies(principal=cert, thingName="no-such-thing")


def test_recursive_listing_includes_the_parent_groups_policies(server: RunningServer) -> None:
    iot = server.client("iot")
    try:
        parent = iot.create_thing_group(thingGroupName="rec-parent")["thingGroupArn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NotImplemented":
            pytest.skip("thing groups are not implemented in this tree yet")
        raise
    child = iot.create_thing_group(thingGroupName="rec-child", parentGroupName="rec-parent")["thingGroupArn"]
    iot.create_policy(policyName="rec-parent-policy", policyDocument=iot_doc())
    iot.create_policy(policyName="rec-child-policy", policyDocument=iot_doc())
    iot.attach_policy(policyName="rec-parent-policy", target=parent)
    iot.attach_policy(policyName="rec-child-policy", target=child)
    iot.attach_policy(policyName="rec-parent-policy", target=child)  # listed once all the same
    direct = iot.list_attached_policies(target=child)["policies"]
    assert [p["policyName"] for p in direct] == ["rec-child-policy", "rec-parent-policy"]
    iot.detach_policy(policyName="rec-parent-policy", target=child)
    assert [p["policyName"] for p in iot.list_attached_policies(target=child)["policies"]] == ["rec-child-policy"]
    recursive = iot.list_attached_policies(target=child, recursive=True)["policies"]
    assert [p["policyName"] for p in recursive] == ["rec-child-policy", "rec-parent-policy"]


# -- listing --------------------------------------------------------------------------------------------------


def test_list_policies_pages(server: RunningServer) -> None:
    iot = server.client("iot")
    names = [f"page-{n}" for n in range(5)]
    for name in names:
        iot.create_policy(policyName=name, policyDocument=iot_doc())
    first = iot.list_policies(pageSize=2)
    assert len(first["policies"]) == 2 and first["nextMarker"]
    collected: list[str] = []
    for page in iot.get_paginator("list_policies").paginate(PaginationConfig={"PageSize": 2}):
        collected += [p["policyName"] for p in page["policies"]]
    assert collected == sorted(collected) and set(names) <= set(collected)
    assert len(collected) == len(set(collected))
    backwards = [p["policyName"] for p in iot.list_policies(ascendingOrder=False)["policies"]]
    assert backwards == sorted(collected, reverse=True)
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_policies(marker="bm90IGEgdmFsaWQgdXRmOCD/")


# -- authorization ----------------------------------------------------------------------------------------------


def test_every_operation_is_authorized_with_its_action_and_arn(server: RunningServer) -> None:
    iot = server.client("iot")
    account = account_of(server)
    iot.create_policy(policyName="guarded", policyDocument=iot_doc())
    denied, user_arn = user_client(server, "iot-nobody")
    policy_arn = f"arn:aws:iot:{REGION}:{account}:policy/guarded"
    cert = cert_arn(account)
    cases: list[tuple[Callable[[], Any], str, str]] = [
        (
            lambda: denied.create_policy(policyName="new-one", policyDocument=iot_doc()),
            "iot:CreatePolicy",
            f"arn:aws:iot:{REGION}:{account}:policy/new-one",
        ),
        (lambda: denied.get_policy(policyName="guarded"), "iot:GetPolicy", policy_arn),
        (lambda: denied.delete_policy(policyName="guarded"), "iot:DeletePolicy", policy_arn),
        (lambda: denied.list_policy_versions(policyName="guarded"), "iot:ListPolicyVersions", policy_arn),
        (lambda: denied.attach_policy(policyName="guarded", target=cert), "iot:AttachPolicy", cert),
        (lambda: denied.list_targets_for_policy(policyName="guarded"), "iot:ListTargetsForPolicy", policy_arn),
        (lambda: denied.get_effective_policies(principal=cert), "iot:GetEffectivePolicies", cert),
        (lambda: denied.list_policies(), "iot:ListPolicies", "*"),
    ]
    for call, action, resource in cases:
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught) == (
            "AccessDeniedException",
            f"User: {user_arn} is not authorized to perform: {action} on resource: {resource} "
            f"because no identity-based policy allows the {action} action",
            403,
        )
    assert iot.get_policy(policyName="guarded")["policyName"] == "guarded"


def test_a_user_limited_to_one_policy(server: RunningServer) -> None:
    account = account_of(server)
    own = f"arn:aws:iot:{REGION}:{account}:policy/mine-*"
    limited, _ = user_client(server, "iot-limited", {"Effect": "Allow", "Action": "iot:*", "Resource": own})
    limited.create_policy(policyName="mine-1", policyDocument=iot_doc())
    limited.create_policy_version(policyName="mine-1", policyDocument=iot_doc("iot:Publish"), setAsDefault=True)
    assert limited.get_policy(policyName="mine-1")["defaultVersionId"] == "2"
    with pytest.raises(ClientError) as caught:
        limited.create_policy(policyName="theirs", policyDocument=iot_doc())
    assert error_of(caught)[0] == "AccessDeniedException"
    with pytest.raises(ClientError):
        limited.attach_policy(policyName="mine-1", target=cert_arn(account))  # authorized on the target
