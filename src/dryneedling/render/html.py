"""HTML renderings of one Report: the clinician report and the patient handout.

Both renderings come from the same :class:`~dryneedling.assessment.report.Report`. The clinician
rendering shows everything with its citations and confidence marks; the patient handout shows only the
report's ``patient_text`` / ``plain_summary`` fields plus fixed plain wording from the templates, so it
never says more than the assessment (and the evidence grade behind it) allows.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from dryneedling.errors import InputError
from dryneedling.render.body_chart import body_chart_svg, charted_region_ids, highlight_for

Audience = Literal["clinician", "patient"]
AUDIENCES: tuple[str, ...] = ("clinician", "patient")

DECISION_LABELS = {
    "suitable": "No contraindication found",
    "needle_with_precautions": "Needle with precautions",
    "do_not_needle": "Do not needle",
}
PATIENT_DECISION_LABELS = {
    "suitable": "Nothing we asked about rules it out",
    "needle_with_precautions": "Possible, with extra care",
    "do_not_needle": "Not for you right now",
}


def check_audience(audience: str) -> str:
    """Return ``audience`` when it is a known rendering, else raise :class:`InputError`."""
    if audience not in AUDIENCES:
        raise InputError.unknown("audience", audience, AUDIENCES, kind="audience")
    return audience


@cache
def _knowledge() -> Any:
    from dryneedling.knowledge import load_knowledge

    return load_knowledge()


def region_label(region_id: str) -> str:
    """Plain label of a body region or area id (the id itself, readable, when it is neither)."""
    kb = _knowledge()
    if region_id in kb.regions:
        return kb.regions[region_id].label
    if region_id in kb.areas:
        return kb.areas[region_id].label
    return region_id.replace("_", " ")


def condition_label(condition_id: str | None) -> str:
    """Plain label of a condition id."""
    if not condition_id:
        return ""
    kb = _knowledge()
    return (
        kb.conditions[condition_id].label if condition_id in kb.conditions else condition_id.replace("_", " ")
    )


def referral_zones(report: Any) -> list[str]:
    """Every referral zone of the report's candidate muscles (from the atlas), drawable on the chart."""
    kb = _knowledge()
    zones: list[str] = []
    for candidate in report.candidate_muscles:
        muscle = kb.muscles.get(candidate.muscle)
        for zone in muscle.referral_zones if muscle else candidate.matched_regions:
            if zone not in zones:
                zones.append(zone)
    return zones


def report_chart(report: Any) -> str:
    """The body chart of a report: painful regions and the candidate muscles' referral zones."""
    drawable = charted_region_ids()
    pain = [region for region in report.profile.pain_regions if region in drawable]
    referral = [zone for zone in referral_zones(report) if zone in drawable]
    labels = {region_id: region.label for region_id, region in _knowledge().regions.items()}
    return body_chart_svg(highlight_for(pain, referral), labels, title="Body chart: where it hurts")


def _number(value: Any, digits: int = 2) -> str:
    """A number for display; empty for missing values so that 'None' or 'nan' never reaches a page."""
    if value is None:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number != number:  # NaN
        return ""
    if number.is_integer() and abs(number) < 1e9:
        return str(int(number))
    return f"{number:.{digits}f}"


def _text(value: Any) -> str:
    """A value as display text, with missing values (None, NaN) shown as nothing."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    return str(value)


def _humanise(value: Any) -> str:
    return _text(value).replace("_", " ")


class _Citations:
    """Numbers sources in order of first citation so the bibliography reads like a paper's."""

    def __init__(self, sources: dict[str, str]) -> None:
        self.sources = sources
        self.order: list[str] = []

    def number(self, source_id: str) -> int:
        if source_id not in self.order:
            self.order.append(source_id)
        return self.order.index(source_id) + 1

    def cite(self, source_ids: Iterable[str] | str | None) -> Markup:
        if not source_ids:
            return Markup("")
        ids = [source_ids] if isinstance(source_ids, str) else list(source_ids)
        links = [
            Markup('<a class="cite" href="#src-{0}" title="{1}">{2}</a>').format(
                sid, self.sources.get(sid, sid), self.number(sid)
            )
            for sid in ids
            if sid
        ]
        return (
            Markup('<sup class="cites">[') + Markup(", ").join(links) + Markup("]</sup>")
            if links
            else Markup("")
        )

    def bibliography(self) -> list[tuple[int, str, str]]:
        # Sources the report lists but no rendered item cited still belong in the bibliography.
        for sid in sorted(self.sources):
            self.number(sid)
        return [(index + 1, sid, self.sources.get(sid, sid)) for index, sid in enumerate(self.order)]


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("dryneedling.render", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=_number, text=_text, human=_humanise, region=region_label, condition=condition_label
    )
    env.globals.update(decision_labels=DECISION_LABELS, patient_decision_labels=PATIENT_DECISION_LABELS)
    return env


def _context(report: Any, audience: str) -> dict[str, Any]:
    citations = _Citations(dict(report.sources))
    rows = list(report.evidence.rows)
    if audience == "patient":
        rows = [row for row in rows if row.get("patient_safe", True)]
    return {
        "report": report,
        "profile": report.profile,
        "audience": audience,
        "evidence_rows": rows,
        "chart": Markup(report_chart(report)),
        "cite": citations.cite,
        "bibliography": citations.bibliography,
    }


def render_report_fragment(report: Any, audience: str = "clinician") -> str:
    """The report as an HTML ``<article>`` (no page shell), for embedding in a web page."""
    check_audience(audience)
    return _environment().get_template(f"report_{audience}.html").render(**_context(report, audience))


def report_stylesheet() -> str:
    """The CSS shared by the report renderings (screen and print)."""
    return _environment().loader.get_source(_environment(), "report.css")[0]


def render_html(report: Any, audience: str = "clinician") -> str:
    """The report as a complete, self-contained HTML document for ``audience`` (clinician or patient)."""
    check_audience(audience)
    title = "Dry needling assessment" if audience == "clinician" else "Your dry needling handout"
    return (
        _environment()
        .get_template("document.html")
        .render(
            title=title,
            audience=audience,
            stylesheet=Markup(report_stylesheet()),
            print_css=Markup(""),
            body=Markup(render_report_fragment(report, audience)),
        )
    )
