"""A browser walks readers' questions end to end: a reader asks under a topic page, the owner signs in and
approves it with an answer, and the answer appears under the topic page."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dryneedling.db import open_store
from dryneedling.questions.spam import FormClock, SpamSettings
from dryneedling.services import accounts
from dryneedling.services import learn as learn_service
from dryneedling.services import questions as service
from dryneedling.web.app import create_app
from live import serve

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parents[1] / "data" / "axe" / "axe.min.js"
PASSWORD = "a long enough password"
EMAIL = "olive@harbour.example"


@pytest.fixture
def clinic_server(tmp_path, catalog) -> Iterator[str]:
    """A clinic whose owner turned the question form on, served by uvicorn on a new SQLite database."""
    store = open_store(f"sqlite:///{tmp_path / 'questions.db'}", migrate=True)
    clinic = accounts.add_clinic(store, "Harbour Physio")
    owner = accounts.add_user(store, clinic.id, EMAIL, "owner", PASSWORD, name="Olive Owner")
    service.set_enabled(store, owner, True)
    app = create_app(catalog, store, session_key=secrets.token_urlsafe(40))
    # A person types for longer than a second; the shipped minimum (4 s) would only slow the test down.
    app.state.question_desk = service.QuestionDesk(
        FormClock(secrets.token_bytes(32)), SpamSettings(min_seconds_to_fill=1.0)
    )
    with serve(app) as url:
        yield url
    store.engine.dispose()


def test_it_walks_a_readers_question_to_its_published_answer(page: Page, clinic_server, catalog):
    topic = learn_service.pages(catalog)[0].slug
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{clinic_server}/learn/{topic}")
    expect(page.get_by_role("heading", name="Readers' questions")).to_be_visible()
    page.get_by_label("Your question", exact=True).fill("Should I use heat or ice after a session?")
    page.get_by_label("Your first name (optional, shown with your question)").fill("Sam")
    page.wait_for_timeout(1200)
    page.get_by_role("button", name="Send question").click()
    expect(page.locator("#question-thanks")).to_be_visible()
    expect(page.locator("#questions")).not_to_contain_text("heat or ice")

    page.goto(f"{clinic_server}/records/login")
    page.get_by_label("E-mail", exact=True).fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Readers' questions").click()
    expect(page.get_by_role("heading", name="Readers' questions")).to_be_visible()
    expect(page.locator(".pending")).to_contain_text("heat or ice")
    page.get_by_label("Your answer").fill("Gentle heat often eases the soreness; ask your clinician.")
    page.get_by_role("button", name="Approve with answer").click()
    expect(page.get_by_text("No questions wait.")).to_be_visible()

    page.goto(f"{clinic_server}/learn/{topic}")
    answered = page.locator(".answered")
    expect(answered).to_contain_text("Should I use heat or ice after a session?")
    expect(answered).to_contain_text("Answer by Olive Owner")
    expect(answered).to_contain_text("Gentle heat often eases the soreness")
    # The section with its form and answers stays accessible and fits the phone's width.
    page.evaluate(AXE.read_text())  # through DevTools: the page's CSP allows no injected <script>
    violations = page.evaluate(
        """async () => (await axe.run('#questions', {resultTypes: ['violations']})).violations
            .filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id)"""
    )
    assert violations == []
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the topic page is {overflow}px wider than the screen"
