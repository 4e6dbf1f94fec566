"""IAM managed and inline policies, versions, attachments and permissions boundaries through boto3 and the
AWS CLI, against a real edgeward (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import json
import subprocess
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer

ALLOW_S3_READ = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
AWS_POLICY = "arn:aws:iam::aws:policy/"


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def account_of(server: RunningServer) -> str:
    return str(server.client("sts").get_caller_identity()["Account"])


# -- AWS managed policies -----------------------------------------------------------------------------------


def test_aws_managed_catalogue(server: RunningServer) -> None:
    iam = server.client("iam")
    listed = {p["PolicyName"]: p for p in iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]}
    assert set(listed) == {
        "AWSDeepLensServiceRolePolicy",
        "AWSGreengrassResourceAccessRolePolicy",
        "AWSDeepLensLambdaFunctionAccessPolicy",
        "AmazonSageMakerFullAccess",
        "AWSLambdaFullAccess",
        "AmazonSageMakerEdgeDeviceFleetPolicy",
        "AdministratorAccess",
        "PowerUserAccess",
        "ReadOnlyAccess",
        "IAMFullAccess",
        "AmazonS3FullAccess",
        "AmazonS3ReadOnlyAccess",
    }
    assert listed["AWSDeepLensServiceRolePolicy"]["Arn"] == f"{AWS_POLICY}service-role/AWSDeepLensServiceRolePolicy"
    assert listed["AmazonSageMakerEdgeDeviceFleetPolicy"]["Path"] == "/service-role/"
    assert (
        listed["AWSDeepLensLambdaFunctionAccessPolicy"]["Arn"] == f"{AWS_POLICY}AWSDeepLensLambdaFunctionAccessPolicy"
    )
    admin = iam.get_policy(PolicyArn=f"{AWS_POLICY}AdministratorAccess")["Policy"]
    assert admin["PolicyId"] == "ANPAIWMBCKSKIEE64ZLYK" and admin["DefaultVersionId"] == "v1"
    assert admin["IsAttachable"] and admin["AttachmentCount"] >= 1  # the bootstrap administrator
    assert admin["Description"] == "Provides full access to AWS services and resources."
    version = iam.get_policy_version(PolicyArn=f"{AWS_POLICY}AdministratorAccess", VersionId="v1")["PolicyVersion"]
    assert version["Document"] == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    assert version["IsDefaultVersion"]
    versions = iam.list_policy_versions(PolicyArn=f"{AWS_POLICY}ReadOnlyAccess")["Versions"]
    assert [v["VersionId"] for v in versions] == ["v73"]
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.get_policy_version(PolicyArn=f"{AWS_POLICY}ReadOnlyAccess", VersionId="v1")
    assert error_of(caught)[1] == f"Policy {AWS_POLICY}ReadOnlyAccess version v1 does not exist or is not attachable."


def test_edge_device_fleet_policy_document_is_awss(server: RunningServer) -> None:
    iam = server.client("iam")
    arn = f"{AWS_POLICY}service-role/AmazonSageMakerEdgeDeviceFleetPolicy"
    document = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"]
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert by_sid["SageMakerEdgeApis"]["Action"] == ["sagemaker:SendHeartbeat", "sagemaker:GetDeviceRegistration"]
    assert by_sid["CreateIoTRoleAlias"]["Resource"] == ["arn:aws:iot:*:*:rolealias/SageMakerEdge*"]
    pass_role = by_sid["CreateIoTRoleAliasIamPermissionsPassRole"]
    assert pass_role["Condition"] == {
        "StringEqualsIfExists": {"iam:PassedToService": ["iot.amazonaws.com", "credentials.iot.amazonaws.com"]}
    }
    assert not any("GetDeployments" in str(s["Action"]) for s in document["Statement"])


def test_aws_managed_policies_cannot_change(server: RunningServer) -> None:
    iam = server.client("iam")
    account = account_of(server)
    arn = f"{AWS_POLICY}ReadOnlyAccess"
    for call in (
        lambda: iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ALLOW_S3_READ)),
        lambda: iam.delete_policy(PolicyArn=arn),
        lambda: iam.set_default_policy_version(PolicyArn=arn, VersionId="v73"),
        lambda: iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "k", "Value": "v"}]),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        code, message, status = error_of(caught)
        assert (code, status) == ("AccessDenied", 403)
        assert message.startswith(f"User: arn:aws:iam::{account}:user/admin is not authorized to perform: iam:")
        assert message.endswith("action") and f"on resource: policy {arn} because no resource-based policy" in message
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == []


# -- customer managed policies ------------------------------------------------------------------------------


def test_policy_lifecycle(server: RunningServer) -> None:
    iam = server.client("iam")
    account = account_of(server)
    created = iam.create_policy(
        PolicyName="ReadBuckets",
        Path="/team/",
        PolicyDocument=json.dumps(ALLOW_S3_READ),
        Description="read the buckets",
        Tags=[{"Key": "team", "Value": "edge"}],
    )["Policy"]
    arn = f"arn:aws:iam::{account}:policy/team/ReadBuckets"
    assert created["Arn"] == arn and created["PolicyId"].startswith("ANPA") and created["DefaultVersionId"] == "v1"
    assert created["AttachmentCount"] == 0 and created["IsAttachable"] and "Description" not in created
    got = iam.get_policy(PolicyArn=arn)["Policy"]
    assert got["Description"] == "read the buckets" and got["Tags"] == [{"Key": "team", "Value": "edge"}]
    assert got["PermissionsBoundaryUsageCount"] == 0
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as caught:
        iam.create_policy(PolicyName="readbuckets", PolicyDocument=json.dumps(ALLOW_S3_READ))
    assert error_of(caught) == (
        "EntityAlreadyExists",
        "A policy called readbuckets already exists. Duplicate names are not allowed.",
        409,
    )
    local = iam.list_policies(Scope="Local", PathPrefix="/team/")["Policies"]
    assert [p["Arn"] for p in local] == [arn] and "Tags" not in local[0] and "Description" not in local[0]
    assert arn not in [p["Arn"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]]
    assert arn not in [p["Arn"] for p in iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]]
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.get_policy(PolicyArn=arn)
    assert error_of(caught) == ("NoSuchEntity", f"Policy {arn} was not found.", 404)


def test_create_policy_refuses_bad_documents(server: RunningServer) -> None:
    iam = server.client("iam")
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException) as caught:
        iam.create_policy(PolicyName="Broken", PolicyDocument="{not json")
    assert error_of(caught) == ("MalformedPolicyDocument", "Syntax errors in policy.", 400)
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException) as caught:
        iam.create_policy(PolicyName="NoResource", PolicyDocument=doc({"Effect": "Allow", "Action": "s3:*"}))
    assert error_of(caught)[1] == "Policy statement must contain resources."
    actions = [f"s3:GetObjectVersionFor{'X' * 20}{i}" for i in range(200)]
    big = doc({"Effect": "Allow", "Action": actions, "Resource": "*"})
    with pytest.raises(iam.exceptions.LimitExceededException) as caught:
        iam.create_policy(PolicyName="TooBig", PolicyDocument=big)
    assert error_of(caught) == ("LimitExceeded", "Cannot exceed quota for PolicySize: 6144", 409)
    with pytest.raises(iam.exceptions.InvalidInputException) as caught:
        iam.get_policy(PolicyArn="arn:aws:iam::123:notapolicy")
    assert error_of(caught) == ("InvalidInput", "ARN arn:aws:iam::123:notapolicy is not valid.", 400)


def test_policy_versions(server: RunningServer) -> None:
    iam = server.client("iam")
    arn = iam.create_policy(PolicyName="Versioned", PolicyDocument=json.dumps(ALLOW_S3_READ))["Policy"]["Arn"]
    for number in range(2, 6):
        version = iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=doc({"Effect": "Allow", "Action": f"s3:Get{number}", "Resource": "*"})
        )["PolicyVersion"]
        assert version["VersionId"] == f"v{number}" and not version["IsDefaultVersion"]
    with pytest.raises(iam.exceptions.LimitExceededException) as caught:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ALLOW_S3_READ))
    assert error_of(caught) == (
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing "
        "version.",
        409,
    )
    listed = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in listed] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["IsDefaultVersion"] for v in listed] == [False, False, False, False, True]
    pages = list(iam.get_paginator("list_policy_versions").paginate(PolicyArn=arn, PaginationConfig={"PageSize": 2}))
    assert [[v["VersionId"] for v in p["Versions"]] for p in pages] == [["v5", "v4"], ["v3", "v2"], ["v1"]]
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    v3 = iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]
    assert v3["IsDefaultVersion"] and v3["Document"]["Statement"][0]["Action"] == "s3:Get3"
    with pytest.raises(iam.exceptions.DeleteConflictException) as caught:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert error_of(caught) == ("DeleteConflict", "Cannot delete the default version of a policy.", 409)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v9")
    assert error_of(caught)[1] == f"Policy {arn} version v9 does not exist or is not attachable."
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.set_default_policy_version(PolicyArn=arn, VersionId="v9")
    with pytest.raises(iam.exceptions.DeleteConflictException) as caught:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(caught)[1] == (
        "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. "
        "The default version is deleted with the policy."
    )
    for version_id in ("v1", "v2", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=version_id)
    created = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ALLOW_S3_READ), SetAsDefault=True)
    assert created["PolicyVersion"] == {**created["PolicyVersion"], "VersionId": "v6", "IsDefaultVersion": True}
    iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    iam.delete_policy(PolicyArn=arn)


def test_documents_come_back_url_encoded(server: RunningServer) -> None:
    iam = server.client("iam")
    raw: list[bytes] = []
    iam.meta.events.register(
        "after-call.iam.GetPolicyVersion", lambda http_response, **_: raw.append(http_response.content)
    )
    text = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'
    arn = iam.create_policy(PolicyName="Encoded", PolicyDocument=text)["Policy"]["Arn"]
    version = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert version["Document"] == json.loads(text)
    body = raw[0].decode()
    encoded = body.split("<Document>", 1)[1].split("</Document>", 1)[0]
    assert encoded.startswith("%7B%22Version%22%3A%20%222012-10-17%22") and unquote(encoded) == text


def test_policy_tags(server: RunningServer) -> None:
    iam = server.client("iam")
    arn = iam.create_policy(PolicyName="Tagged", PolicyDocument=json.dumps(ALLOW_S3_READ))["Policy"]["Arn"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    first = iam.list_policy_tags(PolicyArn=arn, MaxItems=1)
    assert first["IsTruncated"] and iam.list_policy_tags(PolicyArn=arn, Marker=first["Marker"])["Tags"] == [
        {"Key": "b", "Value": "2"}
    ]
    iam.untag_policy(PolicyArn=arn, TagKeys=["a"])
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(iam.exceptions.InvalidInputException):
        iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "x", "Value": "1"}, {"Key": "X", "Value": "2"}])
    missing = arn.replace("Tagged", "Missing")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.tag_policy(PolicyArn=missing, Tags=[{"Key": "a", "Value": "1"}])


def test_list_policies_paginates_across_aws_and_local(server: RunningServer) -> None:
    iam = server.client("iam")
    for index in range(3):
        iam.create_policy(PolicyName=f"zz-page-{index}", Path="/paging/", PolicyDocument=json.dumps(ALLOW_S3_READ))
    everything = iam.list_policies(MaxItems=1000)["Policies"]
    pages = list(iam.get_paginator("list_policies").paginate(PaginationConfig={"PageSize": 5}))
    assert [p["Arn"] for page in pages for p in page["Policies"]] == [p["Arn"] for p in everything]
    assert len(pages) > 2 and {p["Path"] for p in everything} >= {"/", "/service-role/", "/paging/"}


# -- attachments ---------------------------------------------------------------------------------------------


def test_attach_and_detach_user_policy(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="attachee")
    arn = iam.create_policy(PolicyName="ForAttachee", PolicyDocument=json.dumps(ALLOW_S3_READ))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="attachee", PolicyArn=arn)
    iam.attach_user_policy(UserName="attachee", PolicyArn=arn)  # again: no change
    iam.attach_user_policy(UserName="attachee", PolicyArn=f"{AWS_POLICY}ReadOnlyAccess")
    attached = iam.list_attached_user_policies(UserName="attachee")["AttachedPolicies"]
    assert attached == [
        {"PolicyName": "ForAttachee", "PolicyArn": arn},
        {"PolicyName": "ReadOnlyAccess", "PolicyArn": f"{AWS_POLICY}ReadOnlyAccess"},
    ]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    assert arn in [p["Arn"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]]
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == ["attachee"]
    assert entities["PolicyGroups"] == [] and entities["PolicyRoles"] == []
    with pytest.raises(iam.exceptions.DeleteConflictException) as caught:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(caught) == ("DeleteConflict", "Cannot delete a policy attached to entities.", 409)
    with pytest.raises(iam.exceptions.DeleteConflictException) as caught:
        iam.delete_user(UserName="attachee")
    assert error_of(caught)[1] == "Cannot delete entity, must detach all policies first."
    iam.detach_user_policy(UserName="attachee", PolicyArn=arn)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.detach_user_policy(UserName="attachee", PolicyArn=arn)
    assert error_of(caught) == ("NoSuchEntity", f"Policy {arn} was not found.", 404)
    iam.detach_user_policy(UserName="attachee", PolicyArn=f"{AWS_POLICY}ReadOnlyAccess")
    iam.delete_policy(PolicyArn=arn)
    iam.delete_user(UserName="attachee")


def test_attach_errors(server: RunningServer) -> None:
    iam = server.client("iam")
    account = account_of(server)
    iam.create_user(UserName="attach-errors")
    missing = f"arn:aws:iam::{account}:policy/NoSuchPolicy"
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.attach_user_policy(UserName="attach-errors", PolicyArn=missing)
    assert error_of(caught) == ("NoSuchEntity", f"Policy {missing} does not exist or is not attachable.", 404)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.attach_user_policy(UserName="attach-errors", PolicyArn=f"{AWS_POLICY}NotARealPolicy")
    assert error_of(caught)[1] == f"Policy {AWS_POLICY}NotARealPolicy does not exist or is not attachable."
    with pytest.raises(iam.exceptions.InvalidInputException) as caught:
        iam.attach_user_policy(UserName="attach-errors", PolicyArn="arn:aws:s3:::not-a-policy")
    assert error_of(caught)[1] == "ARN arn:aws:s3:::not-a-policy is not valid."
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.attach_user_policy(UserName="nobody-here", PolicyArn=f"{AWS_POLICY}ReadOnlyAccess")
    assert error_of(caught)[1] == "The user with name nobody-here cannot be found."
    other_account = f"arn:aws:iam::{'1' * 12 if account != '1' * 12 else '2' * 12}:policy/Theirs"
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.attach_user_policy(UserName="attach-errors", PolicyArn=other_account)


def test_attachment_quota(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="quota-user")
    arns = [
        iam.create_policy(PolicyName=f"quota-{i}", PolicyDocument=json.dumps(ALLOW_S3_READ))["Policy"]["Arn"]
        for i in range(11)
    ]
    for arn in arns[:10]:
        iam.attach_user_policy(UserName="quota-user", PolicyArn=arn)
    with pytest.raises(iam.exceptions.LimitExceededException) as caught:
        iam.attach_user_policy(UserName="quota-user", PolicyArn=arns[10])
    assert error_of(caught) == ("LimitExceeded", "Cannot exceed quota for PoliciesPerUser: 10", 409)
    first = iam.list_attached_user_policies(UserName="quota-user", MaxItems=4)
    assert first["IsTruncated"] and len(first["AttachedPolicies"]) == 4
    pages = list(
        iam.get_paginator("list_attached_user_policies").paginate(
            UserName="quota-user", PaginationConfig={"PageSize": 4}
        )
    )
    assert sum(len(p["AttachedPolicies"]) for p in pages) == 10


def test_group_and_role_policies(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_group(GroupName="Readers", Path="/teams/")
    trust = doc({"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"})
    iam.create_role(RoleName="Worker", AssumeRolePolicyDocument=trust)
    readonly = f"{AWS_POLICY}ReadOnlyAccess"
    iam.attach_group_policy(GroupName="Readers", PolicyArn=readonly)
    iam.attach_role_policy(RoleName="Worker", PolicyArn=readonly)
    assert iam.list_attached_group_policies(GroupName="Readers")["AttachedPolicies"] == [
        {"PolicyName": "ReadOnlyAccess", "PolicyArn": readonly}
    ]
    assert iam.list_attached_role_policies(RoleName="worker")["AttachedPolicies"][0]["PolicyArn"] == readonly
    assert iam.list_attached_group_policies(GroupName="Readers", PathPrefix="/nothing/")["AttachedPolicies"] == []
    entities = iam.list_entities_for_policy(PolicyArn=readonly)
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == ["Readers"]
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == ["Worker"]
    only_roles = iam.list_entities_for_policy(PolicyArn=readonly, EntityFilter="Role")
    assert only_roles["PolicyGroups"] == [] and [r["RoleName"] for r in only_roles["PolicyRoles"]] == ["Worker"]
    assert iam.list_entities_for_policy(PolicyArn=readonly, PathPrefix="/teams/")["PolicyRoles"] == []
    iam.put_group_policy(GroupName="Readers", PolicyName="extra", PolicyDocument=json.dumps(ALLOW_S3_READ))
    iam.put_role_policy(RoleName="Worker", PolicyName="extra", PolicyDocument=json.dumps(ALLOW_S3_READ))
    assert iam.get_group_policy(GroupName="Readers", PolicyName="extra")["PolicyDocument"] == ALLOW_S3_READ
    role_policy = iam.get_role_policy(RoleName="Worker", PolicyName="extra")
    assert role_policy["RoleName"] == "Worker" and role_policy["PolicyDocument"] == ALLOW_S3_READ
    assert iam.list_group_policies(GroupName="Readers")["PolicyNames"] == ["extra"]
    assert iam.list_role_policies(RoleName="Worker")["PolicyNames"] == ["extra"]
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.get_role_policy(RoleName="Worker", PolicyName="nope")
    assert error_of(caught)[1] == "The role policy with name nope cannot be found."
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.attach_group_policy(GroupName="NoGroup", PolicyArn=readonly)
    assert error_of(caught)[1] == "The group with name NoGroup cannot be found."
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.put_role_policy(RoleName="NoRole", PolicyName="x", PolicyDocument=json.dumps(ALLOW_S3_READ))
    assert error_of(caught)[1] == "The role with name NoRole cannot be found."
    iam.delete_group_policy(GroupName="Readers", PolicyName="extra")
    iam.delete_role_policy(RoleName="Worker", PolicyName="extra")
    iam.detach_group_policy(GroupName="Readers", PolicyArn=readonly)
    iam.detach_role_policy(RoleName="Worker", PolicyArn=readonly)
    iam.delete_group(GroupName="Readers")
    iam.delete_role(RoleName="Worker")


# -- inline policies -----------------------------------------------------------------------------------------


def test_user_inline_policies(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="inliner")
    iam.put_user_policy(UserName="inliner", PolicyName="read", PolicyDocument=json.dumps(ALLOW_S3_READ))
    replaced = doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})
    iam.put_user_policy(UserName="inliner", PolicyName="read", PolicyDocument=replaced)
    iam.put_user_policy(UserName="inliner", PolicyName="another", PolicyDocument=json.dumps(ALLOW_S3_READ))
    got = iam.get_user_policy(UserName="INLINER", PolicyName="read")
    assert (
        got["UserName"] == "inliner" and got["PolicyName"] == "read" and got["PolicyDocument"] == json.loads(replaced)
    )
    assert iam.list_user_policies(UserName="inliner")["PolicyNames"] == ["another", "read"]
    first = iam.list_user_policies(UserName="inliner", MaxItems=1)
    assert first["IsTruncated"] and first["PolicyNames"] == ["another"]
    assert iam.list_user_policies(UserName="inliner", Marker=first["Marker"])["PolicyNames"] == ["read"]
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.put_user_policy(UserName="inliner", PolicyName="bad", PolicyDocument='{"Statement": []}')
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.get_user_policy(UserName="inliner", PolicyName="missing")
    assert error_of(caught) == ("NoSuchEntity", "The user policy with name missing cannot be found.", 404)
    with pytest.raises(iam.exceptions.DeleteConflictException) as caught:
        iam.delete_user(UserName="inliner")
    assert error_of(caught)[1] == "Cannot delete entity, must delete policies first."
    iam.delete_user_policy(UserName="inliner", PolicyName="read")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_user_policy(UserName="inliner", PolicyName="read")
    iam.delete_user_policy(UserName="inliner", PolicyName="another")
    iam.delete_user(UserName="inliner")


def test_inline_size_quota_is_per_identity(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="roomy")
    actions = [f"s3:GetObjectTagging{i:04d}" for i in range(40)]  # ~1,100 characters without whitespace
    document = doc({"Effect": "Allow", "Action": actions, "Resource": "*"})
    iam.put_user_policy(UserName="roomy", PolicyName="first", PolicyDocument=document)
    iam.put_user_policy(UserName="roomy", PolicyName="first", PolicyDocument=document)  # replacing still fits
    with pytest.raises(iam.exceptions.LimitExceededException) as caught:
        iam.put_user_policy(UserName="roomy", PolicyName="second", PolicyDocument=document)
    assert error_of(caught) == ("LimitExceeded", "Maximum policy size of 2048 bytes exceeded for user roomy", 409)


# -- permissions boundaries ----------------------------------------------------------------------------------


def test_permissions_boundaries(server: RunningServer) -> None:
    iam = server.client("iam")
    account = account_of(server)
    iam.create_user(UserName="bounded")
    arn = iam.create_policy(PolicyName="Boundary", PolicyDocument=json.dumps(ALLOW_S3_READ))["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName="bounded", PermissionsBoundary=arn)
    assert iam.get_user(UserName="bounded")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert policy["PermissionsBoundaryUsageCount"] == 1 and policy["AttachmentCount"] == 0
    holders = iam.list_entities_for_policy(PolicyArn=arn, PolicyUsageFilter="PermissionsBoundary")
    assert [u["UserName"] for u in holders["PolicyUsers"]] == ["bounded"]
    assert iam.list_entities_for_policy(PolicyArn=arn, PolicyUsageFilter="PermissionsPolicy")["PolicyUsers"] == []
    used = iam.list_policies(Scope="Local", PolicyUsageFilter="PermissionsBoundary")["Policies"]
    assert [p["Arn"] for p in used] == [arn]
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_policy(PolicyArn=arn)
    missing = f"arn:aws:iam::{account}:policy/NoBoundary"
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.put_user_permissions_boundary(UserName="bounded", PermissionsBoundary=missing)
    assert error_of(caught) == ("NoSuchEntity", f"Scope ARN: {missing} does not exist or is not attachable.", 404)
    with pytest.raises(iam.exceptions.InvalidInputException) as caught:
        iam.put_user_permissions_boundary(UserName="bounded", PermissionsBoundary="arn:aws:iam::aws:role/NotAPolicy")
    assert error_of(caught)[1] == "ARN arn:aws:iam::aws:role/NotAPolicy is not valid."
    iam.delete_user_permissions_boundary(UserName="bounded")
    iam.delete_user_permissions_boundary(UserName="bounded")  # none left: still fine
    assert "PermissionsBoundary" not in iam.get_user(UserName="bounded")["User"]
    trust = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
    iam.create_role(RoleName="BoundedRole", AssumeRolePolicyDocument=trust)
    iam.put_role_permissions_boundary(RoleName="BoundedRole", PermissionsBoundary=f"{AWS_POLICY}PowerUserAccess")
    role = iam.get_role(RoleName="BoundedRole")["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == f"{AWS_POLICY}PowerUserAccess"
    iam.delete_role_permissions_boundary(RoleName="BoundedRole")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.put_role_permissions_boundary(RoleName="NoSuchRole", PermissionsBoundary=arn)
    assert error_of(caught)[1] == "The role with name NoSuchRole cannot be found."
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.create_user(UserName="born-bounded", PermissionsBoundary=missing)
    iam.create_user(UserName="born-bounded", PermissionsBoundary=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["PermissionsBoundaryUsageCount"] == 1


# -- GetAccountAuthorizationDetails --------------------------------------------------------------------------


def test_account_authorization_details(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="detailed", Tags=[{"Key": "k", "Value": "v"}])
    iam.create_group(GroupName="DetailGroup")
    iam.add_user_to_group(GroupName="DetailGroup", UserName="detailed")
    arn = iam.create_policy(PolicyName="DetailPolicy", PolicyDocument=json.dumps(ALLOW_S3_READ))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ALLOW_S3_READ), SetAsDefault=True)
    iam.attach_user_policy(UserName="detailed", PolicyArn=arn)
    iam.put_user_policy(UserName="detailed", PolicyName="own", PolicyDocument=json.dumps(ALLOW_S3_READ))
    iam.put_group_policy(GroupName="DetailGroup", PolicyName="grp", PolicyDocument=json.dumps(ALLOW_S3_READ))
    trust = doc({"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"})
    iam.create_role(RoleName="DetailRole", AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(RoleName="DetailRole", PolicyArn=f"{AWS_POLICY}AmazonS3ReadOnlyAccess")

    details = iam.get_account_authorization_details()
    users = {u["UserName"]: u for u in details["UserDetailList"]}
    user = users["detailed"]
    assert user["GroupList"] == ["DetailGroup"] and user["Tags"] == [{"Key": "k", "Value": "v"}]
    assert user["UserPolicyList"] == [{"PolicyName": "own", "PolicyDocument": ALLOW_S3_READ}]
    assert user["AttachedManagedPolicies"] == [{"PolicyName": "DetailPolicy", "PolicyArn": arn}]
    group = next(g for g in details["GroupDetailList"] if g["GroupName"] == "DetailGroup")
    assert group["GroupPolicyList"][0]["PolicyName"] == "grp"
    role = next(r for r in details["RoleDetailList"] if r["RoleName"] == "DetailRole")
    assert role["AssumeRolePolicyDocument"] == json.loads(trust)
    assert role["AttachedManagedPolicies"][0]["PolicyName"] == "AmazonS3ReadOnlyAccess"
    policies = {p["Arn"]: p for p in details["Policies"]}
    assert [v["VersionId"] for v in policies[arn]["PolicyVersionList"]] == ["v2", "v1"]
    assert policies[arn]["PolicyVersionList"][0]["IsDefaultVersion"]
    assert policies[arn]["PolicyVersionList"][0]["Document"] == ALLOW_S3_READ
    assert f"{AWS_POLICY}AmazonS3ReadOnlyAccess" in policies  # AWS managed and in use
    assert f"{AWS_POLICY}IAMFullAccess" not in policies  # AWS managed, not in use

    only_roles = iam.get_account_authorization_details(Filter=["Role"])
    assert only_roles["UserDetailList"] == [] and only_roles["Policies"] == [] and only_roles["RoleDetailList"]
    local = iam.get_account_authorization_details(Filter=["LocalManagedPolicy"])["Policies"]
    assert all(not p["Arn"].startswith(AWS_POLICY) for p in local)
    pages = list(iam.get_paginator("get_account_authorization_details").paginate(PaginationConfig={"PageSize": 2}))
    assert len(pages) > 1
    paged_users = [u["UserName"] for p in pages for u in p["UserDetailList"]]
    assert paged_users == [u["UserName"] for u in details["UserDetailList"]]
    assert [p["Arn"] for page in pages for p in page["Policies"]] == [p["Arn"] for p in details["Policies"]]


# -- the AWS CLI -----------------------------------------------------------------------------------------------


def aws(server: RunningServer, *args: str) -> Any:
    out = subprocess.run(
        ["aws", "iam", *args, "--output", "json"], env=server.env(), capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else None


def test_aws_cli_policies(server: RunningServer) -> None:
    created = aws(
        server, "create-policy", "--policy-name", "CliPolicy", "--policy-document", json.dumps(ALLOW_S3_READ)
    )["Policy"]
    arn = created["Arn"]
    version = aws(server, "get-policy-version", "--policy-arn", arn, "--version-id", "v1")["PolicyVersion"]
    assert version["Document"] == ALLOW_S3_READ
    names = [p["PolicyName"] for p in aws(server, "list-policies", "--scope", "AWS")["Policies"]]
    assert "AWSDeepLensServiceRolePolicy" in names and "CliPolicy" not in names
    aws(server, "create-user", "--user-name", "cli-user")
    aws(server, "attach-user-policy", "--user-name", "cli-user", "--policy-arn", arn)
    attached = aws(server, "list-attached-user-policies", "--user-name", "cli-user")["AttachedPolicies"]
    assert attached == [{"PolicyName": "CliPolicy", "PolicyArn": arn}]
    aws(server, "detach-user-policy", "--user-name", "cli-user", "--policy-arn", arn)
    aws(server, "delete-policy", "--policy-arn", arn)
