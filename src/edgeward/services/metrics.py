"""Events worth counting that happen inside the services: authorization decisions, credential exchanges,
certificates issued.

Services call these functions; they know nothing of Prometheus. The server plugs real counters in at start-up
(`server.metrics.install`); until then (unit tests, the CLI) each call is a dictionary look-up and a no-op.

Certificates created by the IoT operations (CreateKeysAndCertificate, CreateCertificateFromCsr, ...) are counted
by the server from their committed replies; code that issues certificates another way calls
`certificate_issued` after its transaction committed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Incrementable(Protocol):
    def inc(self, amount: float = 1) -> None: ...


class _Nothing:
    def inc(self, amount: float = 1) -> None:
        return None


_NOTHING = _Nothing()


def _nothing(label: str) -> Incrementable:
    return _NOTHING


# The counters behind each event; replaced as a whole by `install`.
_decisions: dict[bool, Incrementable] = {True: _NOTHING, False: _NOTHING}
_exchange: Callable[[str], Incrementable] = _nothing
_certificate: Callable[[str], Incrementable] = _nothing
_device_key: Callable[[str], Incrementable] = _nothing


def _ignore(ready: int) -> None:
    return None


_pool_level: Callable[[int], None] = _ignore


def authorization_decision(allowed: bool) -> None:
    """One authorization decision (`ctx.authorize`, PassRole, resource and trust policies)."""
    _decisions[allowed].inc()


def credential_exchange(outcome: str) -> None:
    """One request to the mTLS credentials provider: `issued`, or the error type it was refused with."""
    _exchange(outcome).inc()


def certificate_issued(source: str) -> None:
    """One certificate issued by the installation's CA or registered; `source` is the operation."""
    _certificate(source).inc()


def device_key(source: str) -> None:
    """One key pair handed out by CreateKeysAndCertificate: `pool` (made ahead) or `on_demand` (the pool was
    empty: the caller waited for an RSA key to be generated; a large count says the pool is too small)."""
    _device_key(source).inc()


def key_pool_level(ready: int) -> None:
    """The number of keys this process's pool holds ready, after each change."""
    _pool_level(ready)


def install(
    decisions: dict[bool, Incrementable],
    exchange: Callable[[str], Incrementable],
    certificate: Callable[[str], Incrementable],
    device_key: Callable[[str], Incrementable] = _nothing,
    pool_level: Callable[[int], None] = _ignore,
) -> None:
    """Route the events to real counters (the server, once per worker process)."""
    global _decisions, _exchange, _certificate, _device_key, _pool_level
    _decisions, _exchange, _certificate, _device_key = dict(decisions), exchange, certificate, device_key
    _pool_level = pool_level
