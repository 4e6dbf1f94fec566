"""TLS contexts of the credentials provider's listener: mutual TLS, TLS 1.2 and 1.3.

Python's `ssl` has no per-certificate verify callback, so the trust decision is made by OpenSSL from a
store: edgeward's CAs, the ACTIVE registered CAs, and the ACTIVE certificates registered without a CA, with
`VERIFY_X509_PARTIAL_CHAIN` so that an issuing CA, or a leaf itself, can be an anchor. The store changes
when certificates are registered or deactivated; rather than mutate a live context (OpenSSL stores only
grow), `ListenerTls` builds a new context for the new set. The listening socket keeps its first context,
whose SNI callback (OpenSSL calls it on every ClientHello, with or without a server name) switches each new
connection to the newest one; OpenSSL then verifies the client against the switched-to context's store.
Open connections keep the store they were accepted with (their certificate is still checked on every
request).
"""

from __future__ import annotations

import os
import ssl
import tempfile
from pathlib import Path

from edgeward.credentials.anchors import TrustAnchors

HANDSHAKE_TIMEOUT = 10.0


def server_context(chain_pem: bytes, key_pem: bytes, anchors: TrustAnchors) -> ssl.SSLContext:
    """A server context that requires a client certificate chaining to (or being) one of `anchors`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_TRUSTED_FIRST
    context.set_alpn_protocols(["http/1.1"])
    _load_chain(context, chain_pem, key_pem)
    context.load_verify_locations(cadata=anchors.bundle)
    return context


def _load_chain(context: ssl.SSLContext, chain_pem: bytes, key_pem: bytes) -> None:
    """`load_cert_chain` reads only files: write them to a private directory for the moment it takes."""
    with tempfile.TemporaryDirectory(prefix="edgeward-mtls-") as directory:
        chain_path, key_path = Path(directory) / "chain.pem", Path(directory) / "key.pem"
        for path, data in ((chain_path, chain_pem), (key_path, key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        context.load_cert_chain(chain_path, key_path)


class ListenerTls:
    """The context new connections are accepted with; `update` swaps it when the trusted set changed."""

    def __init__(self, chain_pem: bytes, key_pem: bytes, anchors: TrustAnchors) -> None:
        self._chain_pem = chain_pem
        self._key_pem = key_pem
        self._anchors = anchors
        self._current = server_context(chain_pem, key_pem, anchors)
        self._listening = self._current
        self._listening.sni_callback = self._switch

    @property
    def context(self) -> ssl.SSLContext:
        """The context to listen with (it hands each connection over to the newest one)."""
        return self._listening

    @property
    def current(self) -> ssl.SSLContext:
        return self._current

    def _switch(self, connection: ssl.SSLObject, server_name: str | None, context: ssl.SSLContext) -> None:
        if connection.context is not self._current:
            connection.context = self._current

    @property
    def anchors(self) -> TrustAnchors:
        return self._anchors

    def update(self, anchors: TrustAnchors) -> bool:
        """Use `anchors` for new connections; False (and nothing rebuilt) when the set is the same."""
        if anchors.fingerprint == self._anchors.fingerprint:
            return False
        self._current = server_context(self._chain_pem, self._key_pem, anchors)
        self._anchors = anchors
        return True
