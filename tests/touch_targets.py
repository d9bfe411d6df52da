"""Checks a tablet user relies on, for the browser tests of every page with a form: the page fits the screen
(no sideways scrolling, nothing cut off), no Ctrl-click lists, and every body-chart region a target of at
least 24 x 24 CSS px in each view of the chart (front, back, and both)."""

from __future__ import annotations

MIN_TARGET_PX = 24
VIEWS = ("front", "back", "both")
TIMEOUT_MS = 15_000


def overflow(page) -> int:
    """How far the page scrolls sideways, in CSS px (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def cut_off(page, width: int) -> list[str]:
    """Visible form controls, buttons, links and charts whose box reaches past the viewport's left or right."""
    return page.evaluate(
        """(width) => {
          const out = [];
          document.querySelectorAll('input, select, textarea, button, a, label, legend, svg.body-chart').forEach(el => {
            const r = el.getBoundingClientRect();
            if (r.width === 0 || r.height === 0) { return; }
            if (el.closest('.picker-list, .scroll, .table-scroll')) { return; }  // scrolled inside their own box
            if (r.left < -0.5 || r.right > width + 0.5) {
              out.push(el.tagName + (el.name ? '[' + el.name + ']' : '') + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
            }
          });
          return out;
        }""",
        width,
    )


def multi_selects(page) -> int:
    """How many Ctrl-click lists (<select multiple>) the page has."""
    return page.locator("select[multiple]").count()


def targets(page) -> list[dict]:
    """Every drawn (displayed) shape of the page's chart with the size of the target a finger has for it, in
    CSS px: the shape itself or, for a small one, the invisible hit area centred on it. (A region drawn on
    both sides of the figure has two shapes, each its own target.)"""
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


def unreachable(page) -> list[str]:
    """Regions of the shown view(s) that a tap cannot reach: at no point of a 7 x 7 grid over each of the
    region's shapes and hit areas is the region the topmost element (a neighbour's target covers it)."""
    return page.evaluate(
        """() => {
          const out = [];
          document.querySelectorAll('.chart-box [data-region]').forEach(g => {
            const parts = Array.from(g.querySelectorAll(':scope > :not(title)'));
            if (!parts.some(e => e.getBoundingClientRect().width > 0)) { return; }
            g.scrollIntoView({block: 'center', inline: 'center'});
            const hit = parts.some(e => {
              const r = e.getBoundingClientRect();
              for (let i = 1; i < 8; i++) { for (let j = 1; j < 8; j++) {
                const el = document.elementFromPoint(r.x + r.width * i / 8, r.y + r.height * j / 8);
                if (el && el.closest('[data-region]') === g) { return true; }
              } }
              return false;
            });
            if (!hit) { out.push(g.dataset.region + ' (' + g.dataset.view + ')'); }
          });
          return out;
        }"""
    )


def check_chart_views(page, width: int, screenshot_dir=None, name: str = "chart") -> None:
    """Each view of the chart: only its regions drawn, each a finger-sized target that a tap reaches, the
    chart inside the screen. The smallest shapes are smaller than a finger, so the hit areas are what makes it pass."""
    page.wait_for_selector("[data-chart-views]:not([hidden])", timeout=TIMEOUT_MS)
    for view in VIEWS:
        page.click(f'[data-view-button="{view}"]')
        found = targets(page)
        expected = {"front", "back"} if view == "both" else {view}
        views = {t["view"] for t in found}
        assert found and views == expected, f"{view}: drawn {views}"
        small = [t for t in found if t["w"] < MIN_TARGET_PX or t["h"] < MIN_TARGET_PX]
        assert not small, f"{view}: {len(small)} targets under {MIN_TARGET_PX} px, e.g. {small[:3]}"
        assert min(t["shape_w"] for t in found) < MIN_TARGET_PX
        hidden = unreachable(page)
        assert not hidden, f"{view}: covered by neighbours' targets: {hidden}"
        box = page.locator(".chart-box svg").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{view}: chart outside the screen {box}"
        if screenshot_dir is not None:
            page.locator(".chart-box").screenshot(path=str(screenshot_dir / f"{name}-{view}-{width}.png"))


def check_fits(page, width: int) -> None:
    """No Ctrl-click list, no sideways scrolling, nothing cut off at the sides."""
    assert multi_selects(page) == 0, "a <select multiple> is left"
    assert overflow(page) <= 0, f"the page scrolls {overflow(page)} px sideways"
    outside = cut_off(page, width)
    assert outside == [], f"cut off at {width} px: {outside}"
