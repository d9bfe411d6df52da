"""The knowledge commands answer people with tables and machines with JSON; bad input exits 2."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from typer.testing import CliRunner

from dryneedling.cli import app
from dryneedling.knowledge import DATA_DIR

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def run_json(*args: str) -> dict:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_it_checks_the_knowledge_base_and_prints_counts():
    result = run("kb", "check")
    assert result.exit_code == 0
    assert "muscles" in result.stdout and "45" in result.stdout
    counts = run_json("kb", "check")["counts"]
    assert counts["muscles"] == 45 and counts["safety_items"] == 26 and counts["anatomical_regions"] == 5
    assert counts["conditions"] >= 32


def test_it_fails_kb_check_with_exit_1_listing_the_problems_of_a_broken_copy(tmp_path):
    broken = tmp_path / "data"
    shutil.copytree(DATA_DIR, broken)
    path = broken / "muscles.yaml"
    document = yaml.safe_load(path.read_text())
    document["muscles"][0]["referral_zones"].append("elbow_pit")
    path.write_text(yaml.safe_dump(document, sort_keys=False))

    result = run("kb", "check", "--data-dir", str(broken))
    assert result.exit_code == 1
    assert "upper_trapezius.referral_zones: unknown body region id 'elbow_pit'" in result.output

    result = run("kb", "check", "--data-dir", str(broken), "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert problems == [
        {
            "file": "muscles.yaml",
            "entry": "upper_trapezius",
            "field": "referral_zones",
            "message": "unknown body region id 'elbow_pit'",
        }
    ]


def test_it_ranks_muscles_for_painful_regions_as_json():
    data = run_json("atlas", "--pain", "temple,occiput")
    assert data["query"]["pain"] == ["temple", "occiput"]
    assert data["query"]["condition"] is None and data["query"]["side"] is None
    first = data["candidates"][0]
    assert first["muscle"] == "upper_trapezius" and first["score"] == 1.0
    assert {"name", "matched_regions", "unmatched_regions", "confidence", "safety", "sources"} <= set(first)
    assert first["safety"][0]["region"] == "thorax_lung" and first["safety"][0]["note"]
    assert set(first["sources"]) <= set(data["sources"])


def test_it_honours_condition_side_and_limit_in_the_atlas():
    data = run_json(
        "atlas",
        "--pain",
        "plantar_heel",
        "--condition",
        "plantar_heel_pain",
        "--side",
        "right",
        "--limit",
        "2",
    )
    assert len(data["candidates"]) == 2
    assert data["query"] == {
        "pain": ["plantar_heel"],
        "condition": "plantar_heel_pain",
        "side": "right",
        "limit": 2,
    }
    assert all(c["side"] == "right" and c["condition_match"] for c in data["candidates"])


def test_it_prints_a_readable_atlas_table():
    result = run("atlas", "--pain", "lateral_thigh,lateral_knee")
    assert result.exit_code == 0
    assert "Needling safety" in result.stdout
    assert "1. gluteus_minimus [neurovascular_general]" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["atlas", "--pain", "templ"], "did you mean: temple"),
        (["atlas", "--pain", ""], "name at least one painful body region"),
        (["atlas", "--pain", "temple", "--side", "up"], "side must be left or right"),
        (["atlas", "--pain", "temple", "--condition", "migrane_like_headache"], "migraine_like_headache"),
        (["atlas", "--pain", "temple", "--limit", "0"], "limit"),
        (["muscle", "upper_trapezus"], "did you mean: upper_trapezius"),
        (["condition", "plantar_heal_pain"], "plantar_heel_pain"),
        (["safety", "pregancy"], "pregnancy"),
        (["measure", "ndii"], "ndi"),
    ],
)
def test_it_rejects_bad_input_with_one_line_and_exit_2(args, expected):
    result = run(*args)
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_it_reports_bad_input_in_the_json_error_shape():
    result = run("atlas", "--pain", "templ", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["field"] == "pain" and error["value"] == "templ" and "temple" in error["suggestions"]


def test_it_shows_one_muscle_with_full_citations():
    result = run("muscle", "upper_trapezius")
    assert result.exit_code == 0 and "Trapezius, upper fibres" in result.stdout
    assert "[thorax_lung]" in result.stdout and "Travell & Simons 1983" in result.stdout
    data = run_json("muscle", "upper_trapezius")
    assert data["confidence"] == "high" and data["citations"][0]["citation"]


def test_it_shows_one_condition_with_its_measures_evidence_region_and_muscles():
    data = run_json("condition", "plantar_heel_pain")
    assert data["evidence_region"] == "plantar_heel"
    assert "faam" in data["measures"] and "soleus" in data["muscles"]
    assert "Heel pain" in run("condition", "plantar_heel_pain").stdout


def test_it_lists_all_safety_items_and_anatomical_regions():
    data = run_json("safety")
    assert len(data["items"]) == 26 and len(data["anatomical_regions"]) == 5
    assert "needle_phobia" in run("safety").stdout


def test_it_shows_one_safety_item_or_anatomical_region():
    item = run_json("safety", "lymphedema_area")
    assert item["klass"] == "absolute" and item["scope"] == "regional" and item["patient_text"]
    region = run_json("safety", "thorax_lung")
    assert "interscapular" in region["body_regions"] and region["citations"]


def test_it_shows_a_measure_with_mcids_and_their_context():
    data = run_json("measure", "ndi")
    assert data["range"] == [0, 50] and data["direction"] == "higher_worse"
    assert [m["usable"] for m in data["mcid"]] == [True, False, False]
    assert "Minimal clinically important change" in run("measure", "ndi").stdout


def test_it_lists_the_body_regions_by_area():
    data = run_json("regions")
    assert len(data["areas"]) == 13
    assert sum(len(a["regions"]) for a in data["areas"]) == 81
    assert "plantar_heel" in run("regions").stdout


def test_it_fails_kb_check_for_a_directory_without_data(tmp_path):
    result = run("kb", "check", "--data-dir", str(tmp_path), "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert {"file": "muscles.yaml", "entry": "-", "field": "", "message": "file missing"} in problems


def test_it_fails_kb_check_when_the_guidance_cites_a_source_the_kb_lacks(tmp_path):
    broken = tmp_path / "data"
    shutil.copytree(DATA_DIR, broken)
    path = broken / "guidance" / "heat.yaml"
    path.write_text(path.read_text().replace("sources: [", "sources: [no_such_source, ", 1))

    result = run("kb", "check", "--data-dir", str(broken), "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert any(p["file"] == "guidance/heat.yaml" and "no_such_source" in p["message"] for p in problems)


def test_it_checks_the_evidence_data_of_the_directory_it_is_given(tmp_path):
    broken = tmp_path / "data"
    shutil.copytree(DATA_DIR, broken)
    path = broken / "evidence" / "syntheses.csv"
    path.write_text(path.read_text().replace("\nES001,", "\nXS001,", 1))

    result = run("kb", "check", "--data-dir", str(broken), "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert any(p["file"] == "evidence/syntheses.csv" for p in problems), problems


def test_it_prints_the_catalog_version_that_changes_with_the_data(tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy)
    before = json.loads(run("kb", "check", "--data-dir", str(copy), "--json").stdout)["catalog_version"]
    path = copy / "guidance" / "heat.yaml"
    path.write_text(path.read_text() + "\n# a curator's note\n")
    after = json.loads(run("kb", "check", "--data-dir", str(copy), "--json").stdout)["catalog_version"]
    assert len(before) == 12 and before != after


def test_it_counts_the_guidance_and_evidence_that_cite_the_kb():
    counts = run_json("kb", "check")["counts"]
    assert counts["published_estimates"] == 87 and counts["guidance_modifiers"] > 0
