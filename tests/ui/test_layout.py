"""The shared layout as a user meets it: every main page has one heading, a skip link, labelled
fields, the open menu entry marked, no inline script or style; the start page puts tonight (inspector)
or the invitations (police) first."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest

from inspection.types import STOCKHOLM, utcnow
from tests.conftest import csrf_token, stockholm


class Page(HTMLParser):
    """Collects what the checks below look at."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.label_for: set[str] = set()
        self.label_depth = 0
        self.labelled_by_wrap: set[int] = set()
        self.current_links: list[str] = []
        self._in_current = False
        self._text = ""
        self.h1_count = 0
        self._in_menu = False
        self.inline_scripts = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and self.label_depth:
            self.labelled_by_wrap.add(len(self.tags) - 1)
        if tag == "h1":
            self.h1_count += 1
        if tag == "script" and not a.get("src"):
            self.inline_scripts += 1
        if tag == "nav" and a.get("aria-label") == "Huvudmeny":
            self._in_menu = True
        if tag == "a" and a.get("aria-current") == "page" and (self._in_menu or "profile-link" in a.get("class", "")):
            self._in_current, self._text = True, ""

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_menu = False
        if tag == "label":
            self.label_depth = max(0, self.label_depth - 1)
        if tag == "a" and self._in_current:
            self.current_links.append(" ".join(self._text.split()))
            self._in_current = False

    def handle_data(self, data):
        if self._in_current:
            self._text += data

    def unlabelled_fields(self) -> list[dict]:
        missing = []
        for index, (tag, a) in enumerate(self.tags):
            if tag not in ("input", "select", "textarea"):
                continue
            if a.get("type") in ("hidden", "submit", "button", "reset", "image"):
                continue
            if a.get("aria-label") or a.get("aria-labelledby") or index in self.labelled_by_wrap:
                continue
            if a.get("id") and a["id"] in self.label_for:
                continue
            missing.append(a)
        return missing

    def count(self, tag: str) -> int:
        return sum(1 for t, _ in self.tags if t == tag)

    def has_style_attribute(self) -> bool:
        return any("style" in a for _, a in self.tags)


STAFF_PAGES = [
    ("/", "Start"),
    ("/tillsyn/kalender", "Kalender"),
    ("/serveringsstallen/", "Serveringsställen"),
    ("/utbildningar/", "Utbildningar"),
    ("/rapporter/", "Rapporter"),
    ("/arenden/", "Ärenden"),
    ("/tillsyn/arkiv", "Arkiv"),
]
PAGES = {
    "inspector": STAFF_PAGES,
    "manager": [*STAFF_PAGES, ("/admin/audit", "Logg")],
    "police": [
        ("/", "Start"),
        ("/tillsyn/mina", "Mina tillsyner"),
        ("/serveringsstallen/", "Serveringsställen"),
        ("/utbildningar/", "Utbildningar"),
        ("/rapporter/", "Rapporter"),
    ],
    "admin": [
        ("/admin/users", "Användare"),
        ("/admin/organisations", "Organisationer"),
        ("/admin/audit", "Logg"),
    ],
}
CASES = [(role, url, label) for role, pages in PAGES.items() for url, label in pages]


def check_layout(html: str) -> Page:
    page = Page(html)
    assert page.h1_count == 1, "exactly one <h1>"
    assert page.count("main") == 1
    assert any(t == "a" and a.get("href") == "#main" for t, a in page.tags), "skip link"
    assert page.unlabelled_fields() == []
    assert not page.has_style_attribute()
    assert page.inline_scripts == 0
    return page


@pytest.mark.parametrize(("role", "url", "label"), CASES, ids=[f"{r}:{u}" for r, u, _ in CASES])
def test_main_pages_share_an_accessible_layout(client, login, make_user, role, url, label):
    login(make_user(role))
    response = client.get(url, follow_redirects=True)
    assert response.status_code == 200
    page = check_layout(response.get_data(as_text=True))
    assert page.current_links == [label], "the open menu entry is marked, and only that one"


def test_login_and_error_pages_share_the_layout(client, login, inspector):
    page = check_layout(client.get("/login").get_data(as_text=True))
    assert page.current_links == []
    login(inspector)
    response = client.get("/finns-inte")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    check_layout(html)
    assert "Hittades inte" in html
    assert "Till startsidan" in html


def test_profile_marks_the_name_as_the_open_page(client, login, inspector):
    login(inspector)
    page = check_layout(client.get("/profile").get_data(as_text=True))
    assert page.current_links == [f"Min profil: {inspector.name}"]


def test_refused_field_shows_its_error_linked_to_the_field(client, login, inspector):
    login(inspector)
    response = client.post(
        "/profile/password",
        data={"csrf_token": csrf_token(client), "current_password": "", "new_password": ""},
        follow_redirects=True,
    )
    page = Page(response.get_data(as_text=True))
    ids = {a.get("id") for _, a in page.tags}
    invalid = [a for t, a in page.tags if t == "input" and a.get("aria-invalid") == "true"]
    assert invalid, "a refused field is marked invalid"
    for a in invalid:
        assert a["id"] in page.label_for
        described = a.get("aria-describedby", "").split()
        assert described
        assert all(d in ids for d in described), "the description points at the error text on the page"


def _evening(hour: int, minute: int = 0):
    day = (utcnow() - timedelta(hours=6)).astimezone(STOCKHOLM).date()
    return stockholm(day.year, day.month, day.day, hour, minute)


def _position(html: str, *texts: str) -> list[int]:
    positions = [html.find(t) for t in texts]
    assert all(p >= 0 for p in positions), texts
    return positions


def test_inspector_sees_tonights_round_first_in_time_order(
    client, login, inspector, police, make_venue, make_inspection
):
    make_inspection(venue=make_venue(name="Sista Stoppet"), participants=[inspector, police], start=_evening(23, 30))
    make_inspection(venue=make_venue(name="Första Krogen"), participants=[inspector], start=_evening(20, 0))
    make_inspection(venue=make_venue(name="Mellanbaren"), participants=[inspector, police], start=_evening(21, 40))
    make_inspection(
        venue=make_venue(name="Nästa Veckas Pub"), participants=[inspector], start=_evening(21) + timedelta(days=7)
    )
    login(inspector)
    html = client.get("/").get_data(as_text=True)
    first, middle, last, later = _position(html, "Första Krogen", "Mellanbaren", "Sista Stoppet", "Nästa Veckas Pub")
    assert first < middle < last < later
    assert html.find("I kväll") < first
    assert html.find("Att signera") > last, "tonight comes before everything else"
    tonight = html[html.find("I kväll") : html.find("Att signera")]
    assert "21:40" in tonight
    assert police.name in tonight, "who is coming"
    assert "Planerad" in tonight, "status"
    assert "Protokoll" in tonight


def test_police_sees_invitations_first_with_one_tap_answers(
    client, login, inspector, police, make_venue, make_inspection, db_session
):
    make_inspection(venue=make_venue(name="Redan Klar"), participants=[inspector, police], start=_evening(20))
    invited = make_inspection(
        venue=make_venue(name="Inbjudan Baren"),
        participants=[inspector, police],
        start=_evening(21) + timedelta(days=2),
        police_response="invited",
    )
    login(police)
    html = client.get("/").get_data(as_text=True)
    invitation, tonight = _position(html, "Inbjudan Baren", "Redan Klar")
    assert invitation < tonight
    assert html.find("Inbjudningar att svara på") < invitation
    assert f'action="/tillsyn/{invited.id}/svar"' in html
    assert 'value="accepted"' in html
    assert 'value="declined"' in html

    response = client.post(
        f"/tillsyn/{invited.id}/svar",
        data={"csrf_token": csrf_token(client), "response": "accepted"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Inbjudningar att svara på" not in client.get("/").get_data(as_text=True)


def test_to_sign_lists_only_protocols_waiting_for_my_signature(
    client, login, inspector, police, make_user, make_venue, make_inspection, db_session
):
    from inspection.inspections.models import Signature

    def awaiting(name, participants, **kwargs):
        return make_inspection(
            venue=make_venue(name=name),
            participants=participants,
            start=_evening(20) - timedelta(days=3),
            status="awaiting_signatures",
            **kwargs,
        )

    def sign(inspection, user, **kwargs):
        db_session.add(
            Signature(
                inspection_id=inspection.id,
                user_id=user.id,
                organisation_id=user.organisation_id,
                content_hash="0" * 64,
                **kwargs,
            )
        )

    awaiting("Väntar På Mig", [inspector, police])
    sign(awaiting("Redan Signerad", [inspector, police]), inspector)
    # A signature voided when the protocol was reopened no longer counts: it must be signed again.
    sign(awaiting("Öppnad Igen", [inspector, police]), inspector, voided_at=utcnow())
    sign(awaiting("Bara Polisen Har Signerat", [inspector, police]), police)
    awaiting("Annans Protokoll", [make_user("inspector", name="Kollegan")])
    declined = awaiting("Avböjd", [inspector, police], police_response="declined")
    db_session.flush()

    def to_sign_section() -> str:
        html = client.get("/").get_data(as_text=True)
        section = html[html.find('id="sign-h"') :]
        return section[: section.find("</section>")]

    login(police)
    to_sign = to_sign_section()
    assert "Väntar På Mig" in to_sign
    assert "Öppnad Igen" in to_sign
    assert "Redan Signerad" in to_sign  # the inspector signed it; the police officer has not
    assert "Bara Polisen Har Signerat" not in to_sign
    assert "Annans Protokoll" not in to_sign
    assert "Avböjd" not in to_sign
    assert f"/tillsyn/{declined.id}/" not in client.get("/").get_data(as_text=True)  # nowhere on the page

    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login(inspector)
    to_sign = to_sign_section()
    assert "Väntar På Mig" in to_sign
    assert "Öppnad Igen" in to_sign
    assert "Bara Polisen Har Signerat" in to_sign
    assert "Redan Signerad" not in to_sign
    assert "Annans Protokoll" not in to_sign
    assert "Avböjd" in to_sign  # the police officer declined; the inspector still signs
