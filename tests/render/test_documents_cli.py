"""`dryneedling assess` prints who and when on HTML and PDF, on the paper asked for, summary first."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dryneedling.cli import app

NECK = str(Path(__file__).resolve().parents[2] / "examples" / "neck_pain_headache.yaml")
runner = CliRunner()


def test_it_prints_clinic_clinician_and_patient_given_on_the_command_line():
    result = runner.invoke(
        app,
        [
            "assess",
            NECK,
            "--format",
            "html",
            "--clinic",
            "Riverside PT",
            "--clinician",
            "A. Physio",
            "--patient-name",
            "Jo Example",
            "--patient-id",
            "0042",
            "--paper",
            "letter",
        ],
    )
    assert result.exit_code == 0, result.output
    for value in ("Riverside PT", "A. Physio", "Jo Example", "0042", "size: letter"):
        assert value in result.stdout, value


def test_it_refuses_an_unknown_paper_size():
    result = runner.invoke(app, ["assess", NECK, "--format", "pdf", "--paper", "a3", "-o", "x.pdf"])
    assert result.exit_code == 2


@pytest.mark.skipif(not shutil.which("pdfinfo"), reason="pdfinfo (poppler-utils) not installed")
def test_it_writes_a_letter_pdf(tmp_path):
    target = tmp_path / "handout.pdf"
    result = runner.invoke(
        app, ["assess", NECK, "--format", "pdf", "-a", "patient", "--paper", "letter", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    info = subprocess.run(["pdfinfo", str(target)], capture_output=True, text=True, check=True).stdout
    assert "612 x 792 pts (letter)" in info


def test_it_leads_the_terminal_report_with_the_summary():
    result = runner.invoke(app, ["assess", NECK])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.index("Summary - Needle with precautions") < out.index("Screening findings")
    assert "Safety:" in out[: out.index("Screening findings")]
