"""The CA and the device-key pool as IoT's certificate operations use them.

The authorities are decrypted once per process and cached under their sealed key's ciphertext: every row ever
written has a different one (random nonce), so another database, a re-created CA or a dev-mode reset is seen
on the next call (one primary-key read per call) and never served a stale CA.
"""

from __future__ import annotations

import os
import threading

from edgeward.core.errors import ServiceError
from edgeward.pki.authority import CertificateAuthority
from edgeward.pki.keys import KeyPool
from edgeward.services import metrics
from edgeward.services.context import Context
from edgeward.storage.repos.authorities import ISSUING, ROOT, open_authority, sealed_authority

DEFAULT_KEY_POOL_SIZE = 200
_CACHE_LIMIT = 8  # a process sees one CA pair in production; tests may see a few databases

_lock = threading.Lock()
_opened: dict[str, CertificateAuthority] = {}
_pool: KeyPool | None = None
_pool_size = DEFAULT_KEY_POOL_SIZE


def issuing_authority(ctx: Context) -> CertificateAuthority:
    """The CA that signs device certificates."""
    return _authority(ctx, ISSUING)


def root_authority(ctx: Context) -> CertificateAuthority:
    return _authority(ctx, ROOT)


def key_pool() -> KeyPool:
    """This process's pool of pre-generated RSA-2048 device keys, refilling in the background once first used.

    A pool inherited through fork is dropped, never used: its keys are already in the parent's hands.
    """
    global _pool
    pool = _pool
    if pool is not None and pool.owner_pid == os.getpid():
        return pool
    with _lock:
        if _pool is None or _pool.owner_pid != os.getpid():
            _pool = KeyPool(size=_pool_size, on_level=metrics.key_pool_level)
            _pool.start()
        return _pool


def configure_key_pool(size: int) -> None:
    """Set the pool size before first use (the server's configuration; 0 generates every key on demand)."""
    global _pool_size, _pool
    with _lock:
        _pool_size = size
        old, _pool = _pool, None
    if old is not None:
        old.stop()


def _authority(ctx: Context, kind: str) -> CertificateAuthority:
    sealed = sealed_authority(ctx.conn, kind)
    if sealed is None:
        raise ServiceError(
            "ServiceUnavailableException",
            "The certificate authority is not initialised; restart edgeward serve to create it.",
            503,
            sender_fault=False,
        )
    cached = _opened.get(sealed.key_ciphertext)
    if cached is not None:
        return cached
    authority = open_authority(ctx.secrets, sealed)
    with _lock:
        if len(_opened) >= _CACHE_LIMIT:
            _opened.clear()
        _opened[sealed.key_ciphertext] = authority
    return authority
