"""The HTML renderings: everything for the clinician, plain and readable words for the patient."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dryneedling.assessment.evidence_view import PATIENT_HIGHLIGHTS
from dryneedling.errors import InputError
from dryneedling.render.body_chart import HIGHLIGHT_STYLES
from dryneedling.render.context import DocumentContext
from dryneedling.render.html import SUMMARY_MUSCLES, render_html, render_report_fragment
from shipped import shipped_catalog

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))

STEMS = [path.stem for path in EXAMPLES]
MAX_PATIENT_GRADE = 8.0
BLOCKS = {"p", "li", "h1", "h2", "h3", "div", "td", "th", "tr", "section", "article", "ul", "ol", "span"}


class _VisibleText(HTMLParser):
    """Visible text of a page, one chunk per block element (scripts, styles and SVG left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = [""]
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "svg", "title"):
            self.hidden += 1
        elif tag in BLOCKS - {"span"}:
            self.chunks.append("")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "svg", "title"):
            self.hidden -= 1
        elif tag in BLOCKS - {"span"}:
            self.chunks.append("")

    def handle_data(self, data):
        if not self.hidden:
            self.chunks[-1] += data


def visible_blocks(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    return [" ".join(chunk.split()) for chunk in parser.chunks if chunk.strip()]


def as_prose(blocks: list[str]) -> str:
    # Headings, labels and list items are separate units for a reader; end each one as a sentence so
    # the grade formula does not glue a heading onto the next paragraph.
    return " ".join(block if block[-1] in ".!?:" else block + "." for block in blocks)


def test_it_has_examples_to_render():
    assert EXAMPLES


@pytest.mark.parametrize("stem", STEMS)
@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_it_renders_every_example_without_missing_values(example_reports, stem, audience):
    html = render_html(example_reports[(stem, audience)], audience, catalog=shipped_catalog())
    text = " ".join(visible_blocks(html))
    assert html.startswith("<!doctype html>")
    for raw in ("None", "nan", "NaN", "undefined", "{{", "{%"):
        assert not re.search(rf"\b{re.escape(raw)}\b" if raw.isalpha() else re.escape(raw), text), raw


@pytest.mark.parametrize("stem", STEMS)
def test_it_shows_the_clinician_every_part_with_citations_and_confidence(example_reports, stem):
    report = example_reports[(stem, "clinician")]
    html = render_html(report, "clinician", catalog=shipped_catalog())
    for section in (
        "screening",
        "chart",
        "candidates",
        "evidence",
        "modifiers",
        "heat",
        "aftercare",
        "care-plan",
        "bibliography",
    ):
        assert f'id="{section}"' in html, section
    # The bibliography lists the sources the page cites, each once, numbered 1..n in citation order
    # (a run of numbers such as [3-7] links to its first entry).
    cited = set(re.findall(r'href="#src-([^"]+)"', html))
    listed = re.findall(r'<li id="src-([^"]+)" value="(\d+)"', html)
    assert cited and cited <= {sid for sid, _ in listed}
    assert [int(number) for _, number in listed] == list(range(1, len(listed) + 1))
    assert len({sid for sid, _ in listed}) == len(listed) and {sid for sid, _ in listed} <= set(
        report.sources
    )
    for item in report.screening.items:
        assert f'data-id="{item.id}"' in html
    for muscle in report.candidate_muscles:
        assert f'data-muscle="{muscle.muscle}"' in html
    assert html.count('class="conf conf--') >= len(report.candidate_muscles) + len(report.screening.items)


@pytest.mark.parametrize("stem", STEMS)
def test_it_gives_the_patient_only_plain_wording_from_the_report(example_reports, stem):
    report = example_reports[(stem, "patient")]
    html = render_html(report, "patient", catalog=shipped_catalog())
    assert 'class="cite"' not in html and 'href="#src-' not in html
    for item in report.screening.items:
        assert item.action not in html or item.action == item.patient_text
    for text in report.patient_texts():
        assert text.replace("'", "&#39;").replace('"', "&#34;") in html or text in html


@pytest.mark.parametrize("stem", STEMS)
def test_it_keeps_the_patient_handout_at_reading_grade_8_or_lower(example_reports, stem, reading_grade):
    html = render_html(example_reports[(stem, "patient")], "patient", catalog=shipped_catalog())
    grade = reading_grade(as_prose(visible_blocks(html)))
    assert grade <= MAX_PATIENT_GRADE, f"{stem}: Flesch-Kincaid grade {grade:.1f}"


@pytest.mark.parametrize("stem", STEMS)
def test_it_leaves_evidence_unsafe_for_patients_out_of_the_handout(example_reports, stem):
    # Even given the clinician's report (all rows), the handout lists only its few patient-safe highlights.
    report = example_reports[(stem, "clinician")]
    shown = set(re.findall(r'data-row="([^"]+)"', render_html(report, "patient", catalog=shipped_catalog())))
    safe = {row["id"] for row in report.evidence.rows if row.get("patient_safe") and row.get("plain_summary")}
    assert shown == {row["id"] for row in report.evidence.patient_highlights}
    assert shown <= safe and len(shown) <= PATIENT_HIGHLIGHTS
    # A person who must not be needled gets no needling research in the handout.
    assert bool(shown) == (bool(safe) and report.screening.decision != "do_not_needle")


def test_it_shades_the_painful_regions_on_the_report_chart(example_reports):
    stem = STEMS[0]
    report = example_reports[(stem, "clinician")]
    html = render_html(report, "clinician", catalog=shipped_catalog())
    for region in report.profile.pain_regions:
        assert re.search(rf'data-region="{region}" data-view="\w+" data-kind="(pain|both)"', html), region


def test_it_refuses_an_unknown_audience(example_reports):
    report = next(iter(example_reports.values()))
    with pytest.raises(InputError) as caught:
        render_html(report, "press", catalog=shipped_catalog())
    assert caught.value.field == "audience"


OVERCLAIMS = re.compile(r"\b(cures?|cured|proven|proves|guarantee[sd]?|definitely|always works|100%)\b", re.I)


@pytest.mark.parametrize("stem", STEMS)
def test_it_never_overclaims_in_the_patient_handout(example_reports, stem):
    text = " ".join(
        visible_blocks(render_html(example_reports[(stem, "patient")], "patient", catalog=shipped_catalog()))
    )
    assert not OVERCLAIMS.findall(text)


def test_it_says_which_arm_each_estimate_favours_in_the_clinician_report(example_reports):
    report = example_reports[("neck_pain_headache", "clinician")]
    html = render_html(report, "clinician", catalog=shipped_catalog())
    for row in report.evidence.rows:
        body = re.search(rf'data-id="{row["id"]}">(.*?)</tbody>', html, re.S).group(1)
        assert f"<td>{row['favours_label']}</td>" in body, row["id"]


def _section(html: str, section_id: str) -> str:
    match = re.search(rf'<section class="[^"]*" id="{section_id}"[^>]*>(.*?)</section>', html, re.S)
    assert match, section_id
    return match.group(1)


@pytest.mark.parametrize("stem", STEMS)
def test_it_opens_the_clinician_report_with_a_summary_of_what_to_do(example_reports, stem):
    report = example_reports[(stem, "clinician")]
    html = render_html(report, "clinician", catalog=shipped_catalog())
    assert html.index('id="summary"') < html.index('id="screening"') < html.index('id="bibliography"')
    summary = _section(html, "summary")
    text = " ".join(visible_blocks(summary))
    assert "decision--" + report.screening.decision in summary
    shown = report.candidate_muscles[:SUMMARY_MUSCLES]
    assert summary.count("<li><strong>") >= len(shown)
    for muscle in shown:
        assert muscle.name in text
    assert text.count("Safety:") == sum(1 for m in shown if m.safety)
    lines = ("Evidence", "Heat", "Aftercare" if report.aftercare.soreness else "Screen again")
    for line in lines:
        assert f"<dt>{line}</dt>" in summary
    if report.evidence.rows:
        assert "Strength:" in text
    if report.care_plan.follow_up:
        assert "<dt>Follow-up</dt>" in summary


def test_it_folds_the_details_on_screen_and_prints_them_open(example_reports):
    report = example_reports[("shoulder", "clinician")]
    folded = render_report_fragment(report, "clinician", catalog=shipped_catalog())
    printed = render_html(report, "clinician", fold=False, catalog=shipped_catalog())
    assert folded.count("<details>") >= 8 and "<details>" not in printed
    assert "<details" not in _section(folded, "summary")


def test_it_prints_who_and_when_or_lines_to_write_on(example_reports):
    report = example_reports[("shoulder", "clinician")]
    blank = render_html(report, "clinician", DocumentContext(), catalog=shipped_catalog())
    assert blank.count('class="blank"') == 4
    filled = render_html(
        report,
        "clinician",
        DocumentContext(clinic="Riverside PT", clinician="A. Physio", patient_name="Jo", patient_id="0042"),
        catalog=shipped_catalog(),
    )
    assert 'class="blank"' not in filled
    for value in ("Riverside PT", "A. Physio", "Jo", "0042", "dryneedling 0.1.0"):
        assert value in filled
    handout = render_html(example_reports[("shoulder", "patient")], "patient", catalog=shipped_catalog())
    assert "Your initials" in handout and "risks" in handout


def test_it_links_each_source_out_where_the_bibliography_knows_where(example_reports):
    html = render_html(
        example_reports[("neck_pain_headache", "clinician")], "clinician", catalog=shipped_catalog()
    )
    entries = re.findall(r'<li id="src-[^"]+"[^>]*>(.*?)</li>', html, re.S)
    linked = [entry for entry in entries if 'class="source-link" href="http' in entry]
    assert len(linked) >= len(entries) * 0.8


@pytest.mark.parametrize("stem", STEMS)
def test_it_names_the_chart_colours_the_handout_draws(example_reports, stem):
    html = render_html(example_reports[(stem, "patient")], "patient", catalog=shipped_catalog())
    key = " ".join(visible_blocks(re.search(r'<p class="chart-key">(.*?)</p>', html, re.S).group(1)))
    for kind, style in HIGHLIGHT_STYLES.items():
        drawn = f'data-kind="{kind}"' in html
        assert (style["colour"].capitalize() + ":" in key) == drawn, (kind, key)


def test_it_tells_the_patient_what_they_told_us(example_reports):
    html = render_html(
        example_reports[("neck_pain_headache", "patient")], "patient", catalog=shipped_catalog()
    )
    told = " ".join(visible_blocks(_section(html, "about-you")))
    assert "right side" in told and "temple" in told.lower() and "6 out of 10" in told


def test_it_marks_only_the_recorded_side_on_the_report_chart(example_reports):
    # neck_pain_headache records pain on the right: the temple is shaded on one side only.
    html = render_html(
        example_reports[("neck_pain_headache", "clinician")], "clinician", catalog=shipped_catalog()
    )
    assert re.search(r'data-region="temple" data-view="front" data-kind="\w+" data-side="right"', html)


@pytest.mark.parametrize("stem", STEMS)
def test_it_prints_no_internal_labels_or_unreported_placeholders(example_reports, stem):
    text = " ".join(
        visible_blocks(
            render_html(example_reports[(stem, "clinician")], "clinician", catalog=shipped_catalog())
        )
    )
    assert not re.search(r"\bSMD_\w+|\bMD_NMA\b|n/r|at most high", text)


def test_it_shows_a_run_of_citation_numbers_as_a_range(example_reports):
    html = render_html(
        example_reports[("neck_pain_headache", "clinician")], "clinician", catalog=shipped_catalog()
    )
    assert re.search(r'<a class="cite" href="#src-[^"]+" title="[^"]*">1\u2013\d+</a>', html)


def test_it_names_the_side_and_the_areas_where_needles_must_not_go(example_reports):
    """The lymphoedema arm is the right one: the summary must not read as if both arms were off limits."""
    html = render_html(
        example_reports[("lymphedema_shoulder", "clinician")], "clinician", catalog=shipped_catalog()
    )
    prose = as_prose(visible_blocks(html))
    assert "No needles in, right side: Shoulder and upper arm; Elbow and forearm; Wrist and hand" in prose
    assert "left side:" not in prose and "lateral_shoulder_deltoid" not in prose
