"""The audit log: written with the change, append-only, visible to managers (own kommun) and admins."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inspection import audit
from inspection.audit import AuditEntry


def test_audit_entries_cannot_be_changed_or_deleted(db_session, inspector):
    entry = audit.record("test.event", user=inspector, kommun_id=inspector.organisation_id, details={"a": 1})
    db_session.flush()
    entry.action = "tampered"
    with pytest.raises(RuntimeError, match="append-only"):
        db_session.flush()
    db_session.rollback()


def test_a_refused_change_leaves_no_audit_entry(client, login, admin, db_session):
    login(admin)
    from tests.conftest import csrf_token

    response = client.post(
        "/admin/organisations", data={"name": "", "kind": "kommun", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 422
    assert "Ange namn" in response.get_data(as_text=True)
    assert db_session.scalars(select(AuditEntry).where(AuditEntry.action == "organisation.create")).all() == []


def test_managers_see_their_kommuns_entries_only(client, login, manager, other_kommun, db_session):
    audit.record("venue.update", user=manager, kommun_id=manager.organisation_id, details={"name": ["A", "B"]})
    audit.record("venue.update", user=manager, kommun_id=other_kommun.id, details={"name": ["Hemlig", "X"]})
    db_session.flush()
    login(manager)
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "venue.update" in html
    assert "Hemlig" not in html


def test_inspectors_do_not_see_the_audit_log(client, login, inspector):
    login(inspector)
    assert client.get("/admin/audit").status_code == 403


def test_admin_creates_a_user_and_it_is_audited(client, login, admin, kommun, db_session):
    login(admin)
    from tests.conftest import csrf_token

    response = client.post(
        "/admin/users/new",
        data={
            "email": "ny@kommun.se",
            "name": "Ny Handläggare",
            "organisation_id": kommun.id,
            "role": "inspector",
            "password": "ett långt och ovanligt lösen",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "user.create")).one()
    assert entry.details["email"] == "ny@kommun.se"
    assert entry.user_id == admin.id


def test_admin_form_keeps_input_and_explains(client, login, admin, kommun):
    login(admin)
    from tests.conftest import csrf_token

    response = client.post(
        "/admin/users/new",
        data={
            "email": "ny@kommun.se",
            "name": "Ny Handläggare",
            "organisation_id": kommun.id,
            "role": "police",
            "password": "kort",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Ny Handläggare" in html
    assert "Poliser hör till en polisorganisation" in html
    assert "minst 12 tecken" in html
