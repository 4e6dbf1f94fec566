"""The CA in the database (SQLite and PostgreSQL): sealed keys, one pair per installation under concurrent first
starts, and the per-process cache the IoT operations read through."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from edgeward.core.errors import ServiceError
from edgeward.core.principal import Principal, PrincipalKind
from edgeward.pki.authority import CertificateAuthority, create_issuing, create_root
from edgeward.services.context import Context
from edgeward.services.iot import authority as iot_authority
from edgeward.storage.database import Database
from edgeward.storage.errors import DecryptionError, StorageError
from edgeward.storage.repos.authorities import (
    Authorities,
    load_authorities,
    save_authorities,
    sealed_authorities,
)
from edgeward.storage.secrets import SecretBox
from edgeward.storage.tables_pki import pki_authorities
from tests.unit.pki.conftest import NOW


def new_pair(label: str) -> tuple[CertificateAuthority, CertificateAuthority]:
    root = create_root(f"root {label}", now=NOW)
    return root, create_issuing(root, f"issuing {label}", now=NOW)


def same(a: CertificateAuthority, b: CertificateAuthority) -> bool:
    return a.certificate == b.certificate and a.key.private_numbers() == b.key.private_numbers()


def test_save_then_load_round_trips_with_keys_sealed(database: Database) -> None:
    box = SecretBox.generate()
    root, issuing = new_pair("a")
    with database.transaction() as conn:
        assert save_authorities(conn, box, root, issuing)
    with database.read() as conn:
        loaded = load_authorities(conn, box)
        rows = conn.execute(select(pki_authorities.c.kind, pki_authorities.c.key_ciphertext)).all()
    assert loaded is not None
    assert same(loaded.root, root) and same(loaded.issuing, issuing)
    assert loaded.bundle_pem() == root.certificate_pem() + issuing.certificate_pem()
    assert {kind for kind, _ in rows} == {"root", "issuing"}
    assert all(token.startswith("ew1.") and "PRIVATE" not in token for _, token in rows)


def test_load_before_first_start_is_none(database: Database) -> None:
    with database.read() as conn:
        assert load_authorities(conn, SecretBox.generate()) is None


def test_second_save_keeps_the_first_pair(database: Database) -> None:
    box = SecretBox.generate()
    first, second = new_pair("first"), new_pair("second")
    with database.transaction() as conn:
        assert save_authorities(conn, box, *first)
    with database.transaction() as conn:
        assert not save_authorities(conn, box, *second)
        loaded = load_authorities(conn, box)
    assert loaded is not None and same(loaded.root, first[0]) and same(loaded.issuing, first[1])


def test_a_sealed_key_is_bound_to_its_row(database: Database) -> None:
    box = SecretBox.generate()
    with database.transaction() as conn:
        save_authorities(conn, box, *new_pair("a"))
        root_token = sealed_authorities(conn)["root"].key_ciphertext
        conn.execute(
            update(pki_authorities).where(pki_authorities.c.kind == "issuing").values(key_ciphertext=root_token)
        )
    with database.read() as conn, pytest.raises(DecryptionError):
        load_authorities(conn, box)
    with database.read() as conn, pytest.raises(DecryptionError):
        load_authorities(conn, SecretBox.generate())  # another key-encryption key


def test_half_an_installation_is_an_error(database: Database) -> None:
    box = SecretBox.generate()
    with database.transaction() as conn:
        save_authorities(conn, box, *new_pair("a"))
        conn.execute(pki_authorities.delete().where(pki_authorities.c.kind == "issuing"))
    with database.read() as conn, pytest.raises(StorageError, match="issuing certificate authority is missing"):
        load_authorities(conn, box)
    with database.transaction() as conn, pytest.raises(StorageError, match="only one of its two"):
        save_authorities(conn, box, *new_pair("b"))


def test_the_database_allows_only_known_kinds(database: Database) -> None:
    with pytest.raises(IntegrityError), database.transaction() as conn:
        conn.execute(
            pki_authorities.insert().values(kind="other", certificate_pem="x", key_ciphertext="y", created_at=NOW)
        )


def test_concurrent_first_starts_agree_on_one_pair(database: Database) -> None:
    """Every racer ends up with the same CA, whichever commit won."""
    box = SecretBox.generate()
    racers = 4
    barrier = threading.Barrier(racers)
    results: list[tuple[bool, Authorities]] = []
    lock = threading.Lock()

    def first_start(label: str) -> None:
        pair = new_pair(label)
        barrier.wait()
        with database.transaction() as conn:
            created = save_authorities(conn, box, *pair)
            loaded = load_authorities(conn, box)
        assert loaded is not None
        with lock:
            results.append((created, loaded))

    threads = [threading.Thread(target=first_start, args=(str(n),)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(created for created, _ in results) == 1
    assert len({loaded.root.certificate for _, loaded in results}) == 1
    assert len({loaded.issuing.certificate for _, loaded in results}) == 1


@contextmanager
def handler_context(database: Database, box: SecretBox) -> Iterator[Context]:
    principal = Principal(PrincipalKind.ROOT, "123456789012", "arn:aws:iam::123456789012:root", "123456789012", "", "")
    conn: Connection
    with database.read() as conn:
        yield Context(principal, "us-east-1", "req", "iot", "CreateKeysAndCertificate", conn, box, lambda *a: None)


def test_service_reads_the_authorities_through_a_cache_that_sees_a_new_ca(database: Database) -> None:
    box = SecretBox.generate()
    with handler_context(database, box) as ctx, pytest.raises(ServiceError) as missing:
        iot_authority.issuing_authority(ctx)
    assert missing.value.status == 503 and "not initialised" in missing.value.message
    root, issuing = new_pair("one")
    with database.transaction() as conn:
        save_authorities(conn, box, root, issuing)
    with handler_context(database, box) as ctx:
        first = iot_authority.issuing_authority(ctx)
        assert same(first, issuing) and same(iot_authority.root_authority(ctx), root)
        assert iot_authority.issuing_authority(ctx) is first  # decrypted once
    database.wipe()  # what a dev-mode reset does; a new CA follows
    root2, issuing2 = new_pair("two")
    with database.transaction() as conn:
        save_authorities(conn, box, root2, issuing2)
    with handler_context(database, box) as ctx:
        assert same(iot_authority.issuing_authority(ctx), issuing2)


def test_key_pool_is_one_per_process() -> None:
    iot_authority.configure_key_pool(2)
    try:
        pool = iot_authority.key_pool()
        assert iot_authority.key_pool() is pool and pool.size == 2
        assert pool.take().key_size == 2048
    finally:
        iot_authority.configure_key_pool(iot_authority.DEFAULT_KEY_POOL_SIZE)
