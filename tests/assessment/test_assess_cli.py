"""`dryneedling assess`: formats, audiences, --schema, stdin and one-line errors with exit code 2."""

from __future__ import annotations

import json

from assess_helpers import ROOT
from typer.testing import CliRunner

from dryneedling.cli import app

NECK = str(ROOT / "examples" / "neck_pain_headache.yaml")
runner = CliRunner()


def _run(*args: str, stdin: str | None = None):
    return runner.invoke(app, ["assess", *args], input=stdin)


def test_it_prints_the_report_as_json():
    result = _run(NECK, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["screening"]["decision"] == "needle_with_precautions"
    assert data["profile"]["condition"] == "neck_pain_stiff_neck"


def test_it_prints_clinician_and_patient_text():
    clinician = _run(NECK)
    patient = _run(NECK, "--audience", "patient")
    assert clinician.exit_code == patient.exit_code == 0
    assert "Needle with precautions" in clinician.stdout and "Sources cited:" in clinician.stdout
    assert "confidence;" in clinician.stdout  # every clinician finding shows its confidence and sources
    assert "Your dry needling report" in patient.stdout
    assert "confidence;" not in patient.stdout and "Sources cited" not in patient.stdout


def test_it_publishes_the_profile_schema():
    result = _run("--schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert "condition" in schema["properties"] and "age" in schema["required"]


def test_it_reads_the_profile_from_standard_input():
    profile = "age: 40\ncondition: low_back_pain\npain_regions: [low_back]\nconsent: true\n"
    result = _run("-", "--format", "json", stdin=profile)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["profile"]["condition"] == "low_back_pain"


def test_it_names_the_bad_field_in_one_line_and_exits_2():
    profile = "age: 40\ncondition: neck_pain_stiff\npain_regions: [posterior_neck]\nconsent: true\n"
    result = _run("-", stdin=profile)
    assert result.exit_code == 2
    assert "condition" in result.stderr and "neck_pain_stiff_neck" in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_it_exits_2_for_an_age_of_300_a_missing_file_and_no_profile(tmp_path):
    too_old = _run("-", stdin="age: 300\ncondition: low_back_pain\npain_regions: [low_back]\nconsent: true\n")
    missing = _run(str(tmp_path / "nope.yaml"))
    nothing = _run()
    for result in (too_old, missing, nothing):
        assert result.exit_code == 2 and "Traceback" not in result.output
    assert too_old.stderr.startswith("error: age")


def test_it_rejects_an_unknown_format_or_audience_with_exit_2():
    assert _run(NECK, "--format", "docx").exit_code == 2
    assert _run(NECK, "--audience", "family").exit_code == 2


def test_it_writes_an_html_file(tmp_path):
    html = tmp_path / "report.html"
    result = _run(NECK, "--format", "html", "--audience", "patient", "-o", str(html))
    assert result.exit_code == 0 and "wrote" in result.stdout
    assert "<html" in html.read_text().lower()


def test_it_writes_a_pdf_handout(tmp_path):
    pdf = tmp_path / "handout.pdf"
    result = _run(
        str(ROOT / "examples" / "plantar_heel.yaml"), "--format", "pdf", "-a", "patient", "-o", str(pdf)
    )
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF")
