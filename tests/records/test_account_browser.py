"""The account page in a browser: set up, make a token, revoke it, change the password, sign out
everywhere, all without a Content-Security-Policy violation (the autouse check in tests/conftest.py); and a
control showing that check does catch an inline event handler."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from live import CSP_LISTENER

pytestmark = pytest.mark.browser
PASSWORD = "a long enough password"


def test_the_account_page_works_under_the_content_security_policy(page: Page, fresh_server):
    page.goto(fresh_server + "/records")
    page.get_by_label("Clinic name").fill("Harbour Physio")
    page.get_by_label("Your name").fill("Olive Owner")
    page.get_by_label("E-mail (your sign-in)").fill("olive@harbour.example")
    page.get_by_label("Password (at least 12 characters)").fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create clinic and sign in").click()
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()

    page.get_by_label("Name of a new token").fill("tablet")
    page.get_by_role("button", name="Make a token").click()
    token = page.locator("#new-token").inner_text()
    assert re.fullmatch(r"dn_[0-9a-f]{32}_\S+", token)
    assert page.context.request.get(
        fresh_server + "/api/patients", headers={"Authorization": f"Bearer {token}"}
    ).ok
    page.get_by_role("button", name="Revoke tablet").click()
    expect(page.get_by_role("cell", name="revoked")).to_be_visible()

    page.get_by_label("Current password").fill(PASSWORD)
    page.locator("#new_password").fill("a brand new passphrase")
    page.get_by_label("New password again").fill("a brand new passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed")

    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(fresh_server + "/records/patients")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_the_violation_check_catches_an_inline_handler(browser, fresh_server):
    """Control: an injected inline event handler is refused by the policy and reported."""
    context = browser.new_context()
    try:
        control = context.new_page()
        control.add_init_script(CSP_LISTENER)
        control.goto(fresh_server + "/records/login")
        control.evaluate(
            "document.body.insertAdjacentHTML('beforeend', '<img src=\"/static/none.png\" onerror=\"window.ran=1\">')"
        )
        control.wait_for_function("(window.__cspViolations || []).length > 0")
        assert control.evaluate("window.ran") is None
        assert "script-src" in control.evaluate("window.__cspViolations[0]")
    finally:
        context.close()
