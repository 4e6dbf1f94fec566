"""Roles, groups and membership, login profiles, the password policy and the dependents check, on SQLite
and PostgreSQL: the rules the database holds.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert

from edgeward.core import clock
from edgeward.storage.database import Database
from edgeward.storage.errors import AlreadyExists, InUse, NotFound
from edgeward.storage.repos import attachments, dependents, groups, login_profiles, password_policy, roles, users
from edgeward.storage.tables_entities import iam_login_profiles
from edgeward.storage.tables_policies import iam_inline_policies

TRUST = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"a.amazonaws.com"},"Action":"sts:AssumeRole"}]}'  # noqa: E501


def test_roles_are_unique_case_insensitively(database: Database, account: str) -> None:
    with database.transaction() as conn:
        created = roles.create_role(conn, account, "AWSDeepLensSageMakerRole", TRUST, tags={"team": "edge"})
        with pytest.raises(AlreadyExists, match="AWSDeepLensSagemakerRole"):
            roles.create_role(conn, account, "AWSDeepLensSagemakerRole", TRUST)
        roles.create_role(conn, account, "Other", TRUST)  # the transaction survived the violation
    assert created.unique_id.startswith("AROA") and created.max_session_duration == 3600
    assert created.arn == f"arn:aws:iam::{account}:role/AWSDeepLensSageMakerRole"
    with database.read() as conn:
        assert roles.get_role(conn, account, "awsdeeplenssagemakerrole") == created
        assert roles.get_role_by_id(conn, created.id) == created
        assert roles.get_role_by_id(conn, created.id, "999999999999") is None
        assert dict(created.tags) == {"team": "edge"} and created.trust_policy == TRUST


def test_get_role_by_arn(database: Database, account: str) -> None:
    with database.transaction() as conn:
        plain = roles.create_role(conn, account, "Plain", TRUST)
        pathed = roles.create_role(conn, account, "Pathed", TRUST, path="/a/b/")
    with database.read() as conn:
        assert roles.get_role_by_arn(conn, account, plain.arn) == plain
        assert roles.get_role_by_arn(conn, account, f"arn:aws:iam::{account}:role/PLAIN") == plain
        assert roles.get_role_by_arn(conn, account, pathed.arn) == pathed
        assert roles.get_role_by_arn(conn, account, f"arn:aws:iam::{account}:role/Pathed") is None  # path differs
        assert roles.get_role_by_arn(conn, account, f"arn:aws:iam::{account}:role/a/Pathed") is None
        assert roles.get_role_by_arn(conn, "999999999999", plain.arn) is None
        assert roles.get_role_by_arn(conn, account, f"arn:aws:iam::{account}:user/Plain") is None
        assert roles.get_role_by_arn(conn, account, "not an arn") is None
        assert roles.get_role_by_arn(conn, account, f"arn:aws:iam::{account}:role/") is None


def test_roles_list_update_delete(database: Database, account: str) -> None:
    with database.transaction() as conn:
        for name in ("delta", "Alpha", "charlie", "Bravo"):
            roles.create_role(conn, account, name, TRUST, path="/svc/" if name != "delta" else "/")
    with database.read() as conn:
        page, marker = roles.list_roles(conn, account, "/", None, 3)
        rest, last = roles.list_roles(conn, account, "/", marker, 3)
        only_svc, _ = roles.list_roles(conn, account, "/svc/")
    assert [r.name for r in page + rest] == ["Alpha", "Bravo", "charlie", "delta"] and last is None
    assert [r.name for r in only_svc] == ["Alpha", "Bravo", "charlie"]
    with database.transaction() as conn:
        role = roles.get_role(conn, account, "alpha", lock=True)
        assert role is not None
        updated = roles.update_role(conn, role, description="d", max_session_duration=7200, trust_policy="{}")
        roles.set_role_tags(conn, role.id, {"k": "v"})
        assert roles.set_role_permissions_boundary(conn, role.id, "arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert (updated.description, updated.max_session_duration, updated.trust_policy) == ("d", 7200, "{}")
    with database.transaction() as conn:
        again = roles.get_role(conn, account, "Alpha")
        assert again is not None and dict(again.tags) == {"k": "v"} and again.description == "d"
        assert again.permissions_boundary == "arn:aws:iam::aws:policy/ReadOnlyAccess"
        roles.delete_role(conn, again)
        with pytest.raises(NotFound):
            roles.delete_role(conn, again)
        with pytest.raises(NotFound):
            roles.update_role(conn, again, description="gone")
        assert not roles.set_role_permissions_boundary(conn, again.id, None)


def test_role_last_used_is_recorded_coarsely(database: Database, account: str) -> None:
    now = clock.now()
    with database.transaction() as conn:
        role = roles.create_role(conn, account, "Used", TRUST)
        assert roles.record_last_used(conn, role.id, "us-east-1", now)
        assert not roles.record_last_used(conn, role.id, "us-east-1", now + timedelta(seconds=30))
        assert roles.record_last_used(conn, role.id, "eu-west-1", now + timedelta(seconds=31))
        assert roles.record_last_used(conn, role.id, "eu-west-1", now + timedelta(minutes=5))
    with database.read() as conn:
        used = roles.get_role(conn, account, "Used")
    assert used is not None and used.last_used_region == "eu-west-1"
    assert used.last_used_at is not None and abs(used.last_used_at - (now + timedelta(minutes=5))) < timedelta(
        milliseconds=1
    )


def test_groups_and_membership(database: Database, account: str) -> None:
    with database.transaction() as conn:
        admins = groups.create_group(conn, account, "Admins", "/staff/")
        with pytest.raises(AlreadyExists, match="ADMINS"):
            groups.create_group(conn, account, "ADMINS")
        ops = groups.create_group(conn, account, "ops")
        alice = users.create_user(conn, account, "alice")
        bob = users.create_user(conn, account, "bob")
        assert groups.add_member(conn, admins, alice)
        assert not groups.add_member(conn, admins, alice)  # already a member
        assert groups.add_member(conn, admins, bob)
        assert groups.add_member(conn, ops, alice)
    assert admins.unique_id.startswith("AGPA") and admins.arn == f"arn:aws:iam::{account}:group/staff/Admins"
    with database.read() as conn:
        assert groups.get_group(conn, account, "admins") == admins
        assert groups.get_group_by_id(conn, ops.id) == ops
        assert groups.group_ids_for_user(conn, alice.id) == sorted([admins.id, ops.id])
        assert groups.group_ids_for_user(conn, bob.id) == [admins.id]
        first, marker = groups.list_members(conn, admins, None, 1)
        rest, end = groups.list_members(conn, admins, marker, 1)
        assert [u.name for u in first + rest] == ["alice", "bob"] and end is None
        assert [g.name for g in groups.list_groups_for_user(conn, alice)[0]] == ["Admins", "ops"]
        assert [g.name for g in groups.list_groups(conn, account, "/staff/")[0]] == ["Admins"]
    with database.transaction() as conn:
        with pytest.raises(InUse):
            groups.delete_group(conn, admins)  # members hold the group (foreign key)
        with pytest.raises(InUse):
            users.delete_user(conn, bob)  # and the group holds its members
        assert groups.remove_member(conn, admins, bob)
        assert not groups.remove_member(conn, admins, bob)
        users.delete_user(conn, bob)
        with pytest.raises(NotFound):
            groups.add_member(conn, ops, bob)


def test_group_rename(database: Database, account: str) -> None:
    with database.transaction() as conn:
        first = groups.create_group(conn, account, "first")
        groups.create_group(conn, account, "second")
        with pytest.raises(AlreadyExists, match="SECOND"):
            groups.rename_group(conn, first, "SECOND", "/")
        renamed = groups.rename_group(conn, first, "third", "/x/")
    assert renamed.arn == f"arn:aws:iam::{account}:group/x/third" and renamed.id == first.id
    with database.read() as conn:
        assert groups.get_group(conn, account, "first") is None
        assert groups.get_group(conn, account, "THIRD") == renamed


def test_user_rename_and_boundary(database: Database, account: str) -> None:
    with database.transaction() as conn:
        user = users.create_user(conn, account, "old")
        users.create_user(conn, account, "taken")
        with pytest.raises(AlreadyExists, match="TAKEN"):
            users.rename_user(conn, user, "TAKEN", "/")
        renamed = users.rename_user(conn, user, "new", "/p/")
        assert users.set_user_permissions_boundary(conn, user.id, "arn:aws:iam::aws:policy/ReadOnlyAccess")
        users.set_user_tags(conn, user.id, {"a": "b"})
    assert renamed.arn == f"arn:aws:iam::{account}:user/p/new"
    with database.read() as conn:
        found = users.get_user(conn, account, "NEW")
    assert found is not None and found.arn == renamed.arn and dict(found.tags) == {"a": "b"}
    assert found.permissions_boundary == "arn:aws:iam::aws:policy/ReadOnlyAccess"


def test_login_profiles_hash_and_verify(database: Database, account: str) -> None:
    with database.transaction() as conn:
        user = users.create_user(conn, account, "console")
        profile = login_profiles.create_login_profile(conn, user.id, "First-Pass-1", True)
        with pytest.raises(AlreadyExists):
            login_profiles.create_login_profile(conn, user.id, "Other-Pass-1", False)
        with pytest.raises(NotFound):
            login_profiles.create_login_profile(conn, user.id + 1000, "Other-Pass-1", False)
    assert profile.password_reset_required
    with database.read() as conn:
        assert login_profiles.verify_password(conn, user.id, "First-Pass-1")
        assert not login_profiles.verify_password(conn, user.id, "first-pass-1")
        assert not login_profiles.verify_password(conn, user.id + 1000, "First-Pass-1")
        assert login_profiles.get_login_profile(conn, user.id) == profile
        stored = conn.execute(iam_login_profiles.select()).mappings().one()
    assert stored["password_hash"].startswith("$argon2id$") and "First-Pass-1" not in stored["password_hash"]
    with database.transaction() as conn:
        login_profiles.set_password(conn, user.id, "Second-Pass-2")
        login_profiles.set_password(conn, user.id, "Third-Pass-3", password_reset_required=False)
        assert login_profiles.was_used_before(conn, user.id, "Third-Pass-3", 1)
        assert not login_profiles.was_used_before(conn, user.id, "Second-Pass-2", 1)
        assert login_profiles.was_used_before(conn, user.id, "Second-Pass-2", 2)
        assert not login_profiles.was_used_before(conn, user.id, "First-Pass-1", 2)
        assert login_profiles.was_used_before(conn, user.id, "First-Pass-1", 3)
    with database.read() as conn:
        assert login_profiles.verify_password(conn, user.id, "Third-Pass-3")
        assert not login_profiles.verify_password(conn, user.id, "First-Pass-1")
        changed = login_profiles.get_login_profile(conn, user.id)
    assert changed is not None and not changed.password_reset_required
    assert changed.password_changed_at > profile.password_changed_at
    with database.transaction() as conn:
        with pytest.raises(InUse):
            users.delete_user(conn, user)  # the profile holds the user (foreign key)
        assert login_profiles.set_password_reset_required(conn, user.id, True)
        assert login_profiles.delete_login_profile(conn, user.id)
        assert not login_profiles.delete_login_profile(conn, user.id)
        with pytest.raises(NotFound):
            login_profiles.set_password(conn, user.id, "Fourth-Pass-4")
        users.delete_user(conn, user)


def test_password_policy_document(database: Database, account: str) -> None:
    with database.transaction() as conn:
        assert password_policy.get_password_policy(conn, account) is None
        password_policy.put_password_policy(conn, account, {"MinimumPasswordLength": 12})
        password_policy.put_password_policy(conn, account, {"MinimumPasswordLength": 14, "RequireSymbols": True})
    with database.read() as conn:
        assert password_policy.get_password_policy(conn, account) == {
            "MinimumPasswordLength": 14,
            "RequireSymbols": True,
        }
    with database.transaction() as conn:
        assert password_policy.delete_password_policy(conn, account)
        assert not password_policy.delete_password_policy(conn, account)


def test_dependents(database: Database, account: str) -> None:
    with database.transaction() as conn:
        user = users.create_user(conn, account, "dependent")
        group = groups.create_group(conn, account, "holders")
        role = roles.create_role(conn, account, "Holder", TRUST)
        assert dependents.user_dependents(conn, user.id) == dependents.Dependents()
        assert dependents.group_dependents(conn, group.id) == dependents.Dependents()
        assert dependents.role_dependents(conn, role.id) == dependents.Dependents()
        login_profiles.create_login_profile(conn, user.id, "Dependent-Pass-1", False)
        groups.add_member(conn, group, user)
        attachments.attach_policy(conn, account, "role", role.id, "arn:aws:iam::aws:policy/ReadOnlyAccess")
        conn.execute(
            insert(iam_inline_policies).values(
                account_id=account,
                principal_type="group",
                principal_id=group.id,
                name="inline",
                document="{}",
                updated_at=clock.now(),
            )
        )
        found = dependents.user_dependents(conn, user.id)
        assert found.login_profile and found.group_memberships
        assert not (found.access_keys or found.attached_policies or found.inline_policies)
        assert dependents.group_dependents(conn, group.id) == dependents.Dependents(
            group_memberships=True, inline_policies=True
        )
        assert dependents.role_dependents(conn, role.id) == dependents.Dependents(attached_policies=True)
