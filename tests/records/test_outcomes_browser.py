"""A browser looks at the dashboard of a fresh demo clinic and records a score on an episode's progress page,
on a phone (390 px) and on a desktop: the plots draw, nothing overflows sideways, the sentence says whether
the change reached the MCID. Screenshots are saved for a person to look at."""

from __future__ import annotations

import secrets
import uuid

import pytest
from playwright.sync_api import Page, expect

from dryneedling.db import open_store
from dryneedling.services import accounts
from dryneedling.services.demo import seed
from dryneedling.web.app import create_app
from live import serve

pytestmark = pytest.mark.browser
PASSWORD = "a long enough password"


@pytest.fixture
def demo_server(tmp_path, catalog):
    store = open_store(f"sqlite:///{tmp_path / 'demo.db'}", migrate=True)
    summary = seed(store, catalog, 10, random_seed=2)
    email = f"olive.{uuid.uuid4().hex[:6]}@example.org"
    accounts.add_user(store, uuid.UUID(summary.clinic_id), email, "owner", PASSWORD, name="Olive Owner")
    app = create_app(catalog, store, session_key=secrets.token_urlsafe(40))
    with serve(app) as url:
        yield url, email
    store.engine.dispose()


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 900)])
def test_it_shows_the_demo_dashboard_and_records_a_score(page: Page, demo_server, width, height, tmp_path):
    url, email = demo_server
    page.set_viewport_size({"width": width, "height": height})
    page.goto(url + "/records/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Clinic dashboard")).to_be_visible()
    expect(page.locator("#patient-ae-note")).to_have_count(0)  # the demo's patients answered their links
    assert int(page.locator("#soreness-table tr").nth(1).locator("td").nth(1).inner_text()) > 0
    assert page.locator("svg[role=img]").count() >= 5
    assert page.locator("#outcomes-table tr").count() > 1  # the demo's outcome scores
    assert no_sideways_scroll(page)
    page.screenshot(path=str(tmp_path / f"dashboard-{width}.png"), full_page=True)

    page.get_by_role("link", name="Patients").click()
    page.locator("table a").first.click()
    page.locator("a[href*='/records/episodes/']").first.click()
    page.get_by_role("link", name="Progress and outcome measures").click()
    expect(page.get_by_role("heading", name="Record a score")).to_be_visible()
    for score, day in (("9", "2020-01-01"), ("5", "2020-02-01")):  # before any demo score: the new baseline
        page.get_by_label("Measure", exact=True).select_option("nprs")
        page.get_by_label("Score (the total)").fill(score)
        page.get_by_label("Date", exact=True).fill(day)
        page.get_by_role("button", name="Save score").click()
        expect(page.locator("#measure-nprs")).to_be_visible()
    expect(page.locator("#measure-nprs .sentence")).to_contain_text("minimal important change")
    assert no_sideways_scroll(page)
    page.screenshot(path=str(tmp_path / f"progress-{width}.png"), full_page=True)
