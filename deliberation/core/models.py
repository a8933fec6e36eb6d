"""Base model helpers shared by every area."""

from __future__ import annotations

import enum
import functools
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Enum, Insert, Table, insert, text
from sqlalchemy.orm import Mapped, mapped_column

from deliberation.extensions import db


def utcnow() -> datetime:
    """Current time in UTC as a naive datetime: the database stores UTC without a zone."""
    return datetime.now(UTC).replace(tzinfo=None)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def string_enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings: no native PostgreSQL enum types to migrate later.
    return Enum(cls, native_enum=False, length=30, values_callable=lambda e: [m.value for m in e],
                validate_strings=True)


def dialect_name() -> str:
    """The session's database: "sqlite" or "postgresql"."""
    return db.session.get_bind().dialect.name


def insert_unless_duplicate(table: Table, *returning: Column) -> Insert:
    """`INSERT ... ON CONFLICT DO NOTHING [RETURNING ...]` on SQLite or PostgreSQL: a duplicate inserts
    nothing (and returns no row) instead of failing the transaction. Pass the row's values as
    execution parameters."""
    return _insert_unless_duplicate(table, returning)


_ON_CONFLICT_DO_NOTHING = text("ON CONFLICT DO NOTHING")  # the same words on SQLite and PostgreSQL


@functools.cache
def _insert_unless_duplicate(table: Table, returning: tuple) -> Insert:
    # Built once per table. A plain INSERT carrying the clause, not the dialects' `on_conflict_do_nothing()`:
    # SQLAlchemy 2.0 gives those no cache key, so each execution compiled its SQL again (casting a
    # ballot runs two). The clause is the statement's "post values" part, which its cache key includes.
    statement = insert(table)
    statement._post_values_clause = _ON_CONFLICT_DO_NOTHING
    return statement.returning(*returning) if returning else statement
