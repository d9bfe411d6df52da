"""The progress page and the clinic dashboard page: plots with their numbers, the score form, roles, 404."""

from __future__ import annotations

import re
import uuid

import pytest

from dryneedling.services import accounts

PASSWORD = "a long enough password"


def csrf(response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', response.text).group(1)


@pytest.fixture
def signed_in(api, store, world):
    """Sign in as a new user of the world's clinic with ``role``; returns the user's email."""

    def sign_in(role: str) -> str:
        email = f"{role}.{uuid.uuid4().hex[:6]}@example.org"
        accounts.add_user(store, uuid.UUID(world.clinic), email, role, PASSWORD, name=f"Page {role.title()}")
        api.cookies.clear()
        page = api.get("/records/login")
        response = api.post("/records/login", data={"csrf": csrf(page), "email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return email

    return sign_in


def test_it_records_a_score_on_the_progress_page_and_says_whether_it_reached_the_mcid(api, chart, signed_in):
    episode = chart.episode()
    signed_in("clinician")
    page = api.get(f"/records/episodes/{episode}/progress")
    assert page.status_code == 200 and "No outcome measures recorded" in page.text
    assert "★ Neck Disability Index" in page.text  # the condition's recommended measures come first
    for day, score in (("2026-01-05", "7"), ("2026-02-05", "5")):
        page = api.post(
            f"/records/episodes/{episode}/outcomes",
            data={"csrf": csrf(page), "measure": "nprs", "score": score, "date": day},
        )
        assert page.status_code == 200 and page.url.path.endswith("/progress")
    assert "The change of 2 points (better) reached the minimal important change of 1.5" in page.text
    assert "<svg" in page.text and "Kovacs" in page.text
    page = api.post(
        f"/records/episodes/{episode}/outcomes",
        data={"csrf": csrf(page), "measure": "lefs", "items": "2, 2, 2", "date": "2026-02-05"},
    )
    assert page.status_code == 422 and "20 items" in page.text


def test_it_shows_the_dashboard_with_plots_numbers_and_csv_links(api, chart, signed_in):
    episode = chart.episode()
    chart.consent(episode)
    chart.visit(episode)
    signed_in("owner")
    page = api.get("/records/dashboard")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    assert text.count("<svg") >= 5 and "No patient answers yet." in text
    assert "Brady 2014" in text and "Boyce 2020" in text and "Spiegelhalter" in text
    assert 'href="/records/dashboard/funnel.csv"' in text
    response = api.get("/records/dashboard/adverse_events.csv")
    assert response.status_code == 200 and response.text.startswith("who,reported_by,severity")


def test_it_shows_a_clinician_their_own_dashboard_and_refuses_an_assistant(api, signed_in):
    signed_in("clinician")
    page = api.get("/records/dashboard")
    assert page.status_code == 200 and "my patients" in page.text
    signed_in("assistant")
    assert api.get("/records/dashboard", headers={"accept": "text/html"}).status_code == 403


def test_it_keeps_another_clinics_progress_page_out_of_reach(api, chart, store, world):
    episode = chart.episode()
    chart.api.post(
        f"/api/episodes/{episode}/outcomes",
        json={"measure": "nprs", "score": 6},
        headers=world.clinician.headers,
    )
    other = accounts.add_clinic(store, "Far Physio")
    email = f"far.{uuid.uuid4().hex[:6]}@example.org"
    accounts.add_user(store, other.id, email, "owner", PASSWORD, name="Far Owner")
    api.cookies.clear()
    page = api.get("/records/login")
    api.post("/records/login", data={"csrf": csrf(page), "email": email, "password": PASSWORD})
    response = api.get(f"/records/episodes/{episode}/progress", headers={"accept": "text/html"})
    assert response.status_code == 404 and "Numeric Pain" not in response.text
