"""SecretBox: AES-256-GCM tokens bound to a context, under a KEK kept outside the database."""

from __future__ import annotations

import base64
import logging
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from edgeward.storage.errors import DecryptionError, KeyMaterialError
from edgeward.storage.secrets import ENV_VAR, SecretBox


def test_round_trip() -> None:
    box = SecretBox.generate()
    token = box.encrypt(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", b"access-key/AKIA1")
    assert token.startswith(f"ew1.{box.key_id}.")
    assert b"wJalr" not in token.encode()
    assert box.decrypt(token, b"access-key/AKIA1") == b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_same_plaintext_encrypts_differently() -> None:
    box = SecretBox.generate()
    assert box.encrypt(b"x", b"ctx") != box.encrypt(b"x", b"ctx")


def test_wrong_context_fails() -> None:
    box = SecretBox.generate()
    token = box.encrypt(b"secret", b"access-key/AKIA1")
    with pytest.raises(DecryptionError, match="another context"):
        box.decrypt(token, b"access-key/AKIA2")


def test_wrong_key_fails() -> None:
    token = SecretBox.generate().encrypt(b"secret", b"ctx")
    with pytest.raises(DecryptionError, match="another key-encryption key"):
        SecretBox.generate().decrypt(token, b"ctx")


def test_forged_key_id_still_fails() -> None:
    box, other = SecretBox.generate(), SecretBox.generate()
    token = other.encrypt(b"secret", b"ctx").replace(other.key_id, box.key_id)
    with pytest.raises(DecryptionError):
        box.decrypt(token, b"ctx")


@pytest.mark.parametrize("token", ["", "nonsense", "ew2.abcd.AAAA", "ew1.x.!!!", "ew1.x.AAAA"])
def test_malformed_tokens_fail_clearly(token: str) -> None:
    box = SecretBox.generate()
    with pytest.raises(DecryptionError):
        box.decrypt(token.replace("x", box.key_id), b"ctx")


def test_tampered_token_fails() -> None:
    box = SecretBox.generate()
    header, _, body = box.encrypt(b"secret", b"ctx").rpartition(".")
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[-1] ^= 1
    with pytest.raises(DecryptionError):
        box.decrypt(f"{header}.{base64.urlsafe_b64encode(bytes(raw)).decode()}", b"ctx")


def test_empty_context_is_refused() -> None:
    with pytest.raises(ValueError):
        SecretBox.generate().encrypt(b"secret", b"")


def test_repr_shows_only_the_key_id() -> None:
    key = os.urandom(32)
    box = SecretBox(key)
    assert repr(box) == f"SecretBox(key_id={box.key_id!r})"
    assert key.hex() not in repr(box) and base64.b64encode(key).decode() not in repr(box)


def test_key_file_is_created_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "kek"
    first = SecretBox.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_size == 32
    second = SecretBox.load_or_create(path)
    assert second.key_id == first.key_id
    assert second.decrypt(first.encrypt(b"s", b"c"), b"c") == b"s"
    assert [p.name for p in path.parent.iterdir()] == ["kek"]  # no temp files left behind


def test_key_file_ignores_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        SecretBox.load_or_create(tmp_path / "kek")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "kek").stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o620, 0o666])
def test_key_file_accessible_to_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "kek"
    path.write_bytes(os.urandom(32))
    path.chmod(mode)
    with pytest.raises(KeyMaterialError, match="chmod 600"):
        SecretBox.load_or_create(path)


def test_group_readable_key_file_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "kek"
    key = os.urandom(32)
    path.write_bytes(key)
    path.chmod(0o640)
    with caplog.at_level(logging.WARNING, logger="edgeward.storage.secrets"):
        box = SecretBox.load_or_create(path)
    assert box.key_id == SecretBox(key).key_id
    assert "readable by its group" in caplog.text


def test_key_file_may_hold_base64(tmp_path: Path) -> None:
    key = os.urandom(32)
    path = tmp_path / "kek"
    path.write_text(base64.b64encode(key).decode() + "\n")
    path.chmod(0o600)
    assert SecretBox.load_or_create(path).key_id == SecretBox(key).key_id


def test_corrupt_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kek"
    path.write_bytes(b"short")
    path.chmod(0o600)
    with pytest.raises(KeyMaterialError, match="must hold 32 raw bytes"):
        SecretBox.load_or_create(path)


def _create_key(path: str, queue: multiprocessing.Queue[str]) -> None:
    queue.put(SecretBox.load_or_create(Path(path)).key_id)


def test_concurrent_first_starts_agree_on_one_key(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[str] = ctx.Queue()
    procs = [ctx.Process(target=_create_key, args=(str(tmp_path / "kek"), queue)) for _ in range(6)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(30)
        assert proc.exitcode == 0
    key_ids = {queue.get(timeout=5) for _ in procs}
    assert len(key_ids) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["kek"]


def test_from_env() -> None:
    key = os.urandom(32)
    for encoded in (base64.b64encode(key).decode(), base64.urlsafe_b64encode(key).decode()):
        box = SecretBox.from_env({ENV_VAR: encoded})
        assert box is not None and box.key_id == SecretBox(key).key_id


@pytest.mark.parametrize("value", ["", "not base64!", base64.b64encode(b"x" * 16).decode()])
def test_from_env_rejects_bad_keys_without_echoing_them(value: str) -> None:
    with pytest.raises(KeyMaterialError) as info:
        SecretBox.from_env({ENV_VAR: value})
    assert ENV_VAR in str(info.value)
    if value:
        assert value not in str(info.value)


def test_from_env_unset_is_none() -> None:
    assert SecretBox.from_env({}) is None


def test_resolve_prefers_the_operator_key(tmp_path: Path) -> None:
    key = os.urandom(32)
    box = SecretBox.resolve(tmp_path / "kek", {ENV_VAR: base64.b64encode(key).decode()})
    assert box.key_id == SecretBox(key).key_id
    assert not (tmp_path / "kek").exists()
    assert SecretBox.resolve(tmp_path / "kek", {}).key_id != box.key_id
    assert (tmp_path / "kek").exists()


def test_a_box_also_reading_an_old_key_opens_both_and_seals_with_its_own() -> None:
    old_kek, new_kek = os.urandom(32), os.urandom(32)
    old, new = SecretBox(old_kek), SecretBox(new_kek)
    rotating = SecretBox(new_kek, also_reads=[old_kek])
    from_old, from_new = old.encrypt(b"secret", b"row/1"), new.encrypt(b"other", b"row/2")
    assert rotating.decrypt(from_old, b"row/1") == b"secret"
    assert rotating.decrypt(from_new, b"row/2") == b"other"
    sealed = rotating.encrypt(b"again", b"row/3")
    assert sealed.split(".")[1] == new.key_id == rotating.key_id
    assert new.decrypt(sealed, b"row/3") == b"again"
    with pytest.raises(DecryptionError):
        old.decrypt(sealed, b"row/3")
    with pytest.raises(DecryptionError):  # the context still binds a token to its row
        rotating.decrypt(from_old, b"row/2")
