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
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _on_begin(conn):
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock() else "BEGIN")
