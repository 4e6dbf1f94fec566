"""The group-commit writer: savepoints per request, one COMMIT per batch, replies only after it."""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from sqlalchemy import Connection, event
from sqlalchemy.exc import OperationalError

from edgeward.protocol.http import HttpRequest, HttpResponse
from edgeward.server import pipeline as pipeline_module
from edgeward.server.authn import Authenticator
from edgeward.server.bootstrap import prepare
from edgeward.server.config import Config
from edgeward.server.pipeline import Pipeline, Work
from edgeward.server.writer import GroupWriter, WriterClosed
from edgeward.services import decisions
from edgeward.services.authorization import authorize
from edgeward.storage.database import Database, sqlite_url

T = TypeVar("T")
WAIT = 10.0


# -- a plain SQLite database and fake units of work ------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(sqlite_url(tmp_path))
    with database.transaction() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v TEXT PRIMARY KEY)")
    try:
        yield database
    finally:
        database.dispose()


def committed(db: Database) -> set[str]:
    """The values another connection sees: what has been committed."""
    with db.read() as conn:
        return {row[0] for row in conn.exec_driver_sql("SELECT v FROM t")}


@dataclass
class FakeWork:
    """Inserts `value`, then optionally waits for `gate` and/or raises `fail`."""

    db: Database
    value: str
    fail: Exception | None = None
    gate: threading.Event | None = None
    check: bool = True  # finish() notes what is committed (one read transaction)
    ran: threading.Event = field(default_factory=threading.Event)
    committed_at_finish: set[str] | None = None
    finished: bool = False

    def run(self, conn: Connection) -> None:
        conn.exec_driver_sql("INSERT INTO t (v) VALUES (?)", (self.value,))
        self.ran.set()
        if self.gate is not None:
            assert self.gate.wait(WAIT)
        if self.fail is not None:
            raise self.fail

    def finish(self) -> HttpResponse:
        self.finished = True
        if self.check:
            self.committed_at_finish = committed(self.db)
        return HttpResponse(200, [], self.value.encode())

    def failed(self, exc: BaseException) -> HttpResponse:
        return HttpResponse(500, [], f"{self.value}: {type(exc).__name__}".encode())


def run_async(main: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(main(), WAIT)

    return asyncio.run(bounded())


async def wait_for(flag: threading.Event) -> None:
    assert await asyncio.to_thread(flag.wait, WAIT)


def bodies(responses: list[HttpResponse]) -> list[str]:
    return [response.body.decode() for response in responses]


@contextlib.contextmanager
def running(writer: GroupWriter) -> Iterator[GroupWriter]:
    writer.start()
    try:
        yield writer
    finally:
        writer.stop()


# -- batching ---------------------------------------------------------------------------------------


def test_a_lone_request_is_a_batch_of_one_and_committed_before_its_reply(db: Database) -> None:
    work = FakeWork(db, "a")
    with running(GroupWriter(db)) as writer:
        response = run_async(lambda: writer.submit(work))
        assert (response.status, response.body) == (200, b"a")
        assert writer.batches == 1
    assert work.committed_at_finish == {"a"}


def test_a_failing_request_rolls_back_only_its_own_savepoint(db: Database) -> None:
    gate = threading.Event()
    blocker = FakeWork(db, "blocker", gate=gate)
    batch = [
        FakeWork(db, "a"),
        FakeWork(db, "b", fail=ValueError("boom")),
        FakeWork(db, "a"),  # duplicate key: IntegrityError in its own savepoint
        FakeWork(db, "c"),
    ]

    async def main() -> list[HttpResponse]:
        first = asyncio.ensure_future(writer.submit(blocker))
        await wait_for(blocker.ran)
        rest = [asyncio.ensure_future(writer.submit(work)) for work in batch]
        await asyncio.sleep(0.05)  # all queued behind the blocker
        gate.set()
        await first
        return list(await asyncio.gather(*rest))

    with running(GroupWriter(db)) as writer:
        responses = run_async(main)
        assert writer.batches == 2  # the blocker alone, then the other four together
    assert bodies(responses) == ["a", "b: ValueError", "a: IntegrityError", "c"]
    assert committed(db) == {"blocker", "a", "c"}
    assert batch[0].committed_at_finish == {"blocker", "a", "c"}


def test_replies_wait_for_the_commit_of_the_whole_batch(db: Database) -> None:
    gate1, gate2 = threading.Event(), threading.Event()
    blocker = FakeWork(db, "blocker", gate=gate1, check=False)
    early, late = FakeWork(db, "early", check=False), FakeWork(db, "late", gate=gate2, check=False)
    commits: list[str] = []
    event.listen(db.engine, "commit", lambda conn: commits.append(threading.current_thread().name))

    async def main() -> None:
        first = asyncio.ensure_future(writer.submit(blocker))
        await wait_for(blocker.ran)
        early_reply = asyncio.ensure_future(writer.submit(early))
        late_reply = asyncio.ensure_future(writer.submit(late))
        await asyncio.sleep(0.05)
        gate1.set()
        await first
        await wait_for(late.ran)  # `early` ran before `late`, in the same transaction: not yet committed
        await asyncio.sleep(0.05)
        assert not early_reply.done()
        assert committed(db) == {"blocker"}
        gate2.set()
        assert (await early_reply).body == b"early"
        assert committed(db) == {"blocker", "early", "late"}
        await late_reply

    with running(GroupWriter(db)) as writer:
        run_async(main)
    assert [name for name in commits if name == "edgeward-writer"] == ["edgeward-writer"] * 2  # one per batch


class CommitFails(Database):
    """A database whose COMMIT fails (the transaction is rolled back, as when the fsync fails)."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        with super().transaction() as conn:
            yield conn
            raise OperationalError("COMMIT", None, Exception("disk I/O error"))


def test_a_failed_commit_answers_every_request_of_the_batch_with_an_error(db: Database) -> None:
    failing = CommitFails(db.url)
    works = [FakeWork(failing, "a"), FakeWork(failing, "b", fail=ValueError("own")), FakeWork(failing, "c")]

    async def main() -> list[HttpResponse]:
        return list(await asyncio.gather(*(writer.submit(work) for work in works)))

    with running(GroupWriter(failing)) as writer:
        responses = run_async(main)
    assert [r.status for r in responses] == [500, 500, 500]
    assert bodies(responses) == ["a: OperationalError", "b: ValueError", "c: OperationalError"]
    assert not any(work.finished for work in works)
    assert committed(db) == set()
    failing.dispose()


def test_stop_drains_the_queue_then_refuses_new_work(db: Database) -> None:
    gate = threading.Event()
    blocker = FakeWork(db, "blocker", gate=gate)
    queued = [FakeWork(db, f"w{i}") for i in range(10)]

    async def main() -> list[HttpResponse]:
        first = asyncio.ensure_future(writer.submit(blocker))
        await wait_for(blocker.ran)
        rest = [asyncio.ensure_future(writer.submit(work)) for work in queued]
        await asyncio.sleep(0.05)
        stopping = asyncio.ensure_future(asyncio.to_thread(writer.stop))
        await asyncio.sleep(0.05)
        gate.set()
        await stopping
        await first
        with pytest.raises(WriterClosed):
            await writer.submit(FakeWork(db, "too late"))
        return list(await asyncio.gather(*rest))

    writer = GroupWriter(db)
    writer.start()
    responses = run_async(main)
    assert not writer.running
    assert bodies(responses) == [f"w{i}" for i in range(10)]
    assert committed(db) == {"blocker", *(f"w{i}" for i in range(10))}


def test_a_full_queue_makes_requests_wait(db: Database) -> None:
    gate = threading.Event()
    blocker = FakeWork(db, "blocker", gate=gate)
    others = [FakeWork(db, f"w{i}") for i in range(5)]

    async def main() -> list[HttpResponse]:
        first = asyncio.ensure_future(writer.submit(blocker))
        await wait_for(blocker.ran)
        rest = [asyncio.ensure_future(writer.submit(work)) for work in others]
        await asyncio.sleep(0.05)
        assert writer._queue.qsize() == 1  # capacity 2: the blocker (running) and one queued; the rest wait
        gate.set()
        await first
        return list(await asyncio.gather(*rest))

    with running(GroupWriter(db, capacity=2)) as writer:
        responses = run_async(main)
    assert bodies(responses) == [f"w{i}" for i in range(5)]


def test_batches_are_bounded(db: Database) -> None:
    gate = threading.Event()
    blocker = FakeWork(db, "blocker", gate=gate)
    others = [FakeWork(db, f"w{i}") for i in range(10)]

    async def main() -> None:
        first = asyncio.ensure_future(writer.submit(blocker))
        await wait_for(blocker.ran)
        rest = [asyncio.ensure_future(writer.submit(work)) for work in others]
        await asyncio.sleep(0.05)
        gate.set()
        await asyncio.gather(first, *rest)

    with running(GroupWriter(db, max_batch=4)) as writer:
        run_async(main)
        assert writer.batches == 1 + 3  # 10 queued, 4 at a time
    assert len(committed(db)) == 11


def test_requests_arriving_while_the_writer_waits_for_the_write_lock_join_its_batch(db: Database) -> None:
    """Another writer (another process, the decision log) holds the lock: what queues meanwhile shares the
    next fsync instead of waiting for one more."""
    holding, release = threading.Event(), threading.Event()

    def other_writer() -> None:
        with db.transaction():
            holding.set()
            assert release.wait(WAIT)

    works = [FakeWork(db, f"w{i}") for i in range(4)]

    async def main() -> list[HttpResponse]:
        first = asyncio.ensure_future(writer.submit(works[0]))
        await asyncio.sleep(0.05)  # the writer has taken it and waits for the lock
        rest = [asyncio.ensure_future(writer.submit(work)) for work in works[1:]]
        await asyncio.sleep(0.05)
        release.set()
        return [await first, *await asyncio.gather(*rest)]

    holder = threading.Thread(target=other_writer)
    holder.start()
    try:
        assert holding.wait(WAIT)
        with running(GroupWriter(db)) as writer:
            responses = run_async(main)
            assert writer.batches == 1
    finally:
        release.set()
        holder.join()
    assert bodies(responses) == ["w0", "w1", "w2", "w3"]
    assert all(work.committed_at_finish == {"w0", "w1", "w2", "w3"} for work in works)


def test_a_lone_failing_request_rolls_its_transaction_back(db: Database) -> None:
    work = FakeWork(db, "a", fail=ValueError("boom"))
    with running(GroupWriter(db)) as writer:
        response = run_async(lambda: writer.submit(work))
    assert response.body == b"a: ValueError"
    assert committed(db) == set()


def test_work_that_needs_no_database_is_done_before_queueing(db: Database) -> None:
    seen: list[str] = []

    @dataclass
    class Prepared(FakeWork):
        def before_transaction(self) -> None:
            seen.append(threading.current_thread().name)

    work = Prepared(db, "a")
    with running(GroupWriter(db)) as writer:
        assert run_async(lambda: writer.submit(work)).body == b"a"
    assert seen == [threading.main_thread().name]  # on the event loop, not in the writer thread


# -- the real pipeline: replies through the writer are those of Pipeline.handle -------------------------------


@dataclass
class Signer:
    access_key: str
    secret_key: str

    def iam(self, action: str, **params: str) -> HttpRequest:
        body = urlencode({"Action": action, "Version": "2010-05-08", **params})
        raw = AWSRequest(
            method="POST",
            url="http://127.0.0.1:4566/",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Host": "127.0.0.1:4566"},
        )
        SigV4Auth(Credentials(self.access_key, self.secret_key), "iam", "us-east-1").add_auth(raw)
        headers = {name.lower(): str(value) for name, value in raw.headers.items()}
        return HttpRequest(method="POST", raw_path="/", headers=headers, body=body.encode(), client_ip="127.0.0.1")


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Pipeline, Signer]]:
    config = Config(data_dir=tmp_path / "data")
    prepared = prepare(config)
    pipeline = Pipeline(
        db=prepared.db,
        box=prepared.box,
        authenticator=Authenticator(db=prepared.db, box=prepared.box, account=prepared.account),
        authorizer=authorize,
        default_region="us-east-1",
    )
    monkeypatch.setattr(pipeline_module.ids, "request_id", lambda: "request-1")
    credentials = configparser.ConfigParser()
    credentials.read(config.credentials_path)
    keys = credentials["default"]
    try:
        yield pipeline, Signer(keys["aws_access_key_id"], keys["aws_secret_access_key"])
    finally:
        decisions._queue.clear()
        prepared.db.dispose()


def as_work(prepared: HttpResponse | Work) -> Work:
    assert isinstance(prepared, Work)
    assert not prepared.read_only
    return prepared


def summary(response: HttpResponse) -> tuple[int, Any, bytes]:
    return response.status, response.header("content-type"), response.body


def test_pipeline_work_in_a_batch_answers_as_handle_does(service: tuple[Pipeline, Signer]) -> None:
    pipeline, signer = service
    requests = [
        signer.iam("CreateUser", UserName="alice"),
        signer.iam("CreateUser", UserName="alice"),  # EntityAlreadyExists
        signer.iam("CreateAccessKey", UserName="alice"),
        signer.iam("CreateAccessKey", UserName="alice"),
        signer.iam("CreateAccessKey", UserName="alice"),  # LimitExceeded: two keys at most
        signer.iam("CreateUser", UserName="bad name!"),  # validation error
        signer.iam("DeleteUser", UserName="nobody"),  # NoSuchEntity
        signer.iam("CreateUser", UserName="bob"),
    ]

    async def main() -> list[HttpResponse]:
        works = [as_work(pipeline.prepare(request)) for request in requests]
        return list(await asyncio.gather(*(writer.submit(work) for work in works)))

    with running(GroupWriter(pipeline.db)) as writer:
        responses = run_async(main)
        assert writer.batches < len(requests)
    statuses = [r.status for r in responses]
    assert statuses == [200, 409, 200, 200, 409, 400, 404, 200]
    for request, response in zip(requests, responses, strict=True):
        if response.status != 200:  # the same request again, inline: the same error reply, byte for byte
            assert summary(pipeline.handle(request)) == summary(response)
    with pipeline.db.read() as conn:
        names = {row[0] for row in conn.exec_driver_sql("SELECT name FROM iam_users")}
    assert {"alice", "bob"} <= names and "bad name!" not in names


def test_parameters_parsed_before_queueing_still_answer_after_authentication(service: tuple[Pipeline, Signer]) -> None:
    """`before_transaction` parses on the event loop; a bad parameter must not be reported to a caller whose
    signature does not verify (that answer comes first, as when parsing followed authentication)."""
    pipeline, signer = service
    forged = Signer(signer.access_key, "not-the-secret")
    requests = [forged.iam("CreateUser", UserName="bad name!"), signer.iam("CreateUser", UserName="bad name!")]

    async def main() -> list[HttpResponse]:
        return [await writer.submit(as_work(pipeline.prepare(request))) for request in requests]

    with running(GroupWriter(pipeline.db)) as writer:
        forged_reply, bad_reply = run_async(main)
    assert forged_reply.status == 403 and b"SignatureDoesNotMatch" in forged_reply.body
    assert bad_reply.status == 400 and b"ValidationError" in bad_reply.body
