"""Which constraint an IntegrityError is about, on SQLite and PostgreSQL alike.

Repositories insert first and interpret the violation afterwards (never read-then-write), so they need
to tell "this name is taken" from "the parent row vanished" reliably.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import PrimaryKeyConstraint, Table, UniqueConstraint
from sqlalchemy.exc import IntegrityError


class Kind(Enum):
    UNIQUE = "unique"
    FOREIGN_KEY = "foreign_key"
    CHECK = "check"
    NOT_NULL = "not_null"
    OTHER = "other"


_PG_SQLSTATES = {
    "23505": Kind.UNIQUE,
    "23503": Kind.FOREIGN_KEY,
    "23514": Kind.CHECK,
    "23502": Kind.NOT_NULL,
}
_SQLITE_ERRORS = {
    "SQLITE_CONSTRAINT_UNIQUE": Kind.UNIQUE,
    "SQLITE_CONSTRAINT_PRIMARYKEY": Kind.UNIQUE,
    "SQLITE_CONSTRAINT_FOREIGNKEY": Kind.FOREIGN_KEY,
    "SQLITE_CONSTRAINT_CHECK": Kind.CHECK,
    "SQLITE_CONSTRAINT_NOTNULL": Kind.NOT_NULL,
}


@dataclass(frozen=True, slots=True)
class Violation:
    kind: Kind
    constraint: str | None  # PostgreSQL names the constraint
    columns: frozenset[str]  # SQLite names `table.column`s of a violated unique/primary key

    def is_unique(self, table: Table, *columns: str) -> bool:
        """True when the violated constraint is the unique key (or primary key) over `columns`."""
        if self.kind is not Kind.UNIQUE:
            return False
        if self.constraint is not None:
            return self.constraint == _unique_constraint_name(table, frozenset(columns))
        return self.columns == frozenset(f"{table.name}.{column}" for column in columns)


def violation(exc: IntegrityError) -> Violation:
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        diag = getattr(orig, "diag", None)
        name = getattr(diag, "constraint_name", None)
        return Violation(_PG_SQLSTATES.get(sqlstate, Kind.OTHER), name, frozenset())
    kind = _SQLITE_ERRORS.get(str(getattr(orig, "sqlite_errorname", "")), Kind.OTHER)
    if kind is Kind.OTHER and "FOREIGN KEY constraint failed" in str(orig):
        kind = Kind.FOREIGN_KEY  # ON DELETE RESTRICT reports SQLITE_CONSTRAINT_TRIGGER
    return Violation(kind, None, _sqlite_columns(str(orig)) if kind is Kind.UNIQUE else frozenset())


def _sqlite_columns(message: str) -> frozenset[str]:
    # "UNIQUE constraint failed: iam_users.account_id, iam_users.name_lower"
    _, _, listed = message.partition("constraint failed:")
    return frozenset(part.strip() for part in listed.split(",") if part.strip())


@functools.cache
def _unique_constraint_name(table: Table, columns: frozenset[str]) -> str:
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint) and (
            frozenset(constraint.columns.keys()) == columns
        ):
            return str(constraint.name)
    raise LookupError(f"{table.name} has no unique constraint over {sorted(columns)}")
