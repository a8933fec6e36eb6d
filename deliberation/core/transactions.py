"""Where a request's database transactions begin, and SQLite's connection settings.

SQLite allows one writer at a time. A request that writes takes the write lock when its first
transaction begins (``BEGIN IMMEDIATE``): it then waits its turn (busy timeout) instead of failing
when another writer commits between its reads and its writes.

A hot write path whose writes are guarded by the database itself (a unique key refuses a second
ballot) can instead be marked ``@reads_first``: its checks read without the lock, then
``start_writing()`` ends that reading transaction and the next one takes the lock. The lock is then
held only for the writes and the commit, so two workers casting ballots do not queue behind each
other's page work. Whatever such a view read before ``start_writing()`` may be stale; the service
re-reads what its writes depend on (see ``votes.services.cast_ballot``).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from deliberation.core.models import dialect_name
from deliberation.extensions import db

_READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")


def reads_first(view: Callable) -> Callable:
    """Mark a view whose first transaction only reads; it calls `start_writing()` before it writes."""
    view.reads_first = True
    return view


def start_writing() -> None:
    """On SQLite, end the request's reading transaction: the next statement begins the writing one.
    Elsewhere a no-op (PostgreSQL locks rows, not the database, so one transaction is cheaper)."""
    if dialect_name() == "sqlite":
        db.session.commit()
        g._sqlite_writing = True


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL lets readers run beside the writer; the busy timeout makes writers queue, not fail."""
    if _is_sqlite(dbapi_connection):
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, so that
        # savepoints and rollbacks behave as on PostgreSQL (SQLAlchemy's documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def _takes_write_lock() -> bool:
    """Whether the transaction beginning now is the request's writing one."""
    if not has_request_context() or request.method in _READ_ONLY_METHODS or g.get("_sqlite_write_begun"):
        return False
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return not getattr(view, "reads_first", False) or g.get("_sqlite_writing", False)


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    """Only the request's writing transaction takes the lock: what runs after its commit only reads."""
    if _is_sqlite(connection.connection.dbapi_connection):
        writes = _takes_write_lock()
        if writes:
            g._sqlite_write_begun = True
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
