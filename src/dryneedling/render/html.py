"""HTML renderings of one Report: the clinician report and the patient handout.

Both renderings come from the same :class:`~dryneedling.assessment.report.Report`. The clinician
rendering shows everything with its citations and confidence marks; the patient handout shows only the
report's ``patient_text`` / ``plain_summary`` fields plus fixed plain wording from the templates, so it
never says more than the assessment (and the evidence grade behind it) allows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup

from dryneedling.errors import InputError
from dryneedling.render.body_chart import body_chart_svg, charted_region_ids, highlight_for, legend_words
from dryneedling.render.context import DocumentContext, versions
from dryneedling.vocabulary import AUDIENCES, Audience  # noqa: F401 (one definition, re-exported)

if TYPE_CHECKING:
    from dryneedling.catalog import Catalog
    from dryneedling.knowledge.load import KnowledgeBase

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


def blocked_where(report: Any, kb: KnowledgeBase) -> str:
    """Where needles must not go, with the side ("right side: Shoulder and upper arm; Elbow and forearm")."""
    from dryneedling.knowledge.regions import describe_regions

    parts = []
    for item in report.screening.items:
        if item.effect == "blocks_regions" and item.regions:
            side = "both sides" if item.side in (None, "bilateral") else f"{item.side} side"
            parts.append(f"{side}: {describe_regions(item.regions, kb)}")
    return " / ".join(parts)


def region_label(region_id: str, kb: KnowledgeBase) -> str:
    """Plain label of a body region or area id (the id itself, readable, when it is neither)."""
    if region_id in kb.regions:
        return kb.regions[region_id].label
    if region_id in kb.areas:
        return kb.areas[region_id].label
    return region_id.replace("_", " ")


def condition_label(condition_id: str | None, kb: KnowledgeBase) -> str:
    """Plain label of a condition id."""
    if not condition_id:
        return ""
    return (
        kb.conditions[condition_id].label if condition_id in kb.conditions else condition_id.replace("_", " ")
    )


def referral_zones(report: Any, kb: KnowledgeBase) -> list[str]:
    """Every referral zone of the report's candidate muscles (from the atlas), drawable on the chart."""
    zones: list[str] = []
    for candidate in report.candidate_muscles:
        muscle = kb.muscles.get(candidate.muscle)
        for zone in muscle.referral_zones if muscle else candidate.matched_regions:
            if zone not in zones:
                zones.append(zone)
    return zones


def chart_marks(report: Any, kb: KnowledgeBase) -> tuple[dict[str, str], dict[str, str | None]]:
    """What the report's body chart shades (region -> pain / referral / both) and on which side.

    Painful regions take the side recorded in the profile; a referral zone takes its muscle's side (trigger
    points refer pain to their own side), else the profile's. No side recorded: both sides are shaded.
    """
    drawable = charted_region_ids()
    side = report.profile.side
    sides: dict[str, str | None] = {}

    def mark(region: str, region_side: str | None) -> None:
        if region in sides and sides[region] != region_side:
            sides[region] = None  # marked for two sides: shade both
        else:
            sides.setdefault(region, region_side)

    pain = [region for region in report.profile.pain_regions if region in drawable]
    referral: list[str] = []
    for candidate in report.candidate_muscles:
        muscle = kb.muscles.get(candidate.muscle)
        for zone in muscle.referral_zones if muscle else candidate.matched_regions:
            if zone in drawable:
                referral.append(zone)
                mark(zone, candidate.side or side)
    for region in pain:
        mark(region, side)
    return highlight_for(pain, referral), sides


def report_chart(report: Any, kb: KnowledgeBase, paper: bool = False) -> str:
    """The body chart of a report: painful regions and the candidate muscles' referral zones.

    ``paper``: the chart as printed, without the per-region ``<title>`` tooltips (invisible on paper)."""
    highlight, sides = chart_marks(report, kb)
    labels = {region_id: region.label for region_id, region in kb.regions.items()}
    return body_chart_svg(
        highlight,
        labels,
        title="Body chart: where it hurts",
        sides=sides,
        marked_only=True,
        region_titles=not paper,
    )


def _first_sentence(value: Any, minimum: int = 30) -> str:
    """The first sentence of a text (two when the first is a bare label such as 'Heat withheld.')."""
    text = _text(value).strip()
    parts = re.split(r"(?<=[.;:!?])\s+(?=[A-Z(])", text)
    brief = parts[0]
    if len(brief) < minimum and len(parts) > 1:
        brief += " " + parts[1]
    return brief.rstrip(";:,") + ("" if brief.endswith((".", "!", "?")) else ".")


def _link_for(source: Any) -> str:
    """Where a source can be read: its DOI, else PubMed, else its URL ('' when none is recorded)."""
    if source is None:
        return ""
    doi = getattr(source, "doi", None)
    if doi:
        return "https://doi.org/" + str(doi).removeprefix("https://doi.org/").removeprefix("doi:")
    pmid = getattr(source, "pmid", None)
    if pmid:
        return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
    url = getattr(source, "url", None)
    return str(url) if url and str(url).startswith(("https://", "http://")) else ""


# How many candidate muscles the clinician summary lists (the full list follows).
SUMMARY_MUSCLES = 4


def lead_evidence_row(report: Any) -> dict[str, Any] | None:
    """The evidence row a busy reader sees first: the handout's first highlight (pain, against sham or
    control, earliest time), else the first row."""
    rows = list(report.evidence.rows)
    highlights = [row.get("id") for row in report.evidence.patient_highlights]
    for row in rows:
        if row.get("id") in highlights[:1]:
            return row
    return rows[0] if rows else None


# Screening findings in the order a reader needs them: what stops needling, then where, then how.
EFFECT_ORDER = {"blocks_all": 0, "blocks_regions": 1, "precaution": 2, "technique": 3}
SUMMARY_ITEMS = 4


def summary_items(report: Any) -> list[Any]:
    """The screening findings the summary lists (the most restrictive first, at most SUMMARY_ITEMS)."""
    items = sorted(report.screening.items, key=lambda item: EFFECT_ORDER.get(item.effect, 3))
    return items[:SUMMARY_ITEMS]


def told_us(profile: Any, kb: KnowledgeBase) -> str:
    """What the person told us, in plain short sentences, from the profile (for the handout)."""
    profile = _fields(profile)
    regions = [region_label(r, kb).lower() for r in profile.get("pain_regions", [])]
    side = profile.get("side")
    sentences = []
    if regions:
        where = regions[0] if len(regions) == 1 else ", ".join(regions[:-1]) + " and " + regions[-1]
        on_side = {
            "left": ", on your left side",
            "right": ", on your right side",
            "bilateral": ", on both sides",
        }
        sentences.append(f"You have pain here: {where}{on_side.get(side or '', '')}.")
    weeks = profile.get("duration_weeks")
    if weeks is not None:
        weeks = float(weeks)
        if weeks >= 8:
            span = f"about {round(weeks / 4.345)} months"
        elif weeks >= 1:
            span = f"about {round(weeks)} week{'s' if round(weeks) != 1 else ''}"
        else:
            span = "less than a week"
        sentences.append(f"It has lasted {span}.")
    if profile.get("pain_nprs") is not None:
        sentences.append(f"You rated your pain {_number(profile['pain_nprs'])} out of 10.")
    return " ".join(sentences)


def _fields(profile: Any) -> dict[str, Any]:
    """The profile's fields as a mapping; medicines keep their readable form ("warfarin (5 mg, stopped)")."""
    if isinstance(profile, dict):
        return profile
    return {**profile.model_dump(mode="json"), "medications": [str(m) for m in profile.medications]}


def person_line(profile: Any, kb: KnowledgeBase) -> str:
    """One line about the person from what the profile records (nothing invented for what is missing)."""
    profile = _fields(profile)
    bits: list[str] = []
    age, sex = profile.get("age"), _humanise(profile.get("sex"))
    if age is not None:
        bits.append(f"{_number(age)}-year-old {sex}".strip() if sex else f"age {_number(age)}")
    bits.append(condition_label(profile.get("condition"), kb))
    side = profile.get("side")
    regions = ", ".join(region_label(r, kb).lower() for r in profile.get("pain_regions", []))
    if regions:
        bits.append(
            f"pain in {regions}"
            + (f" ({side} side)" if side in ("left", "right") else f" ({side})" if side else "")
        )
    if profile.get("duration_weeks") is not None:
        bits.append(f"{_number(profile['duration_weeks'])} weeks")
    if profile.get("pain_nprs") is not None:
        bits.append(f"NPRS {_number(profile['pain_nprs'])}/10")
    if profile.get("central_sensitization_inventory") is not None:
        bits.append(f"CSI {_number(profile['central_sensitization_inventory'])}")
    bits.extend(_humanise(item) for item in profile.get("comorbidities") or [])
    bits.extend(str(item) for item in profile.get("medications") or [])
    if profile.get("needle_fear") not in (None, "none"):
        bits.append(f"{_humanise(profile['needle_fear'])} needle fear")
    if profile.get("consent"):
        by_guardian = profile.get("consent_by") == "guardian"
        bits.append("consent recorded (by a parent or guardian)" if by_guardian else "consent recorded")
    else:
        bits.append("no consent recorded")
    return "; ".join(bit for bit in bits if bit)


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

    def __init__(
        self, sources: dict[str, str], kb: KnowledgeBase, tooltips: bool = True, paper: bool = False
    ) -> None:
        self.sources = sources
        self.kb = kb
        # Tooltips naming the sources are for the screen: on paper they are invisible, and printing them
        # cost WeasyPrint a third of the HTML it parses (each citation carries its sources' full titles).
        self.tooltips = tooltips
        # On paper the links carry the brackets themselves, without a <sup> around them: the same small
        # "[3, 7]", every number still a link, one element fewer per citation for WeasyPrint to lay out.
        self.paper = paper
        self.order: list[str] = []

    def number(self, source_id: str) -> int:
        if source_id not in self.order:
            self.order.append(source_id)
        return self.order.index(source_id) + 1

    def cite(self, source_ids: Iterable[str] | str | None) -> Markup:
        """Citation numbers, runs of three or more shown as a range ("[3-7]", one link to the first).

        Each number or range links to its bibliography entry; on screen its title names the sources."""
        if not source_ids:
            return Markup("")
        ids = [source_ids] if isinstance(source_ids, str) else [sid for sid in source_ids if sid]
        numbered = sorted({self.number(sid): sid for sid in ids}.items())
        if not numbered:
            return Markup("")
        runs: list[list[tuple[int, str]]] = []
        for number, sid in numbered:
            if runs and number == runs[-1][-1][0] + 1:
                runs[-1].append((number, sid))
            else:
                runs.append([(number, sid)])
        pieces = [piece for run in runs for piece in ([run] if len(run) >= 3 else [[item] for item in run])]
        links = []
        for index, piece in enumerate(pieces):
            first, last = piece[0], piece[-1]
            label = str(first[0]) if len(piece) == 1 else f"{first[0]}\u2013{last[0]}"
            if self.paper:
                label = ("[" if index == 0 else "") + label + ("]" if index == len(pieces) - 1 else ", ")
                links.append(Markup('<a class="cite" href="#src-{0}">{1}</a>').format(first[1], label))
                continue
            if self.tooltips:
                title = "; ".join(self.sources.get(sid, sid) for _, sid in piece)
                link = Markup('<a class="cite" href="#src-{0}" title="{1}">{2}</a>')
                links.append(link.format(first[1], title, label))
            else:
                links.append(Markup('<a class="cite" href="#src-{0}">{1}</a>').format(first[1], label))
        if self.paper:
            return Markup("").join(links)
        return Markup('<sup class="cites">[') + Markup(", ").join(links) + Markup("]</sup>")

    def bibliography(self) -> list[tuple[int, str, str, str, str, int | None]]:
        """(number, id, citation, link, link text, tier) of every source the rendered document cites, in
        citation order. Call it after everything that cites (the template renders the bibliography last).
        The link text is the DOI, PMID or address, or just "link" when the citation already prints it;
        the tier (1-3, None when the source is unknown) is shown to the clinician beside the citation."""
        kb_sources = self.kb.sources
        entries = []
        for index, sid in enumerate(self.order):
            citation = self.sources.get(sid, sid)
            source = kb_sources.get(sid)
            link = _link_for(source)
            text = link_text(link)
            identifier = text.removeprefix("doi:").removeprefix("PMID ")
            tier = getattr(source, "tier", None)
            entries.append((index + 1, sid, citation, link, "link" if identifier in citation else text, tier))
        return entries


#: Longest link text printed: a longer address is cut after its site and first path part (the link
#: itself stays whole), so one deep URL does not take three lines of a bibliography.
LINK_TEXT_MAX = 48


def link_text(link: str) -> str:
    """A short readable form of a source link: doi:..., PMID ... or the address without its scheme."""
    for prefix, short in (("https://doi.org/", "doi:"), ("https://pubmed.ncbi.nlm.nih.gov/", "PMID ")):
        if link.startswith(prefix):
            return short + link.removeprefix(prefix).rstrip("/")
    text = link.removeprefix("https://").removeprefix("http://").rstrip("/")
    if len(text) <= LINK_TEXT_MAX:
        return text
    return text[: LINK_TEXT_MAX - 1].rstrip("/") + "\u2026"


def _bytecode_cache() -> BytecodeCache | None:
    try:
        return FileSystemBytecodeCache()
    except (OSError, RuntimeError):  # no usable temp directory: compile each run
        return None


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("dryneedling.render", "templates"),
        # Compiled templates kept between runs (Jinja's per-user temp directory): compiling them took
        # about a tenth of a second of every `dryneedling assess --format pdf`.
        bytecode_cache=_bytecode_cache(),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=_number,
        text=_text,
        human=_humanise,
        brief=_first_sentence,
    )
    env.globals.update(decision_labels=DECISION_LABELS, patient_decision_labels=PATIENT_DECISION_LABELS)
    return env


def _context(
    report: Any,
    audience: str,
    document: DocumentContext | None,
    fold: bool,
    catalog: Catalog,
    paper: bool = False,
) -> dict[str, Any]:
    kb = catalog.kb
    citations = _Citations(dict(report.sources), kb, tooltips=fold, paper=paper)
    rows = list(report.evidence.rows)
    if audience == "patient":
        rows = [row for row in rows if row.get("patient_safe", True)]
    highlight, _ = chart_marks(report, kb)
    return {
        # the knowledge behind the labels is the catalog's: functions of this render, not global filters
        "region": lambda region_id: region_label(region_id, kb),
        "condition": lambda condition_id: condition_label(condition_id, kb),
        "report": report,
        "profile": report.profile,
        "audience": audience,
        "evidence_rows": rows,
        "lead_row": lead_evidence_row(report),
        "top_muscles": list(report.candidate_muscles)[:SUMMARY_MUSCLES],
        "summary_items": summary_items(report),
        "blocked_where": blocked_where(report, kb),
        "person": person_line(report.profile, kb),
        "told_us": told_us(report.profile, kb),
        "chart": Markup(report_chart(report, kb, paper)),
        "chart_legend": legend_words(highlight),
        "cite": citations.cite,
        "bibliography": citations.bibliography,
        "doc": document or DocumentContext(),
        "versions": versions(report),
        "fold": fold,
        # the document WeasyPrint prints: screen-only sections are left out, not hidden
        "paper": paper,
    }


def render_report_fragment(
    report: Any,
    audience: str = "clinician",
    document: DocumentContext | None = None,
    fold: bool = True,
    *,
    catalog: Catalog,
) -> str:
    """The report as an HTML ``<article>`` (no page shell), for embedding in a web page.

    The summary comes first; with ``fold`` the detail sections are closed ``<details>`` (print shows them)
    and citations carry tooltips naming their sources; ``fold=False`` is the printed document (no
    tooltips). ``catalog`` is the one the report was built with (labels, referral zones, source links).
    """
    check_audience(audience)
    return _fragment(report, audience, document, fold, catalog)


def _fragment(
    report: Any,
    audience: str,
    document: DocumentContext | None,
    fold: bool,
    catalog: Catalog,
    paper: bool = False,
) -> str:
    template = _environment().get_template(f"report_{audience}.html")
    return template.render(**_context(report, audience, document, fold, catalog, paper))


def report_stylesheet() -> str:
    """The CSS shared by the report renderings (screen and print)."""
    return _environment().loader.get_source(_environment(), "report.css")[0]


def print_stylesheet() -> str:
    """The CSS of the printed document only (what ``report.css`` looks like on paper, written out flat)."""
    return _environment().loader.get_source(_environment(), "report_print.css")[0]


def _css_string(text: str) -> str:
    """``text`` as a quoted CSS string that cannot end the string or the <style> element."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace("\n", " ")
    return f'"{escaped}"'


def page_css(report: Any, document: DocumentContext) -> str:
    """Paper size and the running footer (who, when, what made it) of a printed report."""
    who = document.patient_name or document.patient_id
    left = (f"{who} - " if who else "") + f"printed {document.generated}"
    # US letter is 18 mm shorter than A4 and only 6 mm wider: narrower margins keep each document within
    # the same page budget (report 6, handout 2) on either paper.
    margins = " margin: 7mm 8mm 9mm;" if document.paper == "letter" else ""
    return (
        "@media print { @page { size: " + document.page_size + ";" + margins + " "
        "@bottom-left { content: " + _css_string(left) + "; font-family: 'DejaVu Sans'; font-size: 7pt;"
        " color: #655b52; } "
        "@bottom-right { content: " + _css_string(versions(report)) + "; font-family: 'DejaVu Sans';"
        " font-size: 7pt; color: #655b52; } } }"
    )


def _document(
    report: Any,
    audience: str,
    document: DocumentContext | None,
    fold: bool,
    catalog: Catalog,
    paper: bool = False,
) -> str:
    check_audience(audience)
    document = document or DocumentContext()
    title = "Dry needling assessment" if audience == "clinician" else "Your dry needling handout"
    return (
        _environment()
        .get_template("document.html")
        .render(
            title=title,
            audience=audience,
            paper=paper,
            stylesheet=Markup(print_stylesheet() if paper else report_stylesheet()),
            print_css=Markup(page_css(report, document)),
            body=Markup(_fragment(report, audience, document, fold, catalog, paper)),
        )
    )


def render_html(
    report: Any,
    audience: str = "clinician",
    document: DocumentContext | None = None,
    fold: bool = True,
    *,
    catalog: Catalog,
) -> str:
    """The report as a complete, self-contained HTML document for ``audience`` (clinician or patient).

    ``fold`` and ``catalog`` as in :func:`render_report_fragment`."""
    return _document(report, audience, document, fold, catalog)


def render_printed_html(
    report: Any, audience: str = "clinician", document: DocumentContext | None = None, *, catalog: Catalog
) -> str:
    """The HTML document the PDF is printed from (see :mod:`dryneedling.render.pdf`).

    The words of :func:`render_html` with ``fold=False``, made for WeasyPrint: only the paper stylesheet
    (``report_print.css``) instead of the screen rules, screen-only sections and the browser's print
    script left out rather than hidden, and the chart without its hover titles."""
    return _document(report, audience, document, False, catalog, paper=True)
