"""The clinician report, its PDF and the patient handout word the evidence as the table does (issue 9):
scales named, no placeholders or internal labels, no SMD/k/I² for patients, sources linked out in the
PDFs and each source's tier beside its citation for the clinician."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_html import STEMS, visible_blocks

from dryneedling.render.html import render_html
from dryneedling.render.pdf import pdf_document, render_pdf
from evidence.wording import patient_jargon, unreadable
from shipped import shipped_catalog

POPPLER = shutil.which("pdftotext") is not None


@pytest.mark.parametrize("stem", STEMS)
def test_the_clinician_report_names_scales_and_prints_no_unreadable_words(example_reports, stem):
    text = " ".join(
        visible_blocks(
            render_html(example_reports[(stem, "clinician")], "clinician", catalog=shipped_catalog())
        )
    )
    assert not unreadable(text), unreadable(text)


@pytest.mark.parametrize("stem", STEMS)
def test_the_handout_has_no_effect_sizes_study_counts_or_i2(example_reports, stem):
    text = " ".join(
        visible_blocks(render_html(example_reports[(stem, "patient")], "patient", catalog=shipped_catalog()))
    )
    assert not unreadable(text) and not patient_jargon(text), patient_jargon(text)


def test_the_clinician_bibliography_shows_each_tier_and_link(example_reports):
    html = render_html(
        example_reports[("neck_pain_headache", "clinician")], "clinician", catalog=shipped_catalog()
    )
    entries = re.findall(r'<li id="src-[^"]+" value="\d+">.*?</li>', html)
    assert entries
    for entry in entries:
        assert re.search(r" · tier [123]</li>$", entry), entry  # plain text: one inline box fewer per entry
    linked = [e for e in entries if 'class="source-link" href="http' in e]
    assert len(linked) >= len(entries) - 3  # printed books have no link


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


@pytest.mark.skipif(not POPPLER, reason="pdftotext (poppler-utils) not installed")
def test_the_pdfs_link_sources_out_and_word_the_evidence(example_reports, tmp_path):
    document = pdf_document(
        example_reports[("neck_pain_headache", "clinician")], "clinician", catalog=shipped_catalog()
    )
    external = [target for page in document.pages for kind, target, *_ in page.links if kind == "external"]
    assert any(target.startswith("https://doi.org/") for target in external)
    assert any("pubmed" in target for target in external)
    text = _pdf_text(document.write_pdf(), tmp_path)
    assert not unreadable(text), unreadable(text)
    assert "tier 1" in text and "not assessable" in text
    patient = _pdf_text(
        render_pdf(example_reports[("neck_pain_headache", "patient")], "patient", catalog=shipped_catalog()),
        tmp_path,
    )
    assert not unreadable(patient) and not patient_jargon(patient), patient_jargon(patient)
