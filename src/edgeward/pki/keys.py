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

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

DeviceKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
RSA_PUBLIC_EXPONENT = 65537
_LOWEST_PRIORITY = 19

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
    """Up to `size` RSA keys generated ahead of time by a low-priority daemon thread; thread-safe."""

    def __init__(self, size: int = 200, bits: int = 2048) -> None:
        if size < 0:
            raise ValueError("a key pool's size cannot be negative")
        self.size = size
        self.bits = bits
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
        with self._changed:
            key = self._keys.popleft() if self._keys else None
            self._changed.notify_all()
        return key if key is not None else generate_rsa_key(self.bits)

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

    def wait_until_full(self, timeout: float | None = None) -> bool:
        """For benchmarks and tests: block until the pool holds `size` keys (False on timeout)."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._keys) >= self.size or self._stopping, timeout)

    def _refill(self) -> None:
        _lower_this_threads_priority()
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stopping or len(self._keys) < self.size)
                if self._stopping:
                    return
            try:
                key = generate_rsa_key(self.bits)
            except Exception:  # never let the pool thread die silently; take() still generates inline
                log.exception("key pool: RSA key generation failed")
                return
            with self._changed:
                if self._stopping:
                    return
                self._keys.append(key)
                self._changed.notify_all()


def _lower_this_threads_priority() -> None:
    """On Linux a thread has its own nice value: request handling keeps the CPU when both want it."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _LOWEST_PRIORITY)
