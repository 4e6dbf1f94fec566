"""IAM users, access keys, groups, roles, login profiles, password policy and tags: the operation table."""

from __future__ import annotations

from edgeward.services.context import Handler
from edgeward.services.iam import access_keys, groups, login_profiles, password_policy, roles, tags, users

OPERATIONS: dict[str, Handler] = {
    # users
    "CreateUser": users.create_user,
    "GetUser": users.get_user,
    "ListUsers": users.list_users,
    "UpdateUser": users.update_user,
    "DeleteUser": users.delete_user,
    "TagUser": tags.tag_user,
    "UntagUser": tags.untag_user,
    "ListUserTags": tags.list_user_tags,
    # access keys
    "CreateAccessKey": access_keys.create_access_key,
    "ListAccessKeys": access_keys.list_access_keys,
    "UpdateAccessKey": access_keys.update_access_key,
    "DeleteAccessKey": access_keys.delete_access_key,
    "GetAccessKeyLastUsed": access_keys.get_access_key_last_used,
    # groups
    "CreateGroup": groups.create_group,
    "GetGroup": groups.get_group,
    "ListGroups": groups.list_groups,
    "UpdateGroup": groups.update_group,
    "DeleteGroup": groups.delete_group,
    "AddUserToGroup": groups.add_user_to_group,
    "RemoveUserFromGroup": groups.remove_user_from_group,
    "ListGroupsForUser": groups.list_groups_for_user,
    # roles
    "CreateRole": roles.create_role,
    "GetRole": roles.get_role,
    "ListRoles": roles.list_roles,
    "UpdateRole": roles.update_role,
    "UpdateRoleDescription": roles.update_role_description,
    "UpdateAssumeRolePolicy": roles.update_assume_role_policy,
    "DeleteRole": roles.delete_role,
    "TagRole": tags.tag_role,
    "UntagRole": tags.untag_role,
    "ListRoleTags": tags.list_role_tags,
    # console passwords
    "CreateLoginProfile": login_profiles.create_login_profile,
    "GetLoginProfile": login_profiles.get_login_profile,
    "UpdateLoginProfile": login_profiles.update_login_profile,
    "DeleteLoginProfile": login_profiles.delete_login_profile,
    "ChangePassword": login_profiles.change_password,
    "GetAccountPasswordPolicy": password_policy.get_account_password_policy,
    "UpdateAccountPasswordPolicy": password_policy.update_account_password_policy,
    "DeleteAccountPasswordPolicy": password_policy.delete_account_password_policy,
}
