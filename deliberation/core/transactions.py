"""Where a request's database transactions begin, and SQLite's connection settings.

SQLite allows one writer at a time. A request that writes takes the write lock when its first
transaction begins (``BEGIN IMMEDIATE``): it then waits its turn (busy timeout) instead of failing
when another writer commits between its reads and its writes. Such a request keeps its transaction
short: the hot write path (casting a ballot) reads what it needs in one statement, and a request that
must render a page after a refusal rolls back first (the error pages do; so does a refused ballot).
"""

from __future__ import annotations

from flask import g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

_READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")


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
    return has_request_context() and request.method not in _READ_ONLY_METHODS and not g.get("_sqlite_write_begun")


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    """Only the request's writing transaction takes the lock: what runs after its commit only reads."""
    if _is_sqlite(connection.connection.dbapi_connection):
        writes = _takes_write_lock()
        if writes:
            g._sqlite_write_begun = True
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
