"""The decision log: what a row says, the bounded queue, the flusher (batches, stop, failures), retention."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import event, func, insert, select

from edgeward.core import clock
from edgeward.core.principal import Principal, PrincipalKind
from edgeward.policy import Caller, CallerKind, Decision, Request, denial_message, evaluate, parse_policy
from edgeward.services import decisions
from edgeward.services.context import Context
from edgeward.services.decisions import DecisionFlusher, DecisionQueue, Entry, LogSettings, to_row
from edgeward.storage.database import Database, sqlite_url
from edgeward.storage.repos import decisions as repo
from edgeward.storage.secrets import SecretBox
from edgeward.storage.tables_decisions import authz_decisions

ACCOUNT = "123456789012"
USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/mateojackson"
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/EdgeOperators"
USER = Caller(CallerKind.USER, USER_ARN, ACCOUNT, unique_id="AIDAEXAMPLE")
POLICY = parse_policy(
    json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "ReadUsers", "Effect": "Allow", "Action": "iam:Get*", "Resource": "*"},
                {"Effect": "Allow", "Action": "iam:List*", "Resource": "*"},
                {"Sid": "NoDeletes", "Effect": "Deny", "Action": "iam:Delete*", "Resource": "*"},
                {"Effect": "Allow", "Action": "iam:DeleteUser", "Resource": "*"},
            ],
        }
    )
).with_source(POLICY_ARN, "user-managed")


def decide(action: str, resource: str = "*") -> Decision:
    return evaluate(Request(USER, action, resource, {}), [POLICY])


def entry(action: str = "iam:GetUser", resource: str = "*", at: float | None = None, message: str = "") -> Entry:
    decision = decide(action, resource)
    if not decision.allowed and not message:
        message = denial_message(USER_ARN, action, resource, decision)
    return (at or time.time(), ACCOUNT, "req-1", USER_ARN, action, resource, decision, message)


def context(principal_arn: str = USER_ARN) -> Context:
    principal = Principal(PrincipalKind.USER, ACCOUNT, principal_arn, "AIDAEXAMPLE", "mateojackson", "AKIAEXAMPLE")
    return Context(
        principal=principal,
        region="us-east-1",
        request_id="req-42",
        service="iam",
        operation="GetUser",
        conn=cast(Any, None),
        secrets=SecretBox.generate(),
        authorizer=lambda *args: None,
    )


@pytest.fixture
def global_queue() -> Iterator[DecisionQueue]:
    decisions._queue.clear()
    yield decisions._queue
    decisions._queue.clear()


def rows(db: Database) -> list[repo.DecisionRecord]:
    with db.read() as conn:
        return repo.query_decisions(conn, limit=100_000)


# -- what a row says ---------------------------------------------------------------------------------


def test_an_allow_names_the_granting_policy_and_statement() -> None:
    row = to_row(entry("iam:GetUser"))
    assert row["allowed"] is True
    assert (row["policy_type"], row["policy_id"], row["statement"]) == ("identity", POLICY_ARN, "ReadUsers")
    assert row["reason"] == f"allowed by {POLICY_ARN} statement ReadUsers"
    assert row["at"].tzinfo is not None


def test_a_statement_without_sid_is_named_by_its_index() -> None:
    row = to_row(entry("iam:ListUsers"))
    assert row["statement"] == "#1"
    assert row["reason"] == f"allowed by {POLICY_ARN} statement #1"


def test_an_explicit_deny_names_the_denying_statement_and_keeps_the_message() -> None:
    row = to_row(entry("iam:DeleteUser", f"arn:aws:iam::{ACCOUNT}:user/bob"))
    assert row["allowed"] is False
    assert (row["policy_type"], row["policy_id"], row["statement"]) == ("identity", POLICY_ARN, "NoDeletes")
    assert row["reason"].endswith("with an explicit deny in an identity-based policy")


def test_an_implicit_deny_names_the_policy_type_that_did_not_allow() -> None:
    row = to_row(entry("iot:CreateThing", f"arn:aws:iot:us-east-1:{ACCOUNT}:thing/t"))
    assert (row["allowed"], row["policy_type"], row["policy_id"], row["statement"]) == (
        False,
        "identity",
        None,
        None,
    )
    assert row["reason"] == (
        f"User: {USER_ARN} is not authorized to perform: iot:CreateThing on resource: "
        f"arn:aws:iot:us-east-1:{ACCOUNT}:thing/t because no identity-based policy allows the iot:CreateThing action"
    )


def test_a_denial_without_a_message_gets_aws_wording() -> None:
    at, account, request, arn, action, resource, decision, _ = entry("iot:CreateThing")
    row = to_row((at, account, request, arn, action, resource, decision, ""))
    assert row["reason"].startswith(f"User: {USER_ARN} is not authorized to perform: iot:CreateThing")


def test_root_allows_say_so() -> None:
    root = Caller(CallerKind.ROOT, f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT)
    decision = evaluate(Request(root, "iam:CreateUser", "*", {}), [])
    row = to_row((time.time(), ACCOUNT, "r", root.arn, "iam:CreateUser", "*", decision, ""))
    assert (row["allowed"], row["policy_type"], row["reason"]) == (True, None, "allowed: the account root")


# -- record() and the queue ------------------------------------------------------------------------------


def test_record_queues_who_what_and_when(global_queue: DecisionQueue) -> None:
    before = time.time()
    decisions.record(context(), "iam:GetUser", "*", decide("iam:GetUser"), "")
    [(at, account, request_id, arn, action, resource, decision, message)] = global_queue.take(10)
    assert before <= at <= time.time()
    assert (account, request_id, arn, action, resource, message) == (
        ACCOUNT,
        "req-42",
        USER_ARN,
        "iam:GetUser",
        "*",
        "",
    )
    assert decision.allowed


def test_record_never_raises(global_queue: DecisionQueue) -> None:
    dropped = global_queue.dropped
    decisions.record(cast(Context, object()), "iam:GetUser", "*", decide("iam:GetUser"), "")
    assert len(global_queue) == 0
    assert global_queue.dropped == dropped + 1


def test_a_full_queue_drops_the_oldest_and_counts() -> None:
    queue = DecisionQueue(capacity=3, wake_at=100)
    for i in range(5):
        queue.put(entry(at=float(i + 1)))
    assert queue.dropped == 2
    assert [e[0] for e in queue.take(10)] == [3.0, 4.0, 5.0]
    assert queue.take(10) == []


def test_the_queue_wakes_the_flusher_at_the_batch_size() -> None:
    queue = DecisionQueue(capacity=100, wake_at=3)
    queue.put(entry())
    queue.put(entry())
    assert not queue.wakeup.is_set()
    queue.put(entry())
    assert queue.wakeup.is_set()


def test_settings_come_from_the_environment() -> None:
    settings = LogSettings.from_env(
        {
            "EDGEWARD_DECISIONS_RETENTION_DAYS": "0.5",
            "EDGEWARD_DECISIONS_RETENTION_ROWS": "1000",
            "EDGEWARD_DECISIONS_QUEUE": "50",
            "EDGEWARD_DECISIONS_FLUSH_SECONDS": "1",
        }
    )
    assert (settings.retention, settings.retention_rows, settings.queue_size, settings.flush_interval) == (
        timedelta(hours=12),
        1000,
        50,
        1.0,
    )
    assert LogSettings.from_env({}) == LogSettings()
    assert not LogSettings.from_env({"EDGEWARD_DECISIONS": "off"}).enabled
    with pytest.raises(ValueError):
        LogSettings.from_env({"EDGEWARD_DECISIONS_RETENTION_ROWS": "0"})


# -- the flusher -------------------------------------------------------------------------------------


def count_commits(db: Database) -> list[int]:
    commits = [0]

    def on_commit(conn: Any) -> None:
        commits[0] += 1

    event.listen(db.engine, "commit", on_commit)
    return commits


def test_flush_writes_batches_in_one_transaction_each(database: Database) -> None:
    queue = DecisionQueue(capacity=10_000, wake_at=1_000)
    flusher = DecisionFlusher(database, queue, LogSettings(batch_rows=1_000))
    for i in range(2_500):
        queue.put(entry(at=1_700_000_000.0 + i))
    commits = count_commits(database)
    assert flusher.flush() == 2_500
    assert commits[0] == 3
    assert len(queue) == 0
    stored = rows(database)
    assert len(stored) == 2_500
    assert stored[0].at == clock.from_epoch(1_700_000_000.0 + 2_499)  # newest first
    assert stored[0].reason == f"allowed by {POLICY_ARN} statement ReadUsers"


def test_the_thread_writes_soon_after_the_batch_size_is_reached(database: Database) -> None:
    queue = DecisionQueue(capacity=1_000, wake_at=50)
    flusher = DecisionFlusher(database, queue, LogSettings(batch_rows=50, flush_interval=30.0, prune_interval=3600))
    flusher.start()
    try:
        for _ in range(50):
            queue.put(entry())
        deadline = time.monotonic() + 10
        while flusher.written < 50 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert flusher.written == 50  # long before the 30 s interval
    finally:
        flusher.stop()


def test_the_thread_writes_a_few_entries_within_the_interval(database: Database) -> None:
    queue = DecisionQueue(capacity=1_000, wake_at=1_000)
    flusher = DecisionFlusher(database, queue, LogSettings(flush_interval=0.05, prune_interval=3600))
    flusher.start()
    try:
        queue.put(entry())
        deadline = time.monotonic() + 10
        while not rows(database) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(rows(database)) == 1
    finally:
        flusher.stop()


def test_stop_writes_everything_queued(database: Database) -> None:
    queue = DecisionQueue()
    flusher = DecisionFlusher(database, queue, LogSettings(flush_interval=60.0, prune_interval=3600))
    flusher.start()
    time.sleep(0.05)  # the thread is waiting out its interval now
    for i in range(10):
        queue.put(entry("iot:CreateThing", at=1_700_000_000.0 + i))
    flusher.stop()
    stored = rows(database)
    assert len(stored) == 10
    assert all(not r.allowed for r in stored)


def test_stop_flushes_when_the_thread_never_ran(database: Database) -> None:
    queue = DecisionQueue()
    flusher = DecisionFlusher(database, queue, LogSettings())
    queue.put(entry())
    flusher.stop()
    assert len(rows(database)) == 1


def test_the_module_flusher_serves_record(database: Database, global_queue: DecisionQueue) -> None:
    flusher = decisions.start_flusher(database, LogSettings(flush_interval=60.0, prune_interval=3600))
    assert flusher is not None
    try:
        assert decisions.start_flusher(database) is flusher  # once per process
        decisions.record(context(), "iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/a", decide("iam:GetUser"), "")
        assert decisions.pending() == 1
    finally:
        decisions.stop_flusher()
    [stored] = rows(database)
    assert (stored.request_id, stored.action, stored.allowed) == ("req-42", "iam:GetUser", True)


def test_a_disabled_log_records_nothing(global_queue: DecisionQueue, database: Database) -> None:
    try:
        assert decisions.start_flusher(database, LogSettings(enabled=False)) is None
        decisions.record(context(), "iam:GetUser", "*", decide("iam:GetUser"), "")
        assert len(global_queue) == 0
    finally:
        decisions._enabled = True


def test_a_failed_write_is_retried_then_given_up(tmp_path: Path) -> None:
    unmigrated = Database(sqlite_url(tmp_path))  # no authz_decisions table: every write fails
    try:
        queue = DecisionQueue()
        flusher = DecisionFlusher(unmigrated, queue, LogSettings())
        queue.put(entry())
        for _ in range(DecisionFlusher.MAX_ATTEMPTS - 1):
            assert flusher.flush() == 0
            assert flusher.lost == 0
        assert flusher.flush() == 0
        assert flusher.lost == 1
        assert flusher.flush() == 0  # nothing left to retry
    finally:
        unmigrated.dispose()


def test_a_write_that_fails_once_is_not_lost(database: Database) -> None:
    queue = DecisionQueue()
    flusher = DecisionFlusher(database, queue, LogSettings())
    queue.put(entry())
    failures = [1]

    def fail_once(conn: Any, *args: Any) -> None:
        if failures.pop() if failures else 0:
            raise RuntimeError("database unavailable")

    event.listen(database.engine, "before_execute", fail_once)
    try:
        assert flusher.flush() == 0
        assert flusher.flush() == 1
    finally:
        event.remove(database.engine, "before_execute", fail_once)
    assert len(rows(database)) == 1


# -- retention -------------------------------------------------------------------------------------------


def test_prune_deletes_old_rows_and_keeps_at_most_the_newest(database: Database) -> None:
    now = clock.now()
    old = [to_row(entry(at=(now - timedelta(days=10)).timestamp())) for _ in range(5)]
    recent = [to_row(entry(at=(now - timedelta(minutes=i)).timestamp())) for i in range(20)]
    with database.transaction() as conn:
        repo.insert_decisions(conn, old)
        repo.insert_decisions(conn, list(reversed(recent)))  # oldest first, as the flusher writes them
    flusher = DecisionFlusher(database, DecisionQueue(), LogSettings(retention=timedelta(days=7), retention_rows=8))
    assert flusher.prune() == 5 + 12
    kept = rows(database)
    assert len(kept) == 8
    assert [r.at for r in kept] == sorted((r["at"] for r in recent), reverse=True)[:8]
    assert flusher.prune() == 0


def test_prune_deletes_in_small_transactions(database: Database) -> None:
    with database.transaction() as conn:
        repo.insert_decisions(conn, [to_row(entry(at=time.time() - i)) for i in range(25)])
    settings = LogSettings(retention_rows=3, prune_chunk=10)
    commits = count_commits(database)
    assert DecisionFlusher(database, DecisionQueue(), settings).prune() == 22
    assert commits[0] == 3
    assert len(rows(database)) == 3


def test_prune_of_an_empty_log(database: Database) -> None:
    assert DecisionFlusher(database, DecisionQueue(), LogSettings()).prune() == 0


def test_ids_are_64_bit_on_postgresql_and_never_reused(database: Database) -> None:
    with database.transaction() as conn:
        repo.insert_decisions(conn, [to_row(entry())])
        first = conn.execute(select(func.max(authz_decisions.c.id))).scalar_one()
        conn.execute(authz_decisions.delete())
        repo.insert_decisions(conn, [to_row(entry())])
        assert conn.execute(select(func.max(authz_decisions.c.id))).scalar_one() > first
        if database.dialect == "postgresql":
            row = to_row(entry())
            conn.execute(insert(authz_decisions).values(id=2**40, **row))


# -- queries ---------------------------------------------------------------------------------------------


def test_queries_filter_and_order(database: Database) -> None:
    now = time.time()
    other = f"arn:aws:sts::{ACCOUNT}:assumed-role/EdgeRole/device-1"
    batch = [
        to_row(entry("iam:GetUser", at=now - 7200)),
        to_row(entry("iot:CreateThing", at=now - 60)),
        to_row(entry("iam:ListUsers", at=now - 30)),
    ]
    session = to_row(entry("iot:CreateThing", at=now - 10))
    session["principal_arn"] = other
    with database.transaction() as conn:
        repo.insert_decisions(conn, [*batch, session])
    with database.read() as conn:

        def actions(**filters: Any) -> list[str]:
            return [r.action for r in repo.query_decisions(conn, **filters)]

        assert actions() == ["iot:CreateThing", "iam:ListUsers", "iot:CreateThing", "iam:GetUser"]
        assert actions(principal="mateojackson") == ["iam:ListUsers", "iot:CreateThing", "iam:GetUser"]
        assert actions(principal=USER_ARN, limit=1) == ["iam:ListUsers"]
        assert actions(principal="device-1") == ["iot:CreateThing"]
        assert actions(principal="jackson") == []
        assert actions(action="IOT:creatething") == ["iot:CreateThing", "iot:CreateThing"]
        assert actions(denied_only=True) == ["iot:CreateThing", "iot:CreateThing"]
        assert actions(since=clock.from_epoch(now - 3600)) == ["iot:CreateThing", "iam:ListUsers", "iot:CreateThing"]
