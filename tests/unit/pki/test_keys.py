"""Device keys: the PEM forms AWS returns, and the key pool (fills in the background, hands each key out once,
safe under concurrent use)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from edgeward.pki.keys import KeyPool, ProcessLoad, generate_rsa_key, private_key_pem, public_key_pem


def modulus(key: rsa.RSAPrivateKey) -> int:
    return key.public_key().public_numbers().n


def test_pem_forms_match_aws() -> None:
    key = generate_rsa_key()
    private = private_key_pem(key)
    assert private.startswith("-----BEGIN RSA PRIVATE KEY-----\n")  # PKCS#1, as CreateKeysAndCertificate
    loaded = serialization.load_pem_private_key(private.encode(), password=None)
    assert isinstance(loaded, rsa.RSAPrivateKey) and loaded.key_size == 2048
    assert modulus(loaded) == modulus(key)
    public = public_key_pem(key)
    assert public.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert public == public_key_pem(key.public_key())
    ec_key = ec.generate_private_key(ec.SECP256R1())
    assert private_key_pem(ec_key).startswith("-----BEGIN PRIVATE KEY-----\n")


def test_take_without_start_generates_on_demand() -> None:
    pool = KeyPool(size=3)
    assert len(pool) == 0
    key = pool.take()
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert len(pool) == 0


def test_pool_fills_to_size_and_refills_after_take() -> None:
    pool = KeyPool(size=3, bits=2048)
    pool.start()
    try:
        assert pool.wait_until_full(timeout=120)
        assert len(pool) == 3
        taken = [pool.take() for _ in range(3)]
        assert len({modulus(key) for key in taken}) == 3
        assert pool.wait_until_full(timeout=120)  # the background thread made new ones
        again = {modulus(pool.take()) for _ in range(3)}
        assert again.isdisjoint(modulus(key) for key in taken)
    finally:
        pool.stop()
    assert len(pool) == 0  # stop forgets the ready keys


def pool_threads() -> int:
    return sum(thread.name == "edgeward-keypool" for thread in threading.enumerate())


def test_start_twice_runs_one_thread_and_stop_ends_it() -> None:
    before = pool_threads()
    pool = KeyPool(size=1)
    pool.start()
    pool.start()
    assert pool_threads() == before + 1
    pool.stop()
    assert pool_threads() == before
    assert pool.wait_until_full(timeout=1)  # returns at once once stopping
    pool.stop()  # idempotent


def test_concurrent_takes_never_share_a_key() -> None:
    pool = KeyPool(size=6)
    pool.start()
    try:
        assert pool.wait_until_full(timeout=120)
        with ThreadPoolExecutor(max_workers=4) as executor:
            keys = list(executor.map(lambda _: pool.take(), range(10)))  # more than the pool holds
    finally:
        pool.stop()
    assert len({modulus(key) for key in keys}) == 10


def test_zero_sized_pool_only_generates_on_demand() -> None:
    pool = KeyPool(size=0)
    pool.start()
    try:
        assert pool.wait_until_full(timeout=1)
        assert isinstance(pool.take(), rsa.RSAPrivateKey)
    finally:
        pool.stop()


class SwitchLoad(ProcessLoad):
    """A load meter the test sets: busy or not, and how often the pool has looked."""

    def __init__(self) -> None:
        super().__init__()
        self.is_busy = True
        self.looked = threading.Semaphore(0)

    def busy(self) -> bool:
        self.looked.release()
        return self.is_busy


def test_pool_waits_while_the_process_is_busy_then_fills() -> None:
    load = SwitchLoad()
    pool = KeyPool(size=2, load=load)
    pool.start()
    try:
        for _ in range(5):  # the first key, then four looks while busy
            assert load.looked.acquire(timeout=120)
        assert len(pool) == 1  # made before the pool knew the process was busy; none since
        load.is_busy = False
        assert pool.wait_until_full(timeout=120)
    finally:
        pool.stop()


def test_process_load_counts_other_threads_cpu_only() -> None:
    own = ProcessLoad(busy_cores=0.5)
    own.start()
    generate_rsa_key()  # this thread's own CPU does not count
    assert not own.busy()
    other = ProcessLoad(busy_cores=0.05)  # low: on a loaded machine the other thread gets less than a core
    spinner = threading.Thread(target=lambda: [generate_rsa_key() for _ in range(3)])
    other.start()
    spinner.start()
    spinner.join()
    assert other.busy()  # the other thread used CPU while this one only waited
