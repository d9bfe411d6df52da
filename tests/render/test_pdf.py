"""The PDF renderings print every example for both audiences on A4 and on US letter, with numbered pages,
the clinician report in 6 pages or fewer and the patient handout in 2 or fewer, each page carrying when
it was printed and with what."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dryneedling import __version__
from dryneedling.render.context import DocumentContext
from dryneedling.render.html import render_html, render_printed_html
from dryneedling.render.pdf import pdf_document, render_pdf
from shipped import shipped_catalog

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))
STEMS = [path.stem for path in EXAMPLES]
PAGE_POINTS = {"a4": (595.28, 841.89), "letter": (612.0, 792.0)}
MAX_PAGES = {"clinician": 6, "patient": 2}
POPPLER = all(shutil.which(tool) for tool in ("pdfinfo", "pdftotext", "pdffonts"))
PRINTED = DocumentContext(generated_at=datetime(2026, 11, 30, 9, 5, tzinfo=UTC))


def _pdfinfo(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {
        key.strip(): value.strip() for key, _, value in (line.partition(":") for line in out.splitlines())
    }


def _page_size(info: dict[str, str]) -> tuple[float, float]:
    width, height = (float(v) for v in info["Page size"].split()[0:3:2])
    return width, height


@pytest.mark.parametrize("stem", STEMS)
@pytest.mark.parametrize("audience", ["clinician", "patient"])
@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_it_prints_every_example_within_its_page_budget(example_reports, stem, audience, paper, tmp_path):
    printing = PRINTED.model_copy(update={"paper": paper})
    pdf = render_pdf(example_reports[(stem, audience)], audience, printing, catalog=shipped_catalog())
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    if not POPPLER:
        pytest.skip("pdfinfo/pdftotext/pdffonts (poppler-utils) not installed: page checks skipped")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    info = _pdfinfo(path)
    pages = int(info["Pages"])
    assert 1 <= pages <= MAX_PAGES[audience], f"{stem} {audience}: {pages} pages"
    width, height = _page_size(info)
    assert abs(width - PAGE_POINTS[paper][0]) < 1 and abs(height - PAGE_POINTS[paper][1]) < 1
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    # Every page says when it was printed and with which tool version.
    assert text.count("printed 2026-11-30 09:05 UTC") == pages
    assert text.count(f"dryneedling {__version__}") >= pages
    words = text.split()
    assert "None" not in words and "nan" not in words
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "DejaVu" in fonts and "Sans" in fonts
    heading = "Dry needling assessment" if audience == "clinician" else "Your dry needling handout"
    assert heading in text


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_it_prints_on_the_paper_asked_for(example_reports, paper, tmp_path):
    report = example_reports[("shoulder", "patient")]
    path = tmp_path / f"{paper}.pdf"
    path.write_bytes(render_pdf(report, "patient", DocumentContext(paper=paper), catalog=shipped_catalog()))
    if not POPPLER:
        pytest.skip("pdfinfo (poppler-utils) not installed")
    width, height = _page_size(_pdfinfo(path))
    expected = PAGE_POINTS[paper]
    assert abs(width - expected[0]) < 1 and abs(height - expected[1]) < 1


def test_it_opens_the_clinician_pdf_with_the_summary_and_links_its_sources(example_reports, tmp_path):
    report = example_reports[("neck_pain_headache", "clinician")]
    document = pdf_document(report, "clinician", PRINTED, catalog=shipped_catalog())
    links = [link for page in document.pages for link in page.links]
    external = {target for kind, target, *_ in links if kind == "external"}
    # Links out to the sources (DOI, PubMed or the page) are in the file, not only citation numbers.
    assert any(url.startswith(("https://doi.org/", "https://pubmed.ncbi.nlm.nih.gov/")) for url in external)
    internal = [target for kind, target, *_ in document.pages[0].links if kind == "internal"]
    assert any(target.startswith("src-") for target in internal), "summary citations link to the bibliography"
    pdf = document.write_pdf()
    if not POPPLER:
        pytest.skip("pdftotext (poppler-utils) not installed")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    first = subprocess.run(
        ["pdftotext", "-l", "1", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(first.split())
    for needed in (
        "Summary",
        "Needle with precautions",
        "Candidate muscles",
        "Safety:",
        "Strength:",
        "Heat",
        "Aftercare",
        "Plan",
        "Follow-up",
        "Patient",
        "Clinic",
        "Clinician",
    ):
        assert needed in flat, needed
    assert report.candidate_muscles[0].name.split(" (")[0] in flat


def test_it_prints_the_consent_line_and_who_the_handout_is_for(example_reports, tmp_path):
    report = example_reports[("neck_pain_headache", "patient")]
    document = DocumentContext(patient_name="Jo Example", clinician="A. Physio", clinic="Riverside PT")
    path = tmp_path / "handout.pdf"
    path.write_bytes(render_pdf(report, "patient", document, catalog=shipped_catalog()))
    if not POPPLER:
        pytest.skip("pdftotext (poppler-utils) not installed")
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    for needed in ("Jo Example", "A. Physio", "Riverside PT", "risks", "Your initials", "Date"):
        assert needed in text, needed


def _printed_words(html: str) -> str:
    """The words a reader sees: no stylesheet, script, chart or screen-only Person table; tags dropped."""
    for pattern in (r"<style>.*?</style>", r"<script>.*?</script>", r"<svg.*?</svg>"):
        html = re.sub(pattern, " ", html, flags=re.S)
    html = re.sub(r'<section class="detail profile screen-only".*?</section>', " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_the_pdf_prints_the_words_of_the_html_with_only_the_paper_stylesheet(example_reports, audience):
    report = example_reports[("neck_pain_headache", audience)]
    printed = render_printed_html(report, audience, PRINTED, catalog=shipped_catalog())
    page = render_html(report, audience, PRINTED, fold=False, catalog=shipped_catalog())
    assert _printed_words(printed) == _printed_words(page)
    # What WeasyPrint would only hide is not there at all: screen rules, the print script, tooltips.
    assert "@media screen" not in printed and "<script" not in printed
    assert 'id="profile"' not in printed
    charts = [re.search(r"<svg.*?</svg>", html, re.S).group(0) for html in (printed, page)]
    assert charts[0].count("<title>") == 1 < charts[1].count("<title>"), "only the chart's own title"
    if audience == "clinician":
        assert 'id="profile"' in page and '<a class="cite" href="#src-' in printed
