"""Evidence table wording (issue 9): every mean difference names its scale or stays with clinicians,
"not assessable" where our check could judge nothing, no "n/r" or internal labels, no effect-size
jargon for patients, and every row's source with its link and tier."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dryneedling.cli import app
from dryneedling.evidence.syntheses import MEAN_DIFFERENCES
from dryneedling.evidence.table import evidence_table
from shipped import shipped_catalog

from .wording import INTERNAL_LABELS, patient_jargon, unreadable

runner = CliRunner()
CATALOG = shipped_catalog()
ALL_ROWS = evidence_table(CATALOG, all_estimates=True).rows
PATIENT_ROWS = evidence_table(CATALOG, audience="patient", all_estimates=True).rows


def test_the_internal_labels_are_known():
    assert "SMD_dppc2" in INTERNAL_LABELS and "MD_NMA" in INTERNAL_LABELS


@pytest.mark.parametrize("row", ALL_ROWS, ids=lambda row: row.id)
def test_no_row_prints_a_placeholder_an_internal_label_or_at_most_high(row):
    for text in (row.clinician_summary, row.plain_summary, row.effect_text, row.study_counts):
        assert not unreadable(text), (row.id, text)
    assert not unreadable(row.our_check.summary)


@pytest.mark.parametrize("row", [r for r in ALL_ROWS if r.effect_measure in MEAN_DIFFERENCES], ids=str)
def test_every_mean_difference_names_its_scale_or_is_kept_from_patients(row):
    if row.scale_label:
        assert row.scale_label.split(" on ")[0] in row.effect_text
        assert row.scale_label.split(" on ")[0] in row.clinician_summary
    else:
        assert not row.patient_safe, row.id
        assert "scale" in row.exclusion_reason
        assert "on a scale the review does not name" in row.effect_text


def test_the_shoulder_disability_md_says_its_scale_is_unnamed_and_patients_do_not_see_it():
    row = next(r for r in ALL_ROWS if r.id == "ES017")
    assert "-9.99 on a scale the review does not name" in row.clinician_summary
    assert "ES017" not in {r.id for r in PATIENT_ROWS}


def test_nprs_rows_name_the_scale_and_its_range():
    row = next(r for r in ALL_ROWS if r.id == "ES001")
    assert "MD -1.53 points on the NPRS, 0-10" in row.effect_text
    assert row.scale_label == "points on the Numeric Pain Rating Scale (NPRS / PI-NRS), 0-10"


def test_a_check_that_could_judge_nothing_is_not_assessable_in_the_model_and_its_json():
    blank = [r for r in ALL_ROWS if not r.our_check.downgrades and not r.our_check.complete]
    assert blank, "the shipped data has estimates with nothing reported to check"
    for row in blank:
        dumped = row.model_dump(mode="json")["our_check"]
        assert dumped["assessable"] is False
        assert dumped["summary"].startswith("not assessable")
        assert "not assessable" in row.clinician_summary


@pytest.mark.parametrize("row", PATIENT_ROWS, ids=lambda row: row.id)
def test_patient_wording_has_no_smd_k_or_i2(row):
    assert not patient_jargon(row.plain_summary), row.plain_summary


def test_every_row_carries_its_source_link_and_tier():
    for row in ALL_ROWS:
        assert row.source_tier in (1, 2, 3), row.id
        assert row.source_link and row.source_link.startswith(("https://", "http://")), row.id
        assert row.source_link == CATALOG.kb.sources[row.source].link


@pytest.fixture
def wide(monkeypatch):
    """A wide console, so table cells do not wrap words apart (the CLI's console is made at import)."""
    from dryneedling.cli import output

    monkeypatch.setattr(output.console, "width", 250)


def _cli(*args: str) -> str:
    result = runner.invoke(app, ["evidence", "table", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_cli_table_reads_in_words_for_clinicians(wide):
    out = _cli("--all")
    assert not unreadable(out), unreadable(out)
    assert "not assessable" in out
    assert "tier 1" in out and "https://doi.org/" in out


def test_the_cli_table_for_patients_has_no_effect_sizes_or_study_counts(wide):
    out = _cli("--all", "--audience", "patient")
    assert not unreadable(out)
    assert not patient_jargon(out), patient_jargon(out)
    assert "Estimate" not in out and "MD " not in out


def test_the_cli_json_carries_the_words_too():
    rows = json.loads(_cli("--json", "--region", "shoulder"))["rows"]
    assert all(row["effect_text"] and row["our_check"]["summary"] for row in rows)
    assert not any(unreadable(row["clinician_summary"]) for row in rows)
