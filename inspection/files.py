"""Uploaded files that belong to a database transaction.

A photo or a case document is written to disk before the row that names it is committed. If the
transaction then rolls back (a refused request, a lost database connection, a failed commit), no row
names the file, and nothing would ever remove it. `store_new_file` writes the file atomically and
ties it to the session's current transaction: when that transaction ends without a commit, the file
is removed; when it commits, the file stays. The other way round, `remove_file_after_commit` removes
the file of a deleted row only once the deletion is committed: a rolled-back deletion must not leave
a row without its file.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from .extensions import db

_PENDING = "files.pending"
_DOOMED = "files.doomed"


def store_new_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` (whole or not at all) and remove it again unless the current
    transaction commits."""
    temporary = path.with_name(path.name + ".part")
    temporary.write_bytes(data)
    os.replace(temporary, path)
    db.session.info.setdefault(_PENDING, []).append(path)


def forget_new_file(path: Path) -> None:
    """`path` was removed by its writer (a resend that lost a race): nothing to do at the end."""
    pending = db.session.info.get(_PENDING, [])
    if path in pending:
        pending.remove(path)


def remove_file_after_commit(path: Path) -> None:
    """Remove `path` when the current transaction commits (its row is being deleted); keep it if the
    transaction rolls back."""
    db.session.info.setdefault(_DOOMED, []).append(path)


@event.listens_for(Session, "after_commit")
def _keep(session: Session) -> None:
    # Also fires when a savepoint is released: that is not a commit yet, the outer transaction may
    # still roll back.
    if session.in_nested_transaction():
        return
    session.info.pop(_PENDING, None)
    for path in session.info.pop(_DOOMED, []):
        Path(path).unlink(missing_ok=True)


@event.listens_for(Session, "after_transaction_end")
def _discard(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended and was not committed (`_keep` would have taken the list).
    if transaction.parent is None and not transaction.nested:
        for path in session.info.pop(_PENDING, []):
            Path(path).unlink(missing_ok=True)
        session.info.pop(_DOOMED, None)  # the rows were not deleted: their files stay
