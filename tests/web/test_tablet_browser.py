"""The assess form and the referral atlas on a phone (390 px) and a desktop (1280 px) in a real Chromium: no
Ctrl-click lists, no sideways scrolling, every body-chart region a target of at least 24 x 24 px in each view,
pickers that narrow as one types, an error in words next to its field. Screenshots are saved under pytest's tmp dir (path printed with -s)."""

from __future__ import annotations

import pytest

from touch_targets import check_chart_views, check_fits

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000
WIDTHS = [390, 1280]
FORM_PAGES = ["/assess", "/atlas"]


def _open(page, live_server, width: int, path: str = "/assess") -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server}{path}")
    page.wait_for_selector("[data-chart-views]:not([hidden])", timeout=TIMEOUT_MS)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_assess_page_fits_the_screen_without_scrolling_sideways(page, live_server, width, screenshot_dir):
    _open(page, live_server, width)
    check_fits(page, width)
    for link in page.locator("header.site nav a").all():
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, link.inner_text()
    page.locator("details").first.evaluate("d => d.open = true")
    page.locator('#assess-lymphedema_regions input[value="shoulder_arm"]').check()
    check_fits(page, width)
    page.screenshot(path=str(screenshot_dir / f"assess-{width}.png"), full_page=True)


@pytest.mark.parametrize("path", FORM_PAGES)
@pytest.mark.parametrize("width", WIDTHS)
def test_every_chart_region_is_a_finger_sized_target_in_each_view(
    page, live_server, width, path, screenshot_dir
):
    _open(page, live_server, width, path)
    check_chart_views(page, width, screenshot_dir, f"chart{path.replace('/', '-')}")
    # The temple, the smallest region, is picked by a tap on its own target.
    page.click('[data-view-button="front"]')
    page.locator('.chart-box [data-region="temple"][data-view="front"] rect.hit').first.click()
    assert page.locator('[data-picker] input[value="temple"]').first.is_checked()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_atlas_picks_by_list_or_chart_and_fits_the_screen(page, live_server, width, screenshot_dir):
    _open(page, live_server, width, "/atlas")
    check_fits(page, width)
    picker = page.locator("#atlas-pain")
    everything = page.locator("#atlas-pain .pick").count()
    picker.locator("[data-picker-filter]").fill("low back")
    assert 0 < page.locator("#atlas-pain .pick:not([hidden])").count() < everything
    picker.locator('input[value="low_back"]').check()
    page.wait_for_selector("#atlas-table tr.candidate", timeout=TIMEOUT_MS)
    # The chart came back re-shaded, still one view at a time, the ticked region shown as painful.
    page.click('[data-view-button="back"]')
    page.wait_for_selector('#atlas-chart [data-region="low_back"][data-kind]', state="attached")
    assert page.locator("#atlas-chart svg").get_attribute("data-show") == "back"
    assert page.locator(".chart-legend li").count() >= 2
    check_fits(page, width)
    check_chart_views(page, width)
    page.screenshot(path=str(screenshot_dir / f"atlas-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_typing_in_a_picker_narrows_its_list(page, live_server, width):
    _open(page, live_server, width)
    picker = page.locator("#assess-active")
    visible = "#assess-active .pick:not([hidden])"
    everything = page.locator(visible).count()
    picker.locator("[data-picker-filter]").fill("trap")
    narrowed = page.locator(visible)
    assert 0 < narrowed.count() < everything
    assert all("trap" in text.lower() for text in narrowed.all_inner_texts())
    narrowed.first.locator("input").check()
    picker.locator("[data-picker-filter]").fill("")
    assert page.locator(visible).count() == everything
    # A ticked muscle stays in view whatever is typed.
    picker.locator("[data-picker-filter]").fill("zzz")
    assert page.locator(visible).count() == 1
    assert picker.locator(".picker-none").is_hidden()


@pytest.mark.parametrize("width", WIDTHS)
def test_an_error_shows_in_words_next_to_its_field(page, live_server, width, screenshot_dir):
    _open(page, live_server, width)
    page.fill('input[name="age"]', "46")
    page.select_option('select[name="condition"]', "low_back_pain")
    page.check('input[name="consent"]')
    page.click("#show-report")
    note = page.wait_for_selector("#assess-pain .field-error", timeout=TIMEOUT_MS)
    assert note.inner_text() == "Painful regions is required"
    assert "pain_regions" not in page.locator("#report").inner_text()
    described = page.locator("#assess-pain").get_attribute("aria-describedby")
    assert described == note.get_attribute("id")
    assert page.locator("#assess-pain").get_attribute("aria-invalid") == "true"
    page.screenshot(path=str(screenshot_dir / f"assess-error-{width}.png"))
    # Fixed and sent again: the note goes.
    page.locator('#assess-pain input[value="low_back"]').check()
    page.click("#show-report")
    page.wait_for_selector('#report [data-audience="clinician"]', timeout=TIMEOUT_MS)
    assert page.locator(".field-error").count() == 0


def test_a_side_per_regional_finding_reaches_the_report(page, live_server):
    _open(page, live_server, 1280)
    page.fill('input[name="age"]', "58")
    page.select_option('select[name="condition"]', "shoulder_pain_subacromial")
    page.locator('#assess-pain input[value="posterior_shoulder"]').check()
    page.check('input[name="consent"]')
    page.locator("details").first.evaluate("d => d.open = true")
    finding = page.locator("#assess-lymphedema_regions")
    finding.locator("[data-picker-filter]").fill("shoulder")
    finding.locator('input[value="shoulder_arm"]').check()
    side = finding.locator('select[name="lymphedema_regions_side.shoulder_arm"]')
    assert side.is_visible()
    side.select_option("right")
    page.click("#show-report")
    page.wait_for_selector('#report [data-audience="clinician"]', timeout=TIMEOUT_MS)
    assert "lymph" in page.locator('#report [data-audience="clinician"]').inner_text().lower()
