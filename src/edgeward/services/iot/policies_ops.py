"""IoT policies: CreatePolicy, GetPolicy, DeletePolicy, ListPolicies and the version operations.
(Attachments are in `policies_targets.py`; this table merges them.)

Every operation is authorized as `iot:<Operation>` on the policy's ARN: the stored one when the policy
exists, `arn:aws:iot:<region>:<account>:policy/<name>` otherwise.
"""

from __future__ import annotations

from typing import Any

from edgeward.services.context import Context, Handler
from edgeward.services.iot import errors, policies_targets
from edgeward.services.iot.policies import policy_shape, summary, valid_document, version_id, version_number
from edgeward.services.iot.policies_common import authorize_tags, page_request, paged, tags_from_params
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import iot_policies as repo
from edgeward.storage.repos.iot_policies import IotPolicy
from edgeward.storage.tables_iot_policies import MAX_POLICY_VERSIONS


def policy_arn(ctx: Context, name: str) -> str:
    return ctx.arn("iot", f"policy/{name}")


def authorized_policy(ctx: Context, action: str, name: str, *, lock: bool = False) -> IotPolicy:
    """Authorize `action` on the policy, then return it; ResourceNotFound when there is none."""
    policy = repo.get_policy(ctx.conn, ctx.account, name, lock=lock)
    ctx.authorize(action, policy.arn if policy else policy_arn(ctx, name))
    if policy is None:
        raise errors.not_found(f"The policy {name} does not exist.")
    return policy


def create_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["policyName"]
    arn = policy_arn(ctx, name)
    tags = tags_from_params(params.get("tags"))
    ctx.authorize("iot:CreatePolicy", arn)
    authorize_tags(ctx, arn, tags)
    document = valid_document(params["policyDocument"])
    try:
        repo.create_policy(ctx.conn, account=ctx.account, name=name, arn=arn, document=document, tags=tags)
    except storage_errors.AlreadyExists:
        raise errors.already_exists(
            f"Policy cannot be created - name already exists (name={name})", resource_id=name, resource_arn=arn
        ) from None
    return {"policyName": name, "policyArn": arn, "policyDocument": document, "policyVersionId": version_id(1)}


def get_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    policy = authorized_policy(ctx, "iot:GetPolicy", params["policyName"])
    version = repo.get_version(ctx.conn, policy, policy.default_version)
    return policy_shape(policy, version.document if version else "")


def delete_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["policyName"]
    policy = authorized_policy(ctx, "iot:DeletePolicy", name, lock=True)
    if len(repo.list_versions(ctx.conn, policy)) > 1:
        raise errors.delete_conflict(
            f"The policy cannot be deleted as it has non-default versions; delete them first (name={name})"
        )
    try:
        if repo.policy_target_count(ctx.conn, policy):
            raise storage_errors.InUse(name)
        repo.delete_policy(ctx.conn, policy)
    except storage_errors.InUse:
        raise errors.delete_conflict(
            f"The policy cannot be deleted as the policy is attached to one or more principals (name={name})"
        ) from None
    except storage_errors.NotFound:
        raise errors.not_found(f"The policy {name} does not exist.") from None
    return {}


def list_policies(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:ListPolicies", "*")
    after, size, ascending = page_request(params)
    found = repo.list_policies(ctx.conn, ctx.account, after=after, limit=size + 1, ascending=ascending)
    return paged("policies", [summary(p) for p in found], size, found[size - 1].name if len(found) > size else None)


# -- versions ----------------------------------------------------------------------------------------


def create_policy_version(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["policyName"]
    policy = authorized_policy(ctx, "iot:CreatePolicyVersion", name, lock=True)
    document = valid_document(params["policyDocument"])
    set_default = bool(params.get("setAsDefault"))
    try:
        version = repo.add_version(ctx.conn, policy, document, set_default=set_default)
    except storage_errors.QuotaExceeded:
        raise errors.versions_limit(
            f"The policy {name} already has the maximum number of versions ({MAX_POLICY_VERSIONS})"
        ) from None
    except storage_errors.NotFound:
        raise errors.not_found(f"The policy {name} does not exist.") from None
    return {
        "policyArn": policy.arn,
        "policyDocument": document,
        "policyVersionId": version_id(version.version),
        "isDefaultVersion": set_default,
    }


def get_policy_version(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name, wanted = params["policyName"], params["policyVersionId"]
    policy = authorized_policy(ctx, "iot:GetPolicyVersion", name)
    version = repo.get_version(ctx.conn, policy, version_number(wanted))
    if version is None:
        raise errors.not_found(f"The policy {name} has no version {wanted}.")
    return {
        "policyArn": policy.arn,
        "policyName": policy.name,
        "policyDocument": version.document,
        "policyVersionId": version_id(version.version),
        "isDefaultVersion": version.version == policy.default_version,
        "creationDate": version.created_at,
        "lastModifiedDate": version.created_at,
        "generationId": policy.generation_id,
    }


def list_policy_versions(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    policy = authorized_policy(ctx, "iot:ListPolicyVersions", params["policyName"])
    listed = [
        {
            "versionId": version_id(v.version),
            "isDefaultVersion": v.version == policy.default_version,
            "createDate": v.created_at,
        }
        for v in repo.list_versions(ctx.conn, policy)
    ]
    return {"policyVersions": listed}


def set_default_policy_version(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name, wanted = params["policyName"], params["policyVersionId"]
    policy = authorized_policy(ctx, "iot:SetDefaultPolicyVersion", name, lock=True)
    if not repo.set_default_version(ctx.conn, policy, version_number(wanted)):
        raise errors.not_found(f"The policy {name} has no version {wanted}.")
    return {}


def delete_policy_version(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name, wanted = params["policyName"], params["policyVersionId"]
    policy = authorized_policy(ctx, "iot:DeletePolicyVersion", name, lock=True)
    number = version_number(wanted)
    if number == policy.default_version:
        raise errors.delete_conflict(
            f"Cannot delete the default version of a policy; make another version the default first (name={name})"
        )
    if not repo.delete_version(ctx.conn, policy, number):
        raise errors.not_found(f"The policy {name} has no version {wanted}.")
    return {}


OPERATIONS: dict[str, Handler] = {
    "CreatePolicy": create_policy,
    "GetPolicy": get_policy,
    "DeletePolicy": delete_policy,
    "ListPolicies": list_policies,
    "CreatePolicyVersion": create_policy_version,
    "GetPolicyVersion": get_policy_version,
    "ListPolicyVersions": list_policy_versions,
    "SetDefaultPolicyVersion": set_default_policy_version,
    "DeletePolicyVersion": delete_policy_version,
    **policies_targets.OPERATIONS,
}
