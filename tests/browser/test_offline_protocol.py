"""A protocol on a tablet that loses its network: nothing is lost, nothing arrives twice."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

TIMEOUT = 20_000


def open_protocol(page, inspection_id: int) -> None:
    page.goto(f"/tillsyn/{inspection_id}")
    # The service worker has stored this page and its API answer for offline use.
    page.wait_for_selector('#protocol[data-offline-ready="true"]', state="attached", timeout=TIMEOUT)


def add_observation(page, category: str, text: str, photo: bytes | None = None) -> None:
    page.click("#obs-open")
    page.click(f'#obs-category .chip[data-value="{category}"]')
    page.fill("#obs-text", text)
    if photo:
        page.set_input_files("#obs-photo", {"name": "bild.png", "mimeType": "image/png", "buffer": photo})
    page.click("#obs-save")
    page.wait_for_selector("#obs-panel", state="hidden")


def png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def wait_saved(page) -> None:
    page.wait_for_selector('#save-state[data-state="saved"][data-pending="0"]', timeout=TIMEOUT)


def test_offline_changes_survive_a_reload_and_arrive_exactly_once(live_server, new_tablet):
    from inspection.inspections.models import Inspection, Observation, Photo

    inspection_id = live_server.make_inspection()
    context, page = new_tablet("anna@example.se")
    open_protocol(page, inspection_id)

    context.set_offline(True)
    add_observation(page, "berusning", "Man ca 30 år sluddrar vid baren")
    add_observation(page, "overservering", "Får en stor stark serverad 23:41 <b>trots</b> det", photo=png())
    page.fill("#f-contact_person", "Kalle Krögare")
    page.press("#f-contact_person", "Tab")
    page.wait_for_selector('#save-state[data-pending="4"]', timeout=TIMEOUT)  # 2 observations, a photo, a field
    assert "Väntar på nät – 4 ändringar" in page.inner_text("#save-state")

    page.reload()  # offline: the page comes from the service worker's cache
    assert "Källaren Bar" in page.inner_text("h1")
    page.wait_for_selector('#save-state[data-pending="4"]', timeout=TIMEOUT)
    timeline = page.inner_text("#timeline")
    assert "Man ca 30 år sluddrar vid baren" in timeline
    assert "Får en stor stark serverad 23:41 <b>trots</b> det" in timeline
    assert page.input_value("#f-contact_person") == "Kalle Krögare"

    context.set_offline(False)
    page.evaluate("window.KTOutbox.flush()")
    wait_saved(page)

    def on_server(session):
        inspection = session.get(Inspection, inspection_id)
        texts = session.scalars(select(Observation.description).where(Observation.inspection_id == inspection_id)).all()
        photos = session.scalars(select(Photo).where(Photo.inspection_id == inspection_id)).all()
        return inspection.contact_person, sorted(texts), len(photos)

    contact, texts, photo_count = live_server.read(on_server)
    assert contact == "Kalle Krögare"
    assert photo_count == 1
    assert texts == sorted(
        ["Man ca 30 år sluddrar vid baren", "Får en stor stark serverad 23:41 <b>trots</b> det"]
    )  # each exactly once
    page.reload()
    assert "Får en stor stark serverad 23:41 <b>trots</b> det" in page.inner_text("#timeline")


def test_two_tablets_editing_one_field_offline_end_in_a_shown_conflict_and_nothing_lost(live_server, new_tablet):
    from inspection.inspections.models import Inspection

    inspection_id = live_server.make_inspection()
    context_a, anna = new_tablet("anna@example.se")
    context_b, peter = new_tablet("peter@example.se")
    open_protocol(anna, inspection_id)
    open_protocol(peter, inspection_id)
    # Who else is in the protocol now (UX.md): the officer's tablet names the inspector at once.
    expect(peter.locator("#presence")).to_have_text("Här nu: Anna Inspektör (Östersunds kommun)", timeout=TIMEOUT)

    context_a.set_offline(True)
    context_b.set_offline(True)
    expect(peter.locator("#presence")).to_be_hidden(timeout=TIMEOUT)  # offline: no list that may be stale
    anna.fill("#f-summary", "Trängsel vid baren, 140 gäster.")
    anna.press("#f-summary", "Tab")
    peter.fill("#f-summary", "Två märkbart påverkade gäster serverades.")
    peter.press("#f-summary", "Tab")
    anna.wait_for_selector('#save-state[data-pending="1"]', timeout=TIMEOUT)
    peter.wait_for_selector('#save-state[data-pending="1"]', timeout=TIMEOUT)

    context_a.set_offline(False)
    anna.evaluate("window.KTOutbox.flush()")
    wait_saved(anna)

    context_b.set_offline(False)
    peter.evaluate("window.KTOutbox.flush()")
    peter.wait_for_selector('#save-state[data-state="conflict"]', timeout=TIMEOUT)
    assert "Konflikt" in peter.inner_text("#save-state")
    peter.click("#show-problem")
    panel = peter.locator("#conflict-panel")
    assert "Trängsel vid baren, 140 gäster." in panel.inner_text()  # what the other tablet saved
    assert "Två märkbart påverkade gäster serverades." in panel.inner_text()  # and this one's
    panel.get_by_role("button", name="Slå ihop båda").click()
    peter.click("#conflict-save")
    wait_saved(peter)

    summary = live_server.read(lambda s: s.get(Inspection, inspection_id).summary)
    assert "Trängsel vid baren, 140 gäster." in summary
    assert "Två märkbart påverkade gäster serverades." in summary
    # The other tablet picks up the merged text by itself.
    expect(anna.locator("#f-summary")).to_have_value(re.compile("Två märkbart påverkade"), timeout=TIMEOUT)


def test_changes_refused_by_a_signed_protocol_are_kept_and_become_an_amendment(live_server, new_tablet):
    from inspection.inspections.models import Inspection, Observation

    inspection_id = live_server.make_inspection()
    tablet_context, tablet = new_tablet("anna@example.se")
    open_protocol(tablet, inspection_id)
    tablet_context.set_offline(True)
    add_observation(tablet, "ordning", "Bråk i kön utanför, vakt ingrep")
    tablet.fill("#f-feedback_given", "Sagt till om maten")
    tablet.press("#f-feedback_given", "Tab")
    tablet.wait_for_selector('#save-state[data-pending="2"]', timeout=TIMEOUT)

    # Meanwhile both sign on other devices: the protocol is frozen.
    _, desk = new_tablet("anna@example.se")
    _, officer = new_tablet("peter@example.se")
    for page in (desk, officer):
        page.goto(f"/tillsyn/{inspection_id}/signera")
        page.fill("#password", "rätt-häst-batteri-häftklammer")
        page.click("#sign-box button[type=submit]")
        page.wait_for_url(f"**/tillsyn/{inspection_id}")
    assert live_server.read(lambda s: s.get(Inspection, inspection_id).status) == "signed"

    tablet_context.set_offline(False)  # the page sends by itself (and reloads: the protocol is signed)
    tablet.wait_for_selector('#save-state[data-state="locked"]', timeout=TIMEOUT)
    # Nothing is thrown away: both the observation and the field are kept and shown.
    expect(tablet.locator("#locked-text")).to_have_value(re.compile("Sagt till om maten"), timeout=TIMEOUT)
    assert "Bråk i kön utanför, vakt ingrep" in tablet.input_value("#locked-text")
    tablet.click("#locked-amend")
    tablet.wait_for_selector("#amend-title", timeout=TIMEOUT)
    expect(tablet.locator("#save-state")).to_have_attribute("data-pending", "0", timeout=TIMEOUT)
    assert tablet.evaluate("window.KTOutbox.count()") == 0

    def on_server(session):
        inspection = session.get(Inspection, inspection_id)
        observations = session.scalars(select(Observation).where(Observation.inspection_id == inspection_id)).all()
        return inspection.feedback_given, len(observations), [a.text for a in inspection.amendments]

    feedback, observation_count, amendments = live_server.read(on_server)
    assert feedback is None  # the signed protocol did not change
    assert observation_count == 0
    assert len(amendments) == 1
    assert "Bråk i kön utanför, vakt ingrep" in amendments[0]
    assert "Sagt till om maten" in amendments[0]


def test_logout_warns_about_unsent_changes_and_signing_in_again_sends_them(live_server, new_tablet):
    from inspection.auth.models import UserSession
    from inspection.inspections.models import Observation

    inspection_id = live_server.make_inspection()
    context, page = new_tablet("anna@example.se")
    open_protocol(page, inspection_id)
    context.set_offline(True)
    add_observation(page, "alderskontroll", "Ung gäst utan leg fick en öl")
    page.wait_for_selector('#save-state[data-pending="1"]', timeout=TIMEOUT)

    messages = []

    def answer(dialog):
        messages.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", answer)
    if page.locator("#menu-toggle").is_visible():  # the compact main menu on a tablet
        page.click("#menu-toggle")
    page.click("#logout-form button")
    page.wait_for_timeout(500)
    assert messages
    assert "1 ändring som inte har skickats" in messages[0]
    assert page.url.endswith(f"/tillsyn/{inspection_id}")  # still here, nothing thrown away

    # The session ends on the server (idle time-out) while the tablet is offline.
    def end_sessions(session):
        session.query(UserSession).delete()
        session.commit()

    live_server.read(end_sessions)
    context.set_offline(False)
    page.evaluate("window.KTOutbox.flush()")
    page.wait_for_selector('#save-state[data-state="auth"]', timeout=TIMEOUT)
    assert "Logga in igen" in page.inner_text("#save-state")

    page.goto("/login")
    page.fill("#email", "anna@example.se")
    page.fill("#password", "rätt-häst-batteri-häftklammer")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"/tillsyn/{inspection_id}")
    wait_saved(page)

    def texts(session):
        return session.scalars(select(Observation.description).where(Observation.inspection_id == inspection_id)).all()

    assert live_server.read(texts) == ["Ung gäst utan leg fick en öl"]


def test_sign_page_says_plainly_that_signing_needs_the_network(live_server, new_tablet):
    inspection_id = live_server.make_inspection()
    context, page = new_tablet("anna@example.se")
    open_protocol(page, inspection_id)
    page.goto(f"/tillsyn/{inspection_id}/signera")
    submit = page.locator("#sign-box button[type=submit]")
    expect(submit).to_be_enabled()
    context.set_offline(True)
    expect(page.locator("#sign-offline")).to_be_visible()
    assert "Att signera kräver nätverk" in page.inner_text("#sign-offline")
    expect(submit).to_be_disabled()
    context.set_offline(False)
    expect(submit).to_be_enabled()
