"""`dryneedling evidence table`: JSON shape, filters, patient audience and exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dryneedling.cli import app

runner = CliRunner()
ROW_KEYS = {
    "id",
    "region",
    "comparator",
    "outcome",
    "timepoint",
    "effect_measure",
    "estimate",
    "ci_low",
    "ci_high",
    "k",
    "n",
    "i2",
    "certainty",
    "certainty_reasons",
    "strength",
    "favours",
    "plain_summary",
    "clinician_summary",
    "source",
    "citation",
    "patient_safe",
}


def run(*args: str):
    return runner.invoke(app, ["evidence", "table", *args])


def run_json(*args: str) -> dict:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_gives_rule_rows_and_gaps():
    data = run_json("--region", "neck")
    assert {"rule", "rows", "gaps"} <= set(data)
    assert "most recent review" in data["rule"]
    assert data["rows"] and all(set(row) >= ROW_KEYS for row in data["rows"])
    assert {row["region"] for row in data["rows"]} == {"neck"}


def test_filters_narrow_the_rows():
    data = run_json("--region", "shoulder", "--outcome", "pain", "--timepoint", "short_term")
    assert data["rows"]
    assert {(r["region"], r["outcome"], r["timepoint"]) for r in data["rows"]} == {
        ("shoulder", "pain", "short_term")
    }
    comparator = run_json("--comparator", "injection")
    assert {r["comparator"] for r in comparator["rows"]} == {"injection"}


def test_all_adds_superseded_estimates():
    best = run_json("--region", "plantar_heel")
    every = run_json("--region", "plantar_heel", "--all")
    assert len(every["rows"]) > len(best["rows"])
    assert any(row["superseded_by"] for row in every["rows"])


def test_a_region_without_pooled_evidence_returns_its_gap():
    data = run_json("--region", "hip")
    assert data["rows"] == []
    assert [gap["region"] for gap in data["gaps"]] == ["hip"]
    assert data["gaps"][0]["sources"]


def test_patient_audience_leaves_out_unreliable_rows():
    data = run_json("--audience", "patient", "--all")
    ids = {row["id"] for row in data["rows"]}
    assert ids and all(row["patient_safe"] for row in data["rows"])
    assert not ids & {"ES039", "ES049", "ES071", "ES075"}


def test_the_human_table_shows_rows_gaps_and_the_rule(monkeypatch):
    from dryneedling.cli import output

    monkeypatch.setattr(output.console, "width", 250)  # cells must not wrap words apart
    result = run("--region", "hip")
    assert result.exit_code == 0
    assert "No study has pooled" not in result.output  # clinician sees the precise statement
    assert "Forogh 2023" in result.output
    assert "How one estimate is chosen" in result.output
    shoulder = run("--region", "shoulder", "--audience", "patient")
    assert shoulder.exit_code == 0
    text = " ".join(shoulder.output.split())
    assert "Emerging" in text and "may help" in text
    # Patients get the plain note, not the selection and strength rules written for clinicians.
    assert "The strength word says how sure the research is" in text
    assert "How one estimate is chosen" not in text


@pytest.mark.parametrize(
    ("args", "field", "suggestion"),
    [
        (["--region", "sholder"], "region", "shoulder"),
        (["--comparator", "manual"], "comparator", "manual_therapy"),
        (["--outcome", "pian"], "outcome", "pain"),
        (["--timepoint", "short"], "timepoint", "short_term"),
        (["--audience", "patients"], "audience", "patient"),
    ],
)
def test_unknown_values_give_one_line_with_the_closest_choices_and_exit_2(args, field, suggestion):
    result = run(*args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {field}:")
    assert suggestion in lines[0]
    assert "Traceback" not in result.output


def test_unknown_values_in_json_mode_give_the_error_shape():
    result = run("--outcome", "pian", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["field"] == "outcome" and "pain" in error["suggestions"]


def test_a_condition_selects_its_evidence_region():
    data = run_json("--condition", "lateral_epicondylalgia")
    assert data["rows"] and {row["region"] for row in data["rows"]} == {"elbow"}


def test_an_unknown_condition_exits_2():
    result = run("--condition", "tennis_elbw")
    assert result.exit_code == 2
    assert "condition" in result.output
