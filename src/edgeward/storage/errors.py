"""Storage-level errors. The service layer maps them to the AWS error of its operation."""

from __future__ import annotations


class StorageError(Exception):
    """Base class of everything the storage layer raises on purpose."""


class AlreadyExists(StorageError):
    """A uniqueness rule the database enforces was hit (e.g. a user name taken, case-insensitively)."""


class NotFound(StorageError):
    """The row to change or delete does not exist (or belongs to another owner)."""


class QuotaExceeded(StorageError):
    """A per-owner limit the database enforces is full (e.g. two access keys per user)."""


class InUse(StorageError):
    """The row still has dependents (e.g. a user with access keys), so it cannot be deleted."""


class SecretError(StorageError):
    """Key material or an encrypted secret is unusable. Messages never contain key or secret bytes."""


class KeyMaterialError(SecretError):
    """The key-encryption key could not be loaded or created safely."""


class DecryptionError(SecretError):
    """A token cannot be decrypted: malformed, another key, another context, or tampered."""
