"""Small hand-written SVG plots for the progress page and the clinic dashboard (no plotting library).

Each function returns one ``<svg>`` element as text with a ``<title>`` and ``role="img"``; the numbers under
each plot are also shown as a table on the page and offered as CSV. Every label is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from dryneedling.outcomes.dashboard import Funnel, Soreness
from dryneedling.outcomes.progress import MeasureProgress

WIDTH = 640
FONT = 'font-family="DejaVu Sans, Arial, sans-serif" font-size="12"'
INK, MUTED, ACCENT, BAND, WARN = "#222", "#666", "#1f5fa8", "#dbe8f6", "#b3261e"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        'class="outcome-plot" '  # sized by records.css: the CSP allows no style attribute
        f'role="img" aria-label="{escape(title)}" {FONT}><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", fill: str = INK, extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" {extra}>{escape(text)}</text>'


def _pct(value: float) -> str:
    return f"{100 * value:.3g} %" if value < 0.01 else f"{100 * value:.1f} %"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0):
        if value <= step:
            return step
    return value


# -- progress of one measure -----------------------------------------------------------------------------
def progress_svg(progress: MeasureProgress, low: float | None, high: float | None) -> str:
    """Scores over time with the baseline, and the band a change must cross to reach the MCID."""
    width, height, left, right, top, bottom = WIDTH, 220, 56, 16, 16, 36
    values = [p.score for p in progress.points]
    mcid = progress.mcid.value if progress.mcid else None
    better = -1 if progress.direction == "higher_worse" else 1
    target = progress.baseline + better * mcid if mcid is not None else None
    lo = low if low is not None else min([*values, *([target] if target is not None else [])]) * 0.9
    hi = high if high is not None else max([*values, *([target] if target is not None else [])]) * 1.1 or 1
    if hi <= lo:
        hi = lo + 1
    days = [p.day.toordinal() for p in progress.points]
    first, last = min(days), max(days)
    span_days = max(1, last - first)

    def x(day: int) -> float:
        return left + (width - left - right) * ((day - first) / span_days if last > first else 0.5)

    def y(value: float) -> float:
        return top + (height - top - bottom) * (1 - (value - lo) / (hi - lo))

    body = [
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="{MUTED}"/>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="{MUTED}"/>',
        _text(left - 6, y(hi) + 4, f"{hi:g}", "end", MUTED),
        _text(left - 6, y(lo) + 4, f"{lo:g}", "end", MUTED),
    ]
    if target is not None:
        band_top, band_bottom = sorted((y(progress.baseline), y(max(lo, min(hi, target)))))
        body.append(
            f'<rect x="{left}" y="{band_top:.1f}" width="{width - left - right}" '
            f'height="{band_bottom - band_top:.1f}" fill="{BAND}"><title>Changes inside this band are smaller '
            f"than the MCID ({mcid:g})</title></rect>"
        )
        body.append(
            f'<line x1="{left}" y1="{y(target):.1f}" x2="{width - right}" y2="{y(target):.1f}" '
            f'stroke="{ACCENT}" stroke-dasharray="4 3"/>'
        )
        body.append(
            _text(width - right, y(target) - 4, f"baseline {'-' if better < 0 else '+'} MCID", "end", ACCENT)
        )
    body.append(
        f'<line x1="{left}" y1="{y(progress.baseline):.1f}" x2="{width - right}" y2="{y(progress.baseline):.1f}" '
        f'stroke="{MUTED}"/>'
    )
    body.append(_text(left + 4, y(progress.baseline) - 4, f"baseline {progress.baseline:g}", fill=MUTED))
    path = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in zip(days, values, strict=True))
    body.append(f'<polyline points="{path}" fill="none" stroke="{INK}" stroke-width="2"/>')
    for point, d in zip(progress.points, days, strict=True):
        body.append(
            f'<circle cx="{x(d):.1f}" cy="{y(point.score):.1f}" r="4" fill="{INK}">'
            f"<title>{point.day.isoformat()}: {point.score:g}</title></circle>"
        )
    body.append(_text(left, height - 12, progress.points[0].day.isoformat(), fill=MUTED))
    body.append(_text(width - right, height - 12, progress.points[-1].day.isoformat(), "end", MUTED))
    title = f"{progress.name}: scores over time against the baseline" + (
        f" and the MCID of {mcid:g}" if mcid is not None else ""
    )
    return _svg(width, height, title, body)


# -- rates with intervals --------------------------------------------------------------------------------
@dataclass(frozen=True)
class IntervalRow:
    label: str
    value: float | None
    low: float | None
    high: float | None
    published: bool = False


def interval_svg(title: str, rows: Sequence[IntervalRow], empty_note: str = "No data yet.") -> str:
    """One dot and its interval per row on a shared percent axis (published rows drawn hollow)."""
    row_height, left, right, top = 26, 250, 70, 10
    height = top + row_height * max(1, len(rows)) + 30
    width = WIDTH
    largest = max([r.high or r.value or 0 for r in rows] + [0.0])
    xmax = _nice_max(largest * 1.05)

    def x(value: float) -> float:
        return left + (width - left - right) * value / xmax

    body = [
        f'<line x1="{left}" y1="{height - 24}" x2="{width - right}" y2="{height - 24}" stroke="{MUTED}"/>'
    ]
    for tick in (0, xmax / 2, xmax):
        body.append(_text(x(tick), height - 8, _pct(tick), "middle", MUTED))
    for index, row in enumerate(rows):
        cy = top + row_height * index + row_height / 2
        label = row.label if len(row.label) <= 38 else row.label[:37] + "…"
        body.append(_text(left - 8, cy + 4, label, "end"))
        if row.value is None:
            body.append(_text(left + 4, cy + 4, empty_note, fill=MUTED))
            continue
        colour = MUTED if row.published else ACCENT
        if row.low is not None and row.high is not None:
            body.append(
                f'<line x1="{x(row.low):.1f}" y1="{cy:.1f}" x2="{x(row.high):.1f}" y2="{cy:.1f}" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
        fill = "white" if row.published else colour
        interval = (
            f" (95 % CI {_pct(row.low)} to {_pct(row.high)})"
            if row.low is not None and row.high is not None
            else ""
        )
        body.append(
            f'<circle cx="{x(row.value):.1f}" cy="{cy:.1f}" r="5" fill="{fill}" stroke="{colour}" stroke-width="2">'
            f"<title>{escape(row.label)}: {_pct(row.value)}{interval}</title></circle>"
        )
        body.append(_text(width - right + 6, cy + 4, _pct(row.value), fill=MUTED))
    return _svg(width, height, title, body)


# -- soreness --------------------------------------------------------------------------------------------
def soreness_svg(soreness: Soreness) -> str:
    """Quartile boxes of soreness (0-10) at 24 and 48 h, with published values marked where there are any."""
    width, height, left, right, top, bottom = WIDTH, 200, 56, 16, 16, 36

    def y(value: float) -> float:
        return top + (height - top - bottom) * (1 - value / 10)

    body = [
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="{MUTED}"/>',
        _text(left - 6, y(10) + 4, "10", "end", MUTED),
        _text(left - 6, y(0) + 4, "0", "end", MUTED),
    ]
    slots = {24: left + (width - left - right) * 0.3, 48: left + (width - left - right) * 0.7}
    for at in soreness.course:
        cx = slots[at.hours]
        body.append(_text(cx, height - 12, f"{at.hours} h (n = {at.n})", "middle", MUTED))
        if at.median is None or at.q1 is None or at.q3 is None:
            body.append(_text(cx, y(5), "No patient answers yet.", "middle", MUTED))
            continue
        body.append(
            f'<rect x="{cx - 30:.1f}" y="{y(at.q3):.1f}" width="60" height="{max(1.0, y(at.q1) - y(at.q3)):.1f}" '
            f'fill="{BAND}" stroke="{ACCENT}"><title>{at.hours} h: quartiles {at.q1:g} to {at.q3:g}</title></rect>'
        )
        body.append(
            f'<line x1="{cx - 30:.1f}" y1="{y(at.median):.1f}" x2="{cx + 30:.1f}" y2="{y(at.median):.1f}" '
            f'stroke="{ACCENT}" stroke-width="3"><title>{at.hours} h: median {at.median:g}</title></line>'
        )
    for finding in soreness.published:
        if finding.hours in slots and finding.value_0_10 is not None:
            cx = slots[finding.hours] + 44
            body.append(
                f'<path d="M {cx - 6:.1f} {y(finding.value_0_10):.1f} h 12" stroke="{WARN}" stroke-width="3">'
                f"<title>Published ({finding.statistic or 'value'}): {finding.value_0_10:g} - "
                f"{escape(finding.text)}</title></path>"
            )
            body.append(
                _text(cx + 10, y(finding.value_0_10) + 4, f"published {finding.value_0_10:g}", fill=WARN)
            )
    return _svg(
        width, height, "Soreness after needling at 24 and 48 hours (0-10): median and quartiles", body
    )


# -- funnel ----------------------------------------------------------------------------------------------
def funnel_svg(funnel: Funnel, title: str) -> str:
    """Each clinician's rate against their number of treatments, with 95 % and 99.8 % limits around the mean."""
    width, height, left, right, top, bottom = WIDTH, 260, 56, 120, 16, 40
    if funnel.clinic_mean is None or not funnel.limits:
        return _svg(width, 60, title, [_text(10, 30, "No data yet.", fill=MUTED)])
    nmax = int(max(row["n"] for row in funnel.limits))
    ymax = _nice_max(
        max(
            [row["high998"] for row in funnel.limits[len(funnel.limits) // 4 :]]
            + [p.rate or 0 for p in funnel.points]
        )
        * 1.1
    )

    def x(n: float) -> float:
        return left + (width - left - right) * n / nmax

    def y(rate: float) -> float:
        return top + (height - top - bottom) * (1 - min(rate, ymax) / ymax)

    body = [
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="{MUTED}"/>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="{MUTED}"/>',
        _text(left - 6, y(ymax) + 4, _pct(ymax), "end", MUTED),
        _text(left - 6, y(0) + 4, "0 %", "end", MUTED),
        _text(width - right, height - 22, f"{nmax:,} treatments", "end", MUTED),
        f'<line x1="{left}" y1="{y(funnel.clinic_mean):.1f}" x2="{width - right}" y2="{y(funnel.clinic_mean):.1f}" '
        f'stroke="{INK}"/>',
        _text(left + 4, y(funnel.clinic_mean) - 4, f"clinic mean {_pct(funnel.clinic_mean)}"),
    ]
    for key, dash in (("95", "5 3"), ("998", "2 3")):
        for side in ("low", "high"):
            points = " ".join(f"{x(row['n']):.1f},{y(row[side + key]):.1f}" for row in funnel.limits)
            body.append(
                f'<polyline points="{points}" fill="none" stroke="{MUTED}" stroke-dasharray="{dash}"/>'
            )
    body.append(_text(width - right + 4, y(funnel.limits[-1]["high95"]) + 4, "95 %", fill=MUTED))
    body.append(_text(width - right + 4, y(funnel.limits[-1]["high998"]) - 4, "99.8 %", fill=MUTED))
    for point in funnel.points:
        if point.rate is None:
            continue
        colour = WARN if point.position and point.position != "within" else ACCENT
        hours = f", {point.training_hours:g} h training" if point.training_hours is not None else ""
        body.append(
            f'<circle cx="{x(point.total):.1f}" cy="{y(point.rate):.1f}" r="5" fill="{colour}">'
            f"<title>{escape(point.name)}{hours}: {point.events}/{point.total} = {_pct(point.rate)}</title></circle>"
        )
        body.append(
            _text(x(point.total) + 7, y(point.rate) - 6, point.name, fill=MUTED, extra='font-size="10"')
        )
    return _svg(width, height, title, body)
