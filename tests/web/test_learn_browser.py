"""The public pages in a real Chromium at phone (390 px) and desktop (1280 px) widths: nothing wider than the
viewport, headings present, the skip link reachable by keyboard, print layout, the self-check end to end, and
axe-core (vendored in tests/data/axe, MPL-2.0) reporting no serious or critical accessibility violation."""

from __future__ import annotations

from pathlib import Path

import pytest

from dryneedling.services.learn import pages
from shipped import shipped_catalog

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[1] / "data" / "axe" / "axe.min.js"
WIDTHS = (390, 1280)
PATHS = ["/learn", *(f"/learn/{p.slug}" for p in pages(shipped_catalog())), "/learn/self-check"]
BLOCKING_IMPACTS = ("serious", "critical")


def _name(path: str) -> str:
    return path.strip("/").replace("/", "_")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", PATHS)
def test_it_fits_the_viewport_with_headings(page, live_server, screenshot_dir, path, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server}{path}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.locator("h1").count() == 1
    if path.count("/") == 2 and not path.endswith("self-check"):
        assert page.locator("main h2").count() >= 2
    page.screenshot(path=str(screenshot_dir / f"{_name(path)}_{width}.png"), full_page=True)


@pytest.mark.parametrize("path", PATHS)
def test_it_has_no_serious_or_critical_accessibility_violation(page, live_server, path):
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{live_server}{path}")
    page.evaluate(AXE.read_text())  # through DevTools: the page's CSP allows no injected <script>
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))"""
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, blocking


def test_it_has_no_accessibility_violation_in_the_self_check_answer(page, live_server, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{live_server}/learn/self-check")
    page.select_option("#area", "neck")
    page.check('input[name="blood_thinner"][value="yes"]')
    page.fill("#blood_thinner_name", "apixaban")
    page.click('button[type="submit"]')
    page.wait_for_selector("#answer-h")
    assert "extra care" in page.locator("#answer-h").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.context.cookies() == []
    page.evaluate(AXE.read_text())  # through DevTools: the page's CSP allows no injected <script>
    impacts = page.evaluate("async () => (await axe.run(document)).violations.map(v => [v.id, v.impact])")
    assert not [v for v in impacts if v[1] in BLOCKING_IMPACTS], impacts
    page.screenshot(path=str(screenshot_dir / "learn_self-check_answer_390.png"), full_page=True)


def test_it_reaches_the_skip_link_first_by_keyboard_and_shows_focus(page, live_server):
    page.goto(f"{live_server}/learn/how-it-works")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip"
    box = page.locator("a.skip").bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0  # on screen once focused
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.url.endswith("#content")


def test_it_prints_without_navigation_and_within_the_page(page, live_server, screenshot_dir):
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.goto(f"{live_server}/learn/safety")
    page.emulate_media(media="print")
    assert not page.locator("header.site nav").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 794
    page.screenshot(path=str(screenshot_dir / "learn_safety_print.png"), full_page=False)
