"""A browser walks the records as a clinic would, on a phone (390 px) and on a desktop: first-run set-up ->
patient -> episode -> consent signed on the device -> visit with three muscles (CPT 20561) -> sign ->
amendment -> the note as PDF. Screenshots are saved for a person to look at."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from records_helpers import set_up_clinic_in_browser

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 900)])
def test_it_walks_from_first_run_to_the_amended_note_pdf(page: Page, fresh_server, width, height, tmp_path):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(fresh_server + "/records")
    expect(page.get_by_role("heading", name="Set up your clinic")).to_be_visible()
    set_up_clinic_in_browser(page, fresh_server)

    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Ann Example")
    page.get_by_label("Birth date", exact=True).fill("1980-02-03")
    page.get_by_label("Sex", exact=True).select_option("female")
    page.get_by_role("button", name="Add patient").click()

    expect(page.get_by_role("heading", name="Ann Example")).to_be_visible()
    page.get_by_label("Condition").select_option("tension_type_headache")
    pain = page.locator("#episode-pain")
    pain.locator("[data-picker-filter]").fill("temple")
    pain.locator('input[value="temple"]').check()
    page.click('[data-view-button="back"]')
    page.locator('.chart-box [data-region="posterior_neck"][data-view="back"]').first.click()
    assert pain.locator('input[value="posterior_neck"]').is_checked()
    page.get_by_label("Side", exact=True).select_option("right")
    page.get_by_role("button", name="Assess and open episode").click()

    page.get_by_role("link", name="Show the consent form").click()
    expect(page.locator("#consent-text")).to_contain_text("not acupuncture")
    page.get_by_label("Full name of the person signing").fill("Ann Example")
    page.get_by_label("Type your name again to sign").fill("Ann Example")
    page.get_by_label("I agree to dry needling").check()
    page.get_by_label("A copy was given to the patient").check()
    page.get_by_role("button", name="Sign consent").click()
    expect(page.get_by_text("Signed by patient Ann Example")).to_be_visible()

    rows = [
        ("upper_trapezius", "right", "2", "15"),
        ("temporalis", "right", "1", "8"),
        ("sternocleidomastoid", "bilateral", "2", "20"),
    ]
    # The muscle list is searchable: typing narrows it; a blocked or restricted muscle shows why once chosen.
    first = page.get_by_label("Muscle 1", exact=True)
    every = first.evaluate("s => s.options.length - 1")
    page.get_by_label("Filter: Muscle 1").fill("trap")
    shown = first.evaluate(
        "s => Array.from(s.options).filter(o => o.value && !o.hidden).map(o => o.textContent)"
    )
    assert shown and len(shown) < every and all("trap" in text.lower() for text in shown)
    marked = first.evaluate("s => (Array.from(s.options).find(o => o.dataset.note) || {}).value || ''")
    if marked:
        first.select_option(marked)
        expect(page.locator("#muscle-note-0")).to_contain_text(re.compile("Blocked|Restricted"))
    first.evaluate("s => s.scrollIntoView({block: 'center'})")
    page.screenshot(path=str(tmp_path / f"needling-{width}.png"))
    for index, (muscle, side, needles, depth) in enumerate(rows, start=1):
        page.get_by_label(f"Muscle {index}", exact=True).select_option(muscle)
        page.get_by_label(f"Side {index}", exact=True).select_option(side)
        page.get_by_label(f"Needles {index}", exact=True).fill(needles)
        page.get_by_label(f"Depth {index}", exact=True).fill(depth)
    page.get_by_label("Pain before (0-10)").fill("6")
    page.get_by_label("Pain after (0-10)").fill("3")
    page.get_by_label("Needles counted out").fill("5")
    page.get_by_label("Clean needle technique").check()
    page.get_by_label("Sharps disposed").check()
    page.get_by_label("Adverse event 1").select_option("bruising")
    page.get_by_role("button", name="Save visit (draft)").click()

    expect(page.locator("#cpt")).to_contain_text("CPT 20561: 3 distinct muscles")
    page.get_by_role("button", name="Sign note").click()
    expect(page.locator("#status")).to_contain_text("Signed by Olive Owner")
    page.get_by_label("Correction").fill("Twitch responses in upper trapezius were 3.")
    page.get_by_role("button", name="Add amendment").click()
    expect(page.locator("#amendments")).to_contain_text("were 3")
    overflow = page.evaluate(
        "document.querySelector('.records').scrollWidth - document.querySelector('.records').clientWidth"
    )
    assert overflow <= 1, f"the records page is {overflow}px wider than the screen"
    page.screenshot(path=str(tmp_path / f"visit-{width}.png"), full_page=True)

    href = page.get_by_role("link", name="Note as PDF").get_attribute("href")
    pdf = page.context.request.get(fresh_server + href)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
