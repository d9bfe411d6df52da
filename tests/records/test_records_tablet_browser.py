"""The records' new-episode form on a phone (390 px) and a desktop (1280 px) in a real Chromium: the same
searchable picker and tap chart as the assess form (no Ctrl-click list), every chart region a finger-sized
target in each view, nothing cut off, and a missing answer named in words next to its field."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from records_helpers import set_up_clinic_in_browser

from touch_targets import check_chart_views, check_fits

pytestmark = pytest.mark.browser


def _patient_page(page: Page, server: str) -> None:
    set_up_clinic_in_browser(page, server)
    page.get_by_label("Name", exact=True).fill("Ann Example")
    page.get_by_label("Birth date", exact=True).fill("1980-02-03")
    page.get_by_label("Sex", exact=True).select_option("female")
    page.get_by_role("button", name="Add patient").click()
    expect(page.get_by_role("heading", name="Ann Example")).to_be_visible()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_new_episode_form_works_on_a_phone_and_a_desktop(page: Page, fresh_server, width, tmp_path):
    page.set_viewport_size({"width": width, "height": 900})
    _patient_page(page, fresh_server)
    check_fits(page, width)
    check_chart_views(page, width, tmp_path, "episode-chart")

    # Sent without a painful region: the error is in words next to the picker, which it describes.
    page.get_by_label("Condition").select_option("tension_type_headache")
    page.get_by_role("button", name="Assess and open episode").click()
    note = page.locator("#episode-pain .field-error")
    expect(note).to_contain_text("Where it hurts")
    assert "pain_regions" not in note.inner_text()
    picker = page.locator("#episode-pain")
    assert picker.get_attribute("aria-describedby") == note.get_attribute("id")
    assert picker.get_attribute("aria-invalid") == "true"
    check_fits(page, width)
    page.screenshot(path=str(tmp_path / f"episode-error-{width}.png"), full_page=True)

    # Ticked in the list (found by typing) and tapped on the chart: the episode opens with both.
    picker.locator("[data-picker-filter]").fill("temple")
    picker.locator('input[value="temple"]').check()
    page.click('[data-view-button="front"]')
    page.locator('.chart-box [data-region="forehead"][data-view="front"] > ellipse').first.click()
    assert picker.locator('input[value="forehead"]').is_checked()
    page.get_by_role("button", name="Assess and open episode").click()
    expect(page.get_by_role("link", name="Show the consent form")).to_be_visible()
