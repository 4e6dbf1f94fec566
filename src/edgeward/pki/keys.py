"""Device key pairs: RSA generation, a pool of keys generated ahead of demand, and their PEM forms.

RSA-2048 generation takes tens of milliseconds of CPU with a wide spread; CreateKeysAndCertificate would
otherwise pay it on every call. The pool keeps keys in this process's memory only and hands each key out
once. It belongs to one process: after a fork the child must build its own (see `KeyPool.owner_pid`), or
two processes would hand out the same key.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

DeviceKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
RSA_PUBLIC_EXPONENT = 65537
_LOWEST_PRIORITY = 19
BUSY_CORES = 0.25  # the process's other threads using more CPU than this: busy, the pool waits
IDLE_CHECK_SECONDS = 0.1  # while busy, how often the pool looks again
TAKE_QUIET_SECONDS = 0.5  # no key taken for this long: a burst of CreateKeysAndCertificate is over

log = logging.getLogger("edgeward.pki.keys")


def generate_rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=bits)


def private_key_pem(key: DeviceKey) -> str:
    """PKCS#1 (`BEGIN RSA PRIVATE KEY`) for RSA, as AWS's CreateKeysAndCertificate returns; PKCS#8 otherwise."""
    key_format = (
        serialization.PrivateFormat.TraditionalOpenSSL
        if isinstance(key, rsa.RSAPrivateKey)
        else serialization.PrivateFormat.PKCS8
    )
    return key.private_bytes(serialization.Encoding.PEM, key_format, serialization.NoEncryption()).decode("ascii")


def public_key_pem(key: DeviceKey | rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> str:
    """`BEGIN PUBLIC KEY` (SubjectPublicKeyInfo), as AWS returns the public half."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(
        "ascii"
    )


class KeyPool:
    """Up to `size` RSA keys generated ahead of time by a low-priority daemon thread; thread-safe.

    The thread refills only while the process is idle: no key taken for `TAKE_QUIET_SECONDS` and its other
    threads using little CPU (`ProcessLoad`). During a burst the cores serve the burst (a caller that finds
    the pool empty generates its key itself), and the pool fills up again once the burst is over. A low
    nice value alone does not do that: with the kernel's autogroups, a service in its own session competes
    as a whole with the rest of the machine, and the pool's thread would take whatever CPU share the
    request threads leave while they wait.
    """

    def __init__(
        self,
        size: int = 200,
        bits: int = 2048,
        load: ProcessLoad | None = None,
        on_level: Callable[[int], None] | None = None,
    ) -> None:
        if size < 0:
            raise ValueError("a key pool's size cannot be negative")
        self.size = size
        self.bits = bits
        self.load = load or ProcessLoad()
        self.on_level = on_level  # told the number of ready keys after each change (a metrics gauge)
        self._last_take = float("-inf")
        self.owner_pid = os.getpid()
        self._keys: collections.deque[rsa.RSAPrivateKey] = collections.deque()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def __len__(self) -> int:
        with self._changed:
            return len(self._keys)

    def take(self) -> rsa.RSAPrivateKey:
        """A ready key if there is one (never handed out again), else one generated now."""
        return self.take_counted()[0]

    def take_counted(self) -> tuple[rsa.RSAPrivateKey, bool]:
        """`take`, and whether the key came from the pool (False: generated now, the pool was empty)."""
        with self._changed:
            key = self._keys.popleft() if self._keys else None
            self._last_take = time.monotonic()
            self._changed.notify_all()
            self._tell_level()
        return (key, True) if key is not None else (generate_rsa_key(self.bits), False)

    def start(self) -> None:
        """Start refilling in the background; a no-op when already running."""
        with self._changed:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._refill, name="edgeward-keypool", daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop refilling (the key being generated is finished first) and forget the ready keys."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._changed:
            self._keys.clear()
            self._tell_level()

    def wait_until_full(self, timeout: float | None = None) -> bool:
        """For benchmarks and tests: block until the pool holds `size` keys (False on timeout)."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._keys) >= self.size or self._stopping, timeout)

    def _refill(self) -> None:
        _lower_this_threads_priority()
        busy = False  # whether the process was busy while the last key was made
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stopping or len(self._keys) < self.size)
                while not self._stopping and (busy or self._taken_lately()):  # wait for a quiet interval
                    self.load.start()
                    self._changed.wait(IDLE_CHECK_SECONDS)
                    busy = self.load.busy()
                if self._stopping:
                    return
            self.load.start()
            try:
                key = generate_rsa_key(self.bits)
            except Exception:  # never let the pool thread die silently; take() still generates inline
                log.exception("key pool: RSA key generation failed")
                return
            busy = self.load.busy()
            with self._changed:
                if self._stopping:
                    return
                self._keys.append(key)
                self._changed.notify_all()
                self._tell_level()

    def _taken_lately(self) -> bool:
        """A key was taken within `TAKE_QUIET_SECONDS`: a burst may be on, whose callers want the CPU."""
        return time.monotonic() - self._last_take < TAKE_QUIET_SECONDS

    def _tell_level(self) -> None:
        """With the lock held (so levels are told in order)."""
        if self.on_level is not None:
            self.on_level(len(self._keys))


class ProcessLoad:
    """How busy this process's other threads were since `start()`, as seen from the thread measuring: the
    process's CPU time less this thread's own, per second of wall time."""

    def __init__(self, busy_cores: float = BUSY_CORES) -> None:
        self.busy_cores = busy_cores
        self._since = (0.0, 0.0, 0.0)

    def start(self) -> None:
        self._since = (time.monotonic(), time.process_time(), time.thread_time())

    def cores(self) -> float:
        wall, process, own = self._since
        elapsed = time.monotonic() - wall
        if elapsed <= 0:
            return 0.0
        return max(0.0, (time.process_time() - process) - (time.thread_time() - own)) / elapsed

    def busy(self) -> bool:
        return self.cores() > self.busy_cores


def _lower_this_threads_priority() -> None:
    """On Linux a thread has its own nice value: request handling keeps the CPU when both want it."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _LOWEST_PRIORITY)
