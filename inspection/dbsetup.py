"""Database connection behaviour.

SQLite: WAL so readers never block the writer, a busy timeout so a writer waits instead of failing,
and write transactions begun IMMEDIATE so that two requests never both read and then both try to
upgrade to the write lock (which fails with "database is locked" at once, whatever the timeout).
"""

from __future__ import annotations

from flask import g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SQLITE_CACHE_KIB = 32 * 1024


def _wants_write_lock() -> bool:
    if has_request_context():
        if g.get("force_write_lock"):
            return True
        return request.method not in SAFE_METHODS
    return True  # CLI commands and background work write


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, connection_record):
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        # Let us emit BEGIN ourselves (pysqlite's own transaction handling defers it wrongly).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the answer goes out, as PostgreSQL does by default. With
        # NORMAL, WAL commits survive a crash of the app but not a power cut, and an inspector's
        # tablet drops an observation from its outbox once the server has acknowledged it. Costs one
        # fsync per write transaction (about 4 ms on the development machine); reads never pay it.
        cursor.execute("PRAGMA synchronous=FULL")
        # SQLite's default page cache is 2 MiB per connection: at national size every list then
        # re-read its index and table pages through system calls (a police officer's list: 3 ms of
        # SQL instead of under 1). 32 MiB per pooled connection holds the hot indexes.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()


@event.listens_for(Engine, "begin")
def _on_begin(conn):
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock() else "BEGIN")
