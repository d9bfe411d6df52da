"""The assess form on a phone (390 px) and a desktop (1280 px) in a real Chromium: no sideways scrolling,
every body-chart region a target of at least 24 x 24 px, pickers that narrow as one types, an error in
words next to its field. Screenshots are saved under pytest's tmp dir (path printed with -s)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000
WIDTHS = [390, 1280]
MIN_TARGET_PX = 24


def _open(page, live_server, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server}/assess")
    page.wait_for_selector("[data-chart-views]:not([hidden])", timeout=TIMEOUT_MS)


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def _targets(page) -> list[dict]:
    """Every drawn (displayed) shape of the assess form's chart with the size of the target a finger has for
    it, in CSS pixels: the shape itself or, for a small one, the invisible hit area centred on it. (A
    region drawn on both sides of the figure has two shapes, each its own target.)"""
    return page.evaluate(
        """() => {
          const out = [];
          document.querySelectorAll('.chart-box [data-region]').forEach(g => {
            const hits = Array.from(g.querySelectorAll(':scope > rect.hit')).map(h => h.getBoundingClientRect());
            g.querySelectorAll(':scope > ellipse, :scope > polygon').forEach(shape => {
              const r = shape.getBoundingClientRect();
              if (r.width === 0 || r.height === 0) { return; }
              const cx = r.x + r.width / 2, cy = r.y + r.height / 2;
              let best = r;
              hits.forEach(h => {
                if (h.x <= cx && cx <= h.right && h.y <= cy && cy <= h.bottom
                    && Math.min(h.width, h.height) > Math.min(best.width, best.height)) { best = h; }
              });
              out.push({id: g.dataset.region, view: g.dataset.view, w: best.width, h: best.height,
                        shape_w: r.width, shape_h: r.height});
            });
          });
          return out;
        }"""
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_the_assess_page_fits_the_screen_without_scrolling_sideways(page, live_server, width, screenshot_dir):
    _open(page, live_server, width)
    assert _overflow(page) <= 0
    for link in page.locator("header.site nav a").all():
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, link.inner_text()
    page.locator("details").first.evaluate("d => d.open = true")
    page.locator('#assess-lymphedema_regions input[value="shoulder_arm"]').check()
    assert _overflow(page) <= 0
    page.screenshot(path=str(screenshot_dir / f"assess-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_chart_region_is_a_finger_sized_target_in_each_view(page, live_server, width, screenshot_dir):
    _open(page, live_server, width)
    for view in ("front", "back"):
        page.click(f'[data-view-button="{view}"]')
        targets = _targets(page)
        assert targets and {t["view"] for t in targets} == {view}
        small = [t for t in targets if t["w"] < MIN_TARGET_PX or t["h"] < MIN_TARGET_PX]
        assert not small, small[:5]
        assert min(t["shape_w"] for t in targets) < MIN_TARGET_PX  # the hit areas are doing the work
        box = page.locator(".chart-box svg").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        page.locator(".chart-box").screenshot(path=str(screenshot_dir / f"chart-{view}-{width}.png"))
    # The temple, the smallest region, is picked by a tap on its own target.
    page.click('[data-view-button="front"]')
    page.locator('.chart-box [data-region="temple"][data-view="front"] rect.hit').first.click()
    assert page.locator('#assess-pain input[value="temple"]').is_checked()


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
