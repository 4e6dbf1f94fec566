"""Managed policies, versions, inline policies, attachments and the authorizer's one-query load."""

from __future__ import annotations

import threading

import pytest

from edgeward.storage.database import Database
from edgeward.storage.errors import AlreadyExists, QuotaExceeded
from edgeward.storage.repos import attachments
from edgeward.storage.repos import groups as group_repo
from edgeward.storage.repos import inline_policies as inline_repo
from edgeward.storage.repos import policies as repo
from edgeward.storage.repos import roles as role_repo
from edgeward.storage.repos import users as user_repo

DOC = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'
AWS_READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def test_create_get_list_delete(database: Database, account: str) -> None:
    with database.transaction() as conn:
        created = repo.create_policy(conn, account, "Beta", "/x/", DOC, description="d", tags={"k": "v"})
        repo.create_policy(conn, account, "alpha", "/", DOC)
    assert created.arn == f"arn:aws:iam::{account}:policy/x/Beta" and created.unique_id.startswith("ANPA")
    with database.transaction() as conn:
        with pytest.raises(AlreadyExists):
            repo.create_policy(conn, account, "BETA", "/other/", DOC)
        found = repo.get_policy(conn, account, created.arn)
        assert found is not None and found.id == created.id and dict(found.tags) == {"k": "v"}
        assert found.description == "d" and found.default_version_id == "v1"
        assert [p.name for p in repo.list_policies(conn, account)] == ["alpha", "Beta"]
        assert repo.get_policy(conn, "210987654321", created.arn) is None
        versions = repo.list_versions(conn, found)
        assert [(v.version_id, v.is_default, v.document) for v in versions] == [("v1", True, DOC)]
        repo.set_tags(conn, found, {"a": "b"})
        repo.delete_policy(conn, found)
        assert repo.get_policy(conn, account, created.arn) is None


def test_versions(database: Database, account: str) -> None:
    with database.transaction() as conn:
        policy = repo.create_policy(conn, account, "P", "/", DOC)
        added = [repo.add_version(conn, policy, DOC.replace("s3", f"s{i}"), set_default=False) for i in range(4)]
        assert [v.version_id for v in added] == ["v2", "v3", "v4", "v5"]
        with pytest.raises(QuotaExceeded):
            repo.add_version(conn, policy, DOC, set_default=False)
        assert repo.set_default_version(conn, policy, "v3")
        assert not repo.set_default_version(conn, policy, "v9")
        assert not repo.delete_version(conn, policy, "v3")  # the default
        assert repo.delete_version(conn, policy, "v1")
        newest = repo.add_version(conn, policy, DOC, set_default=True)
        assert newest.version_id == "v6" and newest.is_default  # numbers are never reused
        stored = repo.get_policy(conn, account, policy.arn)
        assert stored is not None and stored.default_version_id == "v6" and stored.updated_at >= policy.updated_at
        flags = {v.version_id: v.is_default for v in repo.list_versions(conn, policy)}
        assert flags == {"v6": True, "v5": False, "v4": False, "v3": False, "v2": False}
        version = repo.get_version(conn, policy, "v6")
        assert version is not None and version.document == DOC
        assert repo.default_document(conn, account, policy.arn) == DOC
        assert repo.default_document(conn, account, AWS_READ_ONLY) is None


def test_five_versions_hold_under_concurrency(database: Database, account: str) -> None:
    with database.transaction() as conn:
        policy = repo.create_policy(conn, account, "Contended", "/", DOC)
    outcomes: list[str] = []
    lock = threading.Lock()

    def add() -> None:
        try:
            with database.transaction() as conn:
                repo.add_version(conn, policy, DOC, set_default=False)
            result = "added"
        except QuotaExceeded:
            result = "full"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=add) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["added"] * 4 + ["full"] * 4
    with database.read() as conn:
        assert len(repo.list_versions(conn, policy)) == 5


def test_inline_policies(database: Database, account: str) -> None:
    with database.transaction() as conn:
        user = user_repo.create_user(conn, account, "u")
        inline_repo.put(conn, account, "user", user.id, "b", DOC)
        inline_repo.put(conn, account, "user", user.id, "a", DOC)
        inline_repo.put(conn, account, "user", user.id, "a", DOC.replace("s3", "iam"))
        assert inline_repo.names(conn, "user", user.id) == ["a", "b"]
        found = inline_repo.get(conn, "user", user.id, "a")
        assert found is not None and "iam:*" in found.document
        assert inline_repo.get(conn, "user", user.id, "A") is None  # names are case-sensitive
        many = inline_repo.list_for_many(conn, "user", [user.id, 999])
        assert [p.name for p in many[user.id]] == ["a", "b"] and many[999] == []
        assert inline_repo.delete(conn, "user", user.id, "a")
        assert not inline_repo.delete(conn, "user", user.id, "a")


def test_attachment_and_boundary_counts(database: Database, account: str) -> None:
    with database.transaction() as conn:
        policy = repo.create_policy(conn, account, "Counted", "/", DOC)
        user = user_repo.create_user(conn, account, "u1", permissions_boundary=policy.arn)
        role = role_repo.create_role(conn, account, "r1", DOC, permissions_boundary=policy.arn)
        group = group_repo.create_group(conn, account, "g1")
        for kind, owner_id in (("user", user.id), ("group", group.id), ("role", role.id)):
            attachments.attach_policy(conn, account, kind, owner_id, policy.arn)
        attachments.attach_policy(conn, account, "user", user.id, AWS_READ_ONLY)
        assert attachments.count_for(conn, "user", user.id) == 2
        assert attachments.attachment_count(conn, account, policy.arn) == 3
        assert attachments.attachment_counts(conn, account) == {policy.arn: 3, AWS_READ_ONLY: 1}
        assert attachments.boundary_count(conn, account, policy.arn) == 2
        assert attachments.boundary_counts(conn, account) == {policy.arn: 2}
        assert attachments.boundary_holders(conn, account, policy.arn) == [("user", user.id), ("role", role.id)]
        assert sorted(attachments.entities_for_policy(conn, account, policy.arn)) == sorted(
            [("user", user.id), ("group", group.id), ("role", role.id)]
        )
        assert attachments.attached_for_many(conn, "user", [user.id]) == {user.id: sorted([policy.arn, AWS_READ_ONLY])}


def test_principal_documents_in_one_query(database: Database, account: str) -> None:
    with database.transaction() as conn:
        user = user_repo.create_user(conn, account, "loaded")
        group = group_repo.create_group(conn, account, "Team")
        group_repo.add_member(conn, group, user)
        mine = repo.create_policy(conn, account, "Mine", "/", DOC)
        repo.add_version(conn, mine, DOC.replace("s3", "iot"), set_default=True)
        boundary = repo.create_policy(conn, account, "Boundary", "/", DOC.replace("s3", "ec2"))
        inline_repo.put(conn, account, "user", user.id, "own", DOC)
        inline_repo.put(conn, account, "group", group.id, "shared", DOC)
        attachments.attach_policy(conn, account, "user", user.id, mine.arn)
        attachments.attach_policy(conn, account, "group", group.id, AWS_READ_ONLY)
        other = group_repo.create_group(conn, account, "NotMine")
        inline_repo.put(conn, account, "group", other.id, "foreign", DOC)

        rows = repo.principal_documents(conn, "user", user.id, with_groups=True, managed_arns=[boundary.arn])
        summary = [(r.source, r.owner_type, r.owner_name, r.name) for r in rows]
        assert summary == [
            ("inline", "user", "", "own"),
            ("attached", "user", "", mine.arn),
            ("inline", "group", "Team", "shared"),
            ("attached", "group", "Team", AWS_READ_ONLY),
            ("managed", "", "", boundary.arn),
        ]
        documents = {r.name: r.document for r in rows}
        assert documents[mine.arn] is not None and "iot:*" in documents[mine.arn]  # the default version's
        assert documents[AWS_READ_ONLY] is None and "ec2:*" in (documents[boundary.arn] or "")

        alone = repo.principal_documents(conn, "user", user.id, with_groups=False)
        assert [r.name for r in alone] == ["own", mine.arn]
        assert repo.default_documents(conn, account, [mine.arn, boundary.arn, AWS_READ_ONLY]).keys() == {
            mine.arn,
            boundary.arn,
        }
