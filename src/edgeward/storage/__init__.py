"""Persistence: tables, migrations, repositories and secret encryption at rest.

- `database.Database`: one per process; `transaction()` for writes (reply after it exits: committed),
  `read()` for reads, `migrate()`, `wipe()`; fork-safe (see its module docstring).
- `tables`: the schema (SQLAlchemy Core); `migrations/`: its Alembic history; `schema`: running it.
- `repos.*`: plain functions `f(conn, ...)` returning frozen records.
- `secrets.SecretBox`: AES-256-GCM under a key-encryption key that never enters the database.
- `errors`: AlreadyExists, NotFound, QuotaExceeded, InUse, SecretError; the service layer maps them.

Storage knows no web framework, no wire protocol and no service rules.
"""
