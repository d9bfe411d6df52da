"""End to end in a real Chromium: the assess form to a report, the clickable atlas chart, the evidence
filters and the PDF download. Screenshots are saved under pytest's tmp dir (path printed with -s)."""

from __future__ import annotations

import pytest

from dryneedling.assessment.atlas import rank_muscles
from shipped import shipped_catalog

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000


def _region(page, region_id: str, view: str):
    """A point of the region that a finger reaches: the shape itself (a group's bounding box centre can fall
    on a neighbour), at its lower part, away from the hit areas of smaller regions drawn over its top."""
    return page.locator(
        f'.chart-box [data-region="{region_id}"][data-view="{view}"] > :is(ellipse, polygon)'
    ).first


def _tap(page, region_id: str, view: str) -> None:
    shape = _region(page, region_id, view)
    box = shape.bounding_box()
    shape.click(position={"x": box["width"] / 2, "y": box["height"] * 0.85}, force=False)


def test_it_ranks_muscles_when_a_region_is_clicked_on_the_atlas_chart(page, live_server, screenshot_dir):
    page.goto(f"{live_server}/atlas")
    page.click('[data-view-button="back"]')  # the chart shows one view at a time, larger
    _tap(page, "posterior_neck", "back")
    page.wait_for_selector("#atlas-table tr.candidate", timeout=TIMEOUT_MS)
    expected = rank_muscles(shipped_catalog(), ["posterior_neck"])
    first_row = page.locator("#atlas-table tr.candidate").first
    assert first_row.get_attribute("data-muscle") == expected[0].muscle
    assert page.locator("#atlas-table tr.candidate").count() == len(expected)
    # The chart came back re-shaded: the clicked region is painful, referral zones are shaded too.
    page.wait_for_selector(
        '#atlas-chart [data-region="posterior_neck"][data-kind="pain"], '
        '#atlas-chart [data-region="posterior_neck"][data-kind="both"]',
        state="attached",
        timeout=TIMEOUT_MS,
    )
    assert page.locator('#atlas-chart [data-kind="referral"]').count() > 0
    assert page.locator('#atlas-pain input[value="posterior_neck"]').is_checked()
    # The re-shaded chart still shows the view that was chosen.
    assert page.locator("#atlas-chart svg").get_attribute("data-show") == "back"
    page.screenshot(path=str(screenshot_dir / "atlas.png"), full_page=True)

    # A second click on the same region removes it again.
    _tap(page, "posterior_neck", "back")
    page.wait_for_selector("#atlas-results >> text=Pick at least one painful region", timeout=TIMEOUT_MS)


def _fill_assessment(page, live_server):
    page.goto(f"{live_server}/assess")
    page.fill('input[name="age"]', "46")
    page.select_option('select[name="condition"]', "low_back_pain")
    page.select_option('select[name="side"]', "right")
    page.fill('input[name="pain_nprs"]', "6")
    page.fill('input[name="duration_weeks"]', "20")
    page.click('[data-view-button="back"]')  # the assess chart shows one view at a time, larger
    _region(page, "low_back", "back").click()
    assert page.locator('#assess-pain input[value="low_back"]').is_checked()
    page.check('input[name="consent"]')


def test_it_goes_from_the_assess_form_to_a_report_in_both_renderings(page, live_server, screenshot_dir):
    _fill_assessment(page, live_server)
    page.click("#show-report")
    page.wait_for_selector('#report [data-audience="clinician"]', timeout=TIMEOUT_MS)
    clinician = page.locator('#report [data-audience="clinician"]')
    assert clinician.is_visible()
    for heading in ("Screening", "Candidate muscles", "What the research shows", "Aftercare", "Bibliography"):
        assert clinician.locator("h2", has_text=heading).count() == 1, heading
    assert clinician.locator("svg.body-chart [data-kind]").count() > 0
    page.screenshot(path=str(screenshot_dir / "assess-clinician.png"), full_page=True)

    page.click('.tab[data-tab="patient"]')
    patient = page.locator('#report [data-audience="patient"]')
    assert patient.is_visible() and not clinician.is_visible()
    assert patient.locator("h1").inner_text() == "Your dry needling handout"
    assert patient.locator("#aftercare").is_visible()
    page.screenshot(path=str(screenshot_dir / "assess-patient.png"), full_page=True)


def test_it_shows_what_is_missing_when_the_form_is_incomplete(page, live_server):
    page.goto(f"{live_server}/assess")
    page.fill('input[name="age"]', "46")
    page.select_option('select[name="condition"]', "low_back_pain")
    page.click("#show-report")
    alert = page.wait_for_selector('#report [role="alert"]', timeout=TIMEOUT_MS)
    assert "Painful regions is required" in alert.inner_text()


def test_it_downloads_the_patient_pdf(page, live_server, screenshot_dir):
    _fill_assessment(page, live_server)
    with page.expect_download(timeout=30_000) as download_info:
        page.click('button[formaction="/assess/pdf"][value="patient"]')
    download = download_info.value
    target = screenshot_dir / download.suggested_filename
    download.save_as(str(target))
    assert target.read_bytes().startswith(b"%PDF")


def test_it_filters_the_evidence_table_in_place(page, live_server, screenshot_dir):
    page.goto(f"{live_server}/evidence")
    all_rows = page.locator("tr.evidence-row").count()
    page.select_option('select[name="region"]', "neck")
    page.wait_for_function(
        "n => document.querySelectorAll('tr.evidence-row').length !== n", arg=all_rows, timeout=TIMEOUT_MS
    )
    regions = page.locator("tr.evidence-row").evaluate_all("rows => rows.map(r => r.dataset.region)")
    assert regions and set(regions) == {"neck"}
    page.screenshot(path=str(screenshot_dir / "evidence.png"), full_page=True)


def _report_summary_box(page, live_server, width: int, height: int):
    page.set_viewport_size({"width": width, "height": height})
    _fill_assessment(page, live_server)
    page.click("#show-report")
    summary = page.wait_for_selector('#report [data-audience="clinician"] #summary', timeout=TIMEOUT_MS)
    page.wait_for_function(
        "() => Math.abs(document.getElementById('report').getBoundingClientRect().top) < 2"
    )
    return summary


def test_it_shows_the_whole_summary_above_the_fold_on_a_laptop(page, live_server, screenshot_dir):
    summary = _report_summary_box(page, live_server, 1280, 800)
    box = summary.bounding_box()
    page.screenshot(path=str(screenshot_dir / "summary-1280.png"))
    assert box["y"] >= 0 and box["y"] + box["height"] <= 800, box
    # The details wait, folded, below it.
    details = page.locator('#report [data-audience="clinician"] section.detail details')
    assert details.count() >= 8
    assert details.evaluate_all("ds => ds.every(d => !d.open)")


def test_it_starts_the_summary_above_the_fold_on_a_phone(page, live_server, screenshot_dir):
    summary = _report_summary_box(page, live_server, 390, 844)
    page.screenshot(path=str(screenshot_dir / "summary-390.png"))
    decision = summary.query_selector(".decision-line .decision").bounding_box()
    assert decision["y"] >= 0 and decision["y"] + decision["height"] <= 844, decision
    # Nothing spills sideways on a phone.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_it_opens_the_bibliography_when_a_citation_is_clicked(page, live_server):
    _report_summary_box(page, live_server, 1280, 800)
    cite = page.locator('#report [data-audience="clinician"] #summary a.cite').first
    target = cite.get_attribute("href")
    cite.click()
    assert page.locator(f'#report [data-audience="clinician"] {target}').is_visible()
