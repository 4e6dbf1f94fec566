"""IAM managed and inline policies, attachments, boundaries, simulation: the operation table."""

from __future__ import annotations

from edgeward.services.context import Handler
from edgeward.services.iam import account_details, attach, boundaries, inline, policies, policy_versions, simulate

OPERATIONS: dict[str, Handler] = {
    # managed policies
    "CreatePolicy": policies.create_policy,
    "GetPolicy": policies.get_policy,
    "ListPolicies": policies.list_policies,
    "DeletePolicy": policies.delete_policy,
    "TagPolicy": policies.tag_policy,
    "UntagPolicy": policies.untag_policy,
    "ListPolicyTags": policies.list_policy_tags,
    # versions
    "CreatePolicyVersion": policy_versions.create_policy_version,
    "GetPolicyVersion": policy_versions.get_policy_version,
    "ListPolicyVersions": policy_versions.list_policy_versions,
    "DeletePolicyVersion": policy_versions.delete_policy_version,
    "SetDefaultPolicyVersion": policy_versions.set_default_policy_version,
    # attachments, inline policies, permissions boundaries, the simulator
    **attach.OPERATIONS,
    **inline.OPERATIONS,
    **boundaries.OPERATIONS,
    **simulate.OPERATIONS,
    "GetAccountAuthorizationDetails": account_details.get_account_authorization_details,
}
