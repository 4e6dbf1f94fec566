"""Secrets at rest: AES-256-GCM under a key-encryption key (KEK) that never enters the database.

A token is text: `ew1.<key id>.<base64url(nonce || ciphertext || tag)>`. The header and a caller-chosen
context (e.g. `access-key/AKIA...`) are the AEAD associated data, so a token copied to another row, or
decrypted under another key, fails loudly instead of yielding the wrong secret.

The KEK comes from the operator (`EDGEWARD_KEK`, base64 of 32 bytes) or from a key file that edgeward
creates once with mode 0600. Losing it makes every stored secret unreadable: back it up apart from the
database. Nothing here ever logs or formats key or secret bytes.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import hashlib
import logging
import os
import secrets
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from edgeward.storage.errors import DecryptionError, KeyMaterialError

ENV_VAR = "EDGEWARD_KEK"
KEY_BYTES = 32
TOKEN_VERSION = "ew1"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_FORBIDDEN_MODE_BITS = stat.S_IRWXO | stat.S_IWGRP
_WARN_MODE_BITS = stat.S_IRGRP | stat.S_IXGRP

log = logging.getLogger(__name__)


class SecretBox:
    """Encrypts and decrypts small secrets (secret access keys, private keys) bound to a context."""

    __slots__ = ("_aead", "_key_id", "_readers")

    def __init__(self, kek: bytes, also_reads: Sequence[bytes] = ()) -> None:
        """`also_reads`: further KEKs whose tokens `decrypt` opens too (a key rotation re-sealing rows);
        `encrypt` always uses `kek`."""
        self._key_id, self._aead = _derive(kek)
        self._readers = dict(_derive(other) for other in also_reads)
        self._readers[self._key_id] = self._aead

    @property
    def key_id(self) -> str:
        """A short public fingerprint of the KEK, safe to log; tokens carry it."""
        return self._key_id

    def __repr__(self) -> str:
        return f"SecretBox(key_id={self._key_id!r})"

    # -- construction ------------------------------------------------------------------------------

    @classmethod
    def generate(cls) -> SecretBox:
        """A box with a fresh random key held only in memory (tests, throwaway dev servers)."""
        return cls(os.urandom(KEY_BYTES))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, name: str = ENV_VAR) -> SecretBox | None:
        """The KEK an operator supplies as base64 (standard or URL-safe) of 32 bytes; None if unset.

        A variable that is set but unusable raises KeyMaterialError (without echoing its value).
        """
        kek = kek_from_env(environ, name)
        return None if kek is None else cls(kek)

    @classmethod
    def load_or_create(cls, path: Path) -> SecretBox:
        """Load the KEK file, creating it (atomically, mode 0600) if it does not exist yet."""
        try:
            return cls(_read_key_file(path))
        except FileNotFoundError:
            pass
        _create_key_file(path)
        return cls(_read_key_file(path))

    @classmethod
    def resolve(cls, key_file: Path, environ: Mapping[str, str] | None = None) -> SecretBox:
        """`EDGEWARD_KEK` when the operator set it, else the key file (created on first start)."""
        from_env = cls.from_env(environ)
        return from_env if from_env is not None else cls.load_or_create(key_file)

    # -- use ---------------------------------------------------------------------------------------

    def encrypt(self, plaintext: bytes, context: bytes) -> str:
        """A text token for `plaintext`, decryptable only with this KEK and the same `context`."""
        header = f"{TOKEN_VERSION}.{self._key_id}"
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, _associated_data(header, context))
        return f"{header}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, token: str, context: bytes) -> bytes:
        """The plaintext of `token`; raises DecryptionError for a wrong key, wrong context or damage."""
        version, key_id, body = _split_token(token)
        aead = self._readers.get(key_id)
        if aead is None:
            raise DecryptionError(
                f"secret was encrypted under another key-encryption key (key id {key_id}); "
                f"the loaded key has id {self._key_id}"
            )
        raw = _decode_body(body)
        try:
            return aead.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _associated_data(f"{version}.{key_id}", context)
            )
        except InvalidTag:
            raise DecryptionError(
                "secret failed authentication: it belongs to another context (row) or was altered"
            ) from None


def kek_from_env(environ: Mapping[str, str] | None = None, name: str = ENV_VAR) -> bytes | None:
    """The raw KEK in environment variable `name` (base64 of 32 bytes); None if unset."""
    value = (os.environ if environ is None else environ).get(name)
    if value is None:
        return None
    try:
        return _decode_base64_key(value)
    except KeyMaterialError:
        raise KeyMaterialError(f"{name} must be base64 of {KEY_BYTES} random bytes") from None


def read_key_file(path: Path) -> bytes:
    """The raw KEK in a key file (mode checked as for the server's own)."""
    return _read_key_file(path)


def create_key_file(path: Path) -> bytes:
    """A new random KEK written to `path` (mode 0600, fsynced, never over an existing file)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not _create_exclusive(path):
        raise FileExistsError(f"{path} exists already")
    _fsync_directory(path.parent)
    return _read_key_file(path)


def replace_key_file(new: Path, path: Path) -> None:
    """Put the key file `new` in place of `path` atomically (rename, then fsync the directory)."""
    os.replace(new, path)
    _fsync_directory(path.parent)


def _derive(kek: bytes) -> tuple[str, AESGCM]:
    """A KEK's public id and its AEAD. The AEAD key is derived, so the KEK itself could later serve other
    purposes without key reuse."""
    if len(kek) != KEY_BYTES:
        raise KeyMaterialError(f"a key-encryption key must be {KEY_BYTES} bytes, got {len(kek)}")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"edgeward secretbox v1")
    return hashlib.sha256(b"edgeward kek id\0" + kek).hexdigest()[:8], AESGCM(hkdf.derive(kek))


def _associated_data(header: str, context: bytes) -> bytes:
    if not context:
        raise ValueError("a secret needs a non-empty context to bind it to its row")
    return header.encode("ascii") + b"\0" + context


def _split_token(token: str) -> tuple[str, str, str]:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_VERSION:
        raise DecryptionError(f"not an edgeward {TOKEN_VERSION} secret token")
    return parts[0], parts[1], parts[2]


def _decode_body(body: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(body.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise DecryptionError("secret token body is not valid base64") from None
    if len(raw) < _NONCE_BYTES + _TAG_BYTES:
        raise DecryptionError("secret token is truncated")
    return raw


def _decode_base64_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip().replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise KeyMaterialError("key is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyMaterialError(f"key must decode to {KEY_BYTES} bytes")
    return key


# -- the key file ----------------------------------------------------------------------------------


def _read_key_file(path: Path) -> bytes:
    """Raw 32 bytes or their base64; refuses files others can read or anyone else can write."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        _check_key_file_mode(path, os.fstat(fd))
        content = os.read(fd, 256)
    finally:
        os.close(fd)
    if len(content) == KEY_BYTES:
        return content
    try:
        return _decode_base64_key(content.decode("ascii"))
    except (UnicodeDecodeError, KeyMaterialError):
        raise KeyMaterialError(
            f"key file {path} must hold {KEY_BYTES} raw bytes or their base64; it holds something else"
        ) from None


def _check_key_file_mode(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise KeyMaterialError(f"key file {path} is not a regular file")
    mode = stat.S_IMODE(info.st_mode)
    if mode & _FORBIDDEN_MODE_BITS:
        raise KeyMaterialError(f"key file {path} is accessible to other users (mode {mode:04o}); run: chmod 600 {path}")
    if mode & _WARN_MODE_BITS:
        log.warning("key file %s is readable by its group (mode %04o); prefer chmod 600", path, mode)


def _create_key_file(path: Path) -> None:
    """Write a fresh key next to `path`, then hard-link it into place: atomic, and never overwrites.

    If another process creates the file first, its key wins and ours is discarded, so concurrent
    first starts agree on one key.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    _write_private_file(tmp, os.urandom(KEY_BYTES))
    try:
        os.link(tmp, path)
        created = True
    except FileExistsError:
        created = False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
            raise
        created = _create_exclusive(path)  # a filesystem without hard links
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_directory(path.parent)
    if created:
        log.warning(
            "created key-encryption key file %s; back it up apart from the database: "
            "without it no stored secret can be decrypted",
            path,
        )


def _create_exclusive(path: Path) -> bool:
    try:
        _write_private_file(path, os.urandom(KEY_BYTES))
    except FileExistsError:
        return False
    return True


def _write_private_file(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # exactly 0600 whatever the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):  # some platforms cannot open directories
        fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
