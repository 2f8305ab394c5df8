"""The SQLite connection settings that durability and speed rely on (dbsetup.py)."""

from __future__ import annotations

from sqlalchemy import create_engine, text

import inspection.dbsetup  # noqa: F401 - registers the connect hook


def test_sqlite_connections_are_durable_and_cached(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'settings.db'}")
    with engine.connect() as conn:
        pragma = {name: conn.execute(text(f"PRAGMA {name}")).scalar() for name in ("journal_mode", "synchronous")}
        cache = conn.execute(text("PRAGMA cache_size")).scalar()
        foreign_keys = conn.execute(text("PRAGMA foreign_keys")).scalar()
    engine.dispose()
    assert pragma["journal_mode"] == "wal"  # readers never wait for the writer
    assert pragma["synchronous"] == 2  # FULL: an acknowledged commit survives a power cut
    assert cache <= -32 * 1024  # negative = KiB: at least 32 MiB of page cache per connection
    assert foreign_keys == 1
