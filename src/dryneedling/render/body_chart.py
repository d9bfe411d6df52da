"""The body chart: front and back silhouettes as one SVG, with one shape group per body region.

The geometry is hand-authored in ``data/body_chart.yaml`` so that a clinician can read and correct it.
Each region is drawn on the view(s) where it is visible; every drawn region carries ``data-region`` (its
knowledge-base id) and a ``<title>`` with its plain label, so the same SVG serves the web page (clickable)
and the PDF (printed). Shading uses fill attributes rather than CSS so WeasyPrint draws it identically.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import cache
from html import escape
from importlib import resources

import yaml

FIGURE_WIDTH = 200
FIGURE_HEIGHT = 480
VIEW_GAP = 20
VIEWS = ("front", "back")
LEGEND_HEIGHT = 62

# What each highlight kind means on the chart, and how it is shaded. Order is legend order. ``colour`` is
# the plain name of ``fill`` that legend sentences use, so the words always match what is drawn.
HIGHLIGHT_STYLES: dict[str, dict[str, str]] = {
    "pain": {"fill": "#d7301f", "opacity": "0.85", "legend": "Where it hurts", "colour": "red"},
    "referral": {
        "fill": "#3182bd",
        "opacity": "0.55",
        "legend": "Where the listed muscles can send pain",
        "colour": "blue",
    },
    "both": {
        "fill": "#7b3294",
        "opacity": "0.8",
        "legend": "Hurts, and the listed muscles can send pain there",
        "colour": "purple",
    },
}
SIDES = ("left", "right", "bilateral")
UNSHADED = {"fill": "#ffffff", "opacity": "0.01"}
OUTLINE_FILL = "#e8e4df"
OUTLINE_STROKE = "#8c8279"


@cache
def chart_geometry() -> dict:
    """The chart geometry from ``render/data/body_chart.yaml`` (parsed once)."""
    text = resources.files("dryneedling.render").joinpath("data/body_chart.yaml").read_text()
    # libyaml's loader when present: the pure-Python one took ~0.1 s of every printed report.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def charted_region_ids() -> frozenset[str]:
    """Every body-region id that has a shape on at least one view."""
    return frozenset(chart_geometry()["regions"])


def region_views(region_id: str) -> tuple[str, ...]:
    """The views on which ``region_id`` is drawn (empty when the chart has no shape for it)."""
    spec = chart_geometry()["regions"].get(region_id)
    return tuple(spec["views"]) if spec else ()


def highlight_for(pain: Iterable[str], referral: Iterable[str]) -> dict[str, str]:
    """Combine painful regions and referral zones into the ``highlight`` mapping of :func:`body_chart_svg`.

    A region that is both painful and a referral zone is marked ``"both"`` so neither meaning is hidden.
    """
    pain_set, referral_set = set(pain), set(referral)
    highlight = {region: "referral" for region in referral_set}
    for region in pain_set:
        highlight[region] = "both" if region in referral_set else "pain"
    return highlight


def legend_kinds(highlight: Mapping[str, str]) -> list[str]:
    """The shadings a chart's legend lists: pain and referral always, "both" only when drawn."""
    return [kind for kind in HIGHLIGHT_STYLES if kind != "both" or "both" in highlight.values()]


def legend_words(highlight: Mapping[str, str]) -> list[tuple[str, str]]:
    """(colour name, meaning) for each shading actually drawn, for text beside the chart."""
    drawn = set(highlight.values())
    return [
        (HIGHLIGHT_STYLES[kind]["colour"], HIGHLIGHT_STYLES[kind]["legend"])
        for kind in HIGHLIGHT_STYLES
        if kind in drawn
    ]


def _shape(spec: Mapping, mirrored: bool, attrs: str) -> str:
    if "ellipse" in spec:
        cx, cy, rx, ry = spec["ellipse"]
        if mirrored:
            cx = FIGURE_WIDTH - cx
        rotate = spec.get("rotate", 0)
        if rotate:
            rotate = -rotate if mirrored else rotate
            transform = f' transform="rotate({rotate} {cx} {cy})"'
        else:
            transform = ""
        return f'<ellipse cx="{cx}" cy="{cy}" rx="{rx}" ry="{ry}"{transform}{attrs}/>'
    points = spec["polygon"]
    if mirrored:
        points = [[FIGURE_WIDTH - x, y] for x, y in points]
    point_text = " ".join(f"{x},{y}" for x, y in points)
    return f'<polygon points="{point_text}"{attrs}/>'


def _bbox(spec: Mapping, mirrored: bool) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1): the box around a shape as drawn (a rotated ellipse's too)."""
    if "ellipse" in spec:
        cx, cy, rx, ry = spec["ellipse"]
        if mirrored:
            cx = FIGURE_WIDTH - cx
        angle = math.radians(spec.get("rotate", 0))
        half_w = math.hypot(rx * math.cos(angle), ry * math.sin(angle))
        half_h = math.hypot(rx * math.sin(angle), ry * math.cos(angle))
        return cx - half_w, cy - half_h, cx + half_w, cy + half_h
    points = [[FIGURE_WIDTH - x, y] if mirrored else [x, y] for x, y in spec["polygon"]]
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def _area(spec: Mapping) -> float:
    x0, y0, x1, y1 = _bbox(spec, False)
    return (x1 - x0) * (y1 - y0)


def _hit_area(spec: Mapping, mirrored: bool, size: float) -> str:
    """An invisible rectangle of at least ``size`` x ``size`` under a small shape, so a finger can hit it."""
    x0, y0, x1, y1 = _bbox(spec, mirrored)
    if x1 - x0 >= size and y1 - y0 >= size:
        return ""
    width, height = max(x1 - x0, size), max(y1 - y0, size)
    x, y = (x0 + x1 - width) / 2, (y0 + y1 - height) / 2
    return (
        f'<rect class="hit" x="{x:g}" y="{y:g}" width="{width:g}" height="{height:g}" '
        'fill="#ffffff" fill-opacity="0" stroke="none"/>'
    )


def _outline(view: str) -> str:
    outline = chart_geometry()["outline"]
    attrs = f' fill="{OUTLINE_FILL}" stroke="{OUTLINE_STROKE}" stroke-width="0.8"'
    pieces = [_shape(spec, False, attrs) for spec in (*outline["common"], *outline[view])]
    return '<g class="outline" aria-hidden="true">' + "".join(pieces) + "</g>"


def _drawn_side(view: str, mirrored: bool) -> str:
    """The person's side a shape shows. The geometry is authored on the viewer's left (x < 100); the
    front view faces the viewer, so that is the person's right; the back view shows the person's left."""
    authored = "right" if view == "front" else "left"
    return ("left" if authored == "right" else "right") if mirrored else authored


def _region_group(
    region_id: str,
    spec: Mapping,
    label: str,
    kind: str | None,
    interactive: bool,
    view: str,
    side: str | None = None,
    min_target: float = 0,
    title: bool = True,
) -> str:
    def attrs_for(shaded: bool) -> str:
        style = HIGHLIGHT_STYLES.get(kind, UNSHADED) if kind and shaded else UNSHADED
        stroke = "#5b5149" if kind and shaded else "#b5aca3"
        return (
            f' fill="{style["fill"]}" fill-opacity="{style["opacity"]}" stroke="{stroke}" stroke-width="0.4"'
        )

    one_side = side in ("left", "right") and bool(spec.get("mirror"))
    shapes = [_shape(spec, False, attrs_for(not one_side or _drawn_side(view, False) == side))]
    if spec.get("mirror"):
        shapes.append(_shape(spec, True, attrs_for(not one_side or _drawn_side(view, True) == side)))
    if interactive and min_target:
        hits = [_hit_area(spec, False, min_target)]
        if spec.get("mirror"):
            hits.append(_hit_area(spec, True, min_target))
        shapes = [*hits, *shapes]
    classes = "region" + (f" region--{kind}" if kind else "")
    extra = ""
    if interactive:
        pressed = "true" if kind in ("pain", "both") else "false"
        extra = f' tabindex="0" role="button" aria-pressed="{pressed}" aria-label="{escape(label)} ({view})"'
    kind_attr = f' data-kind="{kind}"' if kind else ""
    side_attr = f' data-side="{side}"' if kind and one_side else ""
    return (
        f'<g class="{classes}" data-region="{escape(region_id)}" data-view="{view}"{kind_attr}{side_attr}{extra}>'
        + (f"<title>{escape(label)}</title>" if title else "")
        + f"{''.join(shapes)}</g>"
    )


def _legend(y: float, kinds: Iterable[str]) -> str:
    items = []
    x = 6.0
    for kind in kinds:
        style = HIGHLIGHT_STYLES[kind]
        items.append(
            f'<rect x="{x}" y="{y}" width="12" height="12" fill="{style["fill"]}" '
            f'fill-opacity="{style["opacity"]}" stroke="#5b5149" stroke-width="0.5"/>'
            f'<text x="{x + 17}" y="{y + 10}" font-size="10.5">{escape(style["legend"])}</text>'
        )
        x += 26 + 5.6 * len(style["legend"])
        if x > 2 * FIGURE_WIDTH - 60:
            x, y = 6.0, y + 18
    return '<g class="legend">' + "".join(items) + "</g>"


def body_chart_svg(
    highlight: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    *,
    interactive: bool = False,
    title: str = "Body chart",
    sides: Mapping[str, str | None] | None = None,
    marked_only: bool = False,
    min_target: float = 0,
    region_titles: bool = True,
) -> str:
    """Front and back body chart as one inline SVG string.

    ``highlight`` maps a body-region id to ``"pain"``, ``"referral"`` or ``"both"`` (see
    :func:`highlight_for`); other regions are drawn unshaded but stay clickable when ``interactive``.
    ``labels`` maps region ids to plain labels (pass the knowledge base's region labels; a region without
    one is titled by its id, readable). ``sides`` maps a
    highlighted region to the person's side ("left", "right" or "bilateral"); a region drawn on both sides
    of the figure is then shaded on that side only (no entry, or "bilateral": both). ``marked_only`` leaves
    unshaded regions out (a printed chart: they are invisible there and cost layout time). A highlighted id
    the chart cannot draw raises ``ValueError``, because silently dropping a painful region would mislead.
    ``min_target`` (chart units, interactive charts only) puts an invisible hit area of at least that size
    under every smaller shape and draws the smaller regions on top, so each stays reachable by a finger.
    ``region_titles=False`` leaves out each region's ``<title>`` (hover text: nothing on paper, where the
    key beside the chart names what is shaded).
    """
    highlight = dict(highlight or {})
    regions = chart_geometry()["regions"]
    unknown = sorted(set(highlight) - set(regions))
    if unknown:
        raise ValueError(f"the body chart has no shape for region(s): {', '.join(unknown)}")
    bad_kinds = sorted({kind for kind in highlight.values() if kind not in HIGHLIGHT_STYLES})
    if bad_kinds:
        raise ValueError(f"unknown highlight kind(s): {', '.join(bad_kinds)}")
    sides = dict(sides or {})
    bad_sides = sorted({str(side) for side in sides.values() if side is not None and side not in SIDES})
    if bad_sides:
        raise ValueError(f"unknown side(s): {', '.join(bad_sides)}")
    labels = dict(labels or {})

    width = 2 * FIGURE_WIDTH + VIEW_GAP
    height = FIGURE_HEIGHT + LEGEND_HEIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="body-chart" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" font-family="DejaVu Sans, sans-serif">',
        f"<title>{escape(title)}</title>",
    ]
    for index, view in enumerate(VIEWS):
        offset = index * (FIGURE_WIDTH + VIEW_GAP)
        parts.append(f'<g class="view view--{view}" transform="translate({offset} 0)">')
        heading = "Front" if view == "front" else "Back"
        parts.append(
            f'<text x="{FIGURE_WIDTH / 2}" y="{FIGURE_HEIGHT - 2}" font-size="12" text-anchor="middle" '
            f'fill="#4a4039">{heading}</text>'
        )
        parts.append(_outline(view))
        ordered = list(regions.items())
        if interactive and min_target:
            ordered.sort(key=lambda item: -_area(item[1]))
        for region_id, spec in ordered:
            if marked_only and region_id not in highlight:
                continue
            if view in spec["views"]:
                label = labels.get(region_id, region_id.replace("_", " "))
                parts.append(
                    _region_group(
                        region_id,
                        spec,
                        label,
                        highlight.get(region_id),
                        interactive,
                        view,
                        sides.get(region_id),
                        min_target,
                        region_titles,
                    )
                )
        parts.append("</g>")
    parts.append(_legend(FIGURE_HEIGHT + 14, legend_kinds(highlight)))
    parts.append("</svg>")
    return "".join(parts)
