"""A patient answers a follow-up on a phone-sized page (390 px) in Chromium: the form fits without sideways
scrolling, a red-flag answer shows what to do at once, the clinician's list gets the alert, and the used
link then says it is gone and whom to call. Screenshots are saved for a person to look at."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from playwright.sync_api import Page, expect
from records_helpers import PATIENT, profile, visit_body

from dryneedling.db import open_store
from dryneedling.services import accounts
from dryneedling.web.app import create_app
from live import serve

pytestmark = pytest.mark.browser
PASSWORD = "a long enough password"


@pytest.fixture
def followup_server(tmp_path, catalog):
    store = open_store(f"sqlite:///{tmp_path / 'followup.db'}", migrate=True)
    clinic = accounts.add_clinic(store, "Harbour Physio")
    accounts.add_user(store, clinic.id, "olive@harbour.example", "owner", PASSWORD, name="Olive Owner")
    token = accounts.issue_token(store, "olive@harbour.example")
    app = create_app(catalog, store, session_key=secrets.token_urlsafe(40))
    with serve(app) as url:
        yield url, {"Authorization": f"Bearer {token}"}
    store.engine.dispose()


def _signed_visit_links(url: str, headers: dict) -> list[dict]:
    with httpx.Client(base_url=url, headers=headers) as api:
        api.put(
            "/api/clinic/followup-settings", json={"hours": [24, 48], "link_days": 7, "phone": "+1 555 0100"}
        )
        patient = api.post("/api/patients", json={**PATIENT, "external_id": "MRN-B1"}).json()["id"]
        episode = api.post(f"/api/patients/{patient}/episodes", json={"profile": profile()}).json()["id"]
        api.post(
            f"/api/episodes/{episode}/consent",
            json={"signed_by": "patient", "signer_name": "Ann Example", "method": "typed_name_and_tick"},
        )
        visit = api.post(f"/api/episodes/{episode}/visits", json=visit_body()).json()["id"]
        assert api.post(f"/api/visits/{visit}/sign").status_code == 200
        return api.get(f"/api/visits/{visit}/followups").json()


def _no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"page is {overflow}px wider than a 390px phone"


def test_it_lets_a_patient_answer_on_a_phone_and_see_what_to_do(page: Page, followup_server, tmp_path):
    url, headers = followup_server
    links = _signed_visit_links(url, headers)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(links[0]["url"])
    expect(page.get_by_role("heading", name="How are you after your visit?")).to_be_visible()
    expect(page.get_by_text("Hello Ann.")).to_be_visible()
    _no_sideways_scroll(page)
    page.screenshot(path=str(tmp_path / "followup-form-390.png"), full_page=True)

    # sending without answers is stopped by the browser (every question but the note is required)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="How are you after your visit?")).to_be_visible()

    page.locator("#q-soreness").get_by_label("6", exact=True).check()
    for question, answer in (
        ("bruising", "No"),
        ("fainting", "No"),
        ("breathless_or_chest_pain", "Yes"),
        ("numbness_or_weakness", "No"),
        ("worse_pain", "No"),
    ):
        page.locator(f"#q-{question}").get_by_label(answer, exact=True).check()
    page.get_by_label("A little bleeding that stopped when I pressed on it").check()
    page.get_by_label("Anything else you want your therapist to know?").fill("Tight chest since this morning")
    page.get_by_role("button", name="Send my answers").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Please act now")
    expect(alert).to_contain_text("short of breath")
    expect(alert).to_contain_text("emergency")
    _no_sideways_scroll(page)
    page.screenshot(path=str(tmp_path / "followup-red-flag-390.png"), full_page=True)

    with httpx.Client(base_url=url, headers=headers) as api:
        alerts = api.get("/api/followups/alerts").json()
        assert len(alerts) == 1 and alerts[0]["red_flags"] == ["pneumothorax", "cardiac"]

    response = page.goto(links[0]["url"])
    assert response.status == 410
    expect(page.get_by_role("heading", name="This link has been used or is too old")).to_be_visible()
    expect(page.get_by_text("Call Harbour Physio on +1 555 0100.")).to_be_visible()
    _no_sideways_scroll(page)

    # the second link still works, and an answer without red flags just thanks the patient
    page.goto(links[1]["url"])
    page.locator("#q-soreness").get_by_label("2", exact=True).check()
    for question in (
        "bruising",
        "fainting",
        "breathless_or_chest_pain",
        "numbness_or_weakness",
        "worse_pain",
    ):
        page.locator(f"#q-{question}").get_by_label("No", exact=True).check()
    page.get_by_label("No bleeding").check()
    page.get_by_role("button", name="Send my answers").click()
    expect(
        page.get_by_role("heading", name="Thank you. Your therapist will see your answers.")
    ).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)


def test_it_lists_the_alert_for_the_clinician_on_a_phone(page: Page, followup_server, tmp_path):
    url, headers = followup_server
    links = _signed_visit_links(url, headers)
    answers = {
        "soreness": 5,
        "bruising": True,
        "bleeding": "none",
        "fainting": False,
        "breathless_or_chest_pain": False,
        "numbness_or_weakness": True,
        "worse_pain": False,
    }
    assert (
        httpx.post(links[0]["url"].replace("/followup/", "/api/followup/"), json=answers).status_code == 201
    )

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url + "/records/login")
    page.get_by_label("E-mail").fill("olive@harbour.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Follow-up alerts").click()
    alerts = page.locator("#alerts")
    expect(alerts).to_contain_text("Ann Example")
    expect(alerts).to_contain_text("weakness or numbness")
    _no_sideways_scroll(page)
    page.get_by_role("link", name=re.compile("Ann Example, visit")).click()
    expect(page.locator("#followup-table tr[data-status]")).to_have_count(2)
    expect(page.locator("#followup-table")).to_contain_text("ALERT")
    expect(page.locator("#followup-table .qr svg")).to_have_count(1)  # the pending one still shows its code
    page.screenshot(path=str(tmp_path / "visit-followups-390.png"), full_page=True)
    _no_sideways_scroll(page)
    page.get_by_role("button", name="Alert dealt with").click()
    expect(page.locator("#followup-table")).not_to_contain_text("ALERT")
    page.locator("#followup-events li", has_text="Numbness").get_by_role("button", name="Confirm").click()
    expect(page.locator("#followup-events li", has_text="Numbness")).to_contain_text("confirmed")
    page.get_by_role("link", name="Follow-up alerts").click()
    expect(page.locator("#no-alerts")).to_be_visible()
