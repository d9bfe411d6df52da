"""Profile validation: every bad field is named, with the valid or closest choices; never a traceback."""

from __future__ import annotations

import json

import pytest
from assess_helpers import profile

from dryneedling.assessment.profile import InputErrors, load_profile, profile_schema
from dryneedling.errors import InputError
from shipped import shipped_catalog


def _error(data) -> InputErrors:
    with pytest.raises(InputErrors) as caught:
        load_profile(data, shipped_catalog())
    return caught.value


def test_it_names_an_unknown_condition_and_suggests_the_closest_id():
    error = _error(profile(condition="neck_pain_stiff"))
    assert error.field == "condition"
    assert "neck_pain_stiff_neck" in error.suggestions
    assert "neck_pain_stiff_neck" in str(error)


def test_it_rejects_an_age_of_300_naming_the_field():
    error = _error(profile(age=300))
    assert error.field == "age"
    assert "120" in error.message


def test_it_requires_a_condition():
    data = profile()
    del data["condition"]
    error = _error(data)
    assert error.field == "condition" and "required" in error.message


def test_it_names_an_unknown_pain_region_with_its_position():
    error = _error(profile(pain_regions=["posterior_neck", "tempel"]))
    assert error.field == "pain_regions[1]"
    assert "temple" in error.suggestions


def test_it_names_an_unknown_muscle_of_an_examined_trigger_point():
    error = _error(profile(trigger_points=[{"muscle": "upper_trapezus", "kind": "active"}]))
    assert error.field == "trigger_points[0].muscle"
    assert "upper_trapezius" in error.suggestions


def test_it_suggests_a_known_comorbidity():
    error = _error(profile(comorbidities=["fibromyalgia", "diabetis"]))
    assert error.field == "comorbidities[1]"
    assert "diabetes" in error.suggestions


def test_it_lists_the_valid_choices_of_a_fixed_field():
    error = _error(profile(needle_fear="terrified"))
    assert error.field == "needle_fear"
    assert error.choices == ["mild", "none", "severe"]
    assert "valid: mild, none, severe" in str(error)


def test_it_forbids_fields_that_are_not_in_the_profile():
    error = _error(profile(blood_type="A"))
    assert error.field == "blood_type"
    assert "not a profile field" in error.message


def test_it_reports_every_problem_and_reads_as_the_first():
    shape = _error(profile(age=-1, needle_fear="x"))
    assert [e.field for e in shape.errors] == ["age", "needle_fear"]
    assert str(shape).startswith("age:") and "(+1 more)" in str(shape)
    ids = _error(profile(condition="nope", pain_regions=["nowhere"]))
    assert [e.field for e in ids.errors] == ["condition", "pain_regions[0]"]
    assert isinstance(ids, InputError) and ids.to_dict()["errors"][1]["field"] == "pain_regions[0]"


def test_it_checks_region_ids_of_regional_findings_and_accepts_areas_and_sides():
    loaded = load_profile(
        profile(lymphedema_regions=["right:shoulder_arm", "lateral_arm"]), shipped_catalog()
    )
    assert [(m.region, m.side) for m in loaded.lymphedema_regions] == [
        ("shoulder_arm", "right"),
        ("lateral_arm", None),
    ]
    error = _error(profile(skin_lesion_regions=["left:armpit"]))
    assert error.field == "skin_lesion_regions[0]"


def test_it_reads_yaml_and_json_files_and_reports_a_missing_file(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps(profile()))
    (tmp_path / "p.yaml").write_text(
        "age: 40\ncondition: low_back_pain\npain_regions: [low_back]\nconsent: true\n"
    )
    assert load_profile(tmp_path / "p.json", shipped_catalog()).condition == "neck_pain_stiff_neck"
    assert load_profile(tmp_path / "p.yaml", shipped_catalog()).pain_regions == ["low_back"]
    with pytest.raises(InputError) as caught:
        load_profile(tmp_path / "missing.yaml", shipped_catalog())
    assert caught.value.field == "profile"
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(InputError, match="mapping"):
        load_profile(tmp_path / "list.yaml", shipped_catalog())


def test_it_rejects_a_trimester_when_not_pregnant():
    error = _error(profile(pregnancy={"pregnant": False, "trimester": 2}))
    assert error.field == "pregnancy"


def test_it_publishes_a_json_schema_with_the_comorbidity_choices():
    schema = profile_schema(shipped_catalog())
    assert set(schema["required"]) >= {"age", "condition", "pain_regions", "consent"}
    assert "fibromyalgia" in schema["properties"]["comorbidities"]["items"]["enum"]
    assert schema["additionalProperties"] is False


def test_it_rejects_booleans_and_nan_where_numbers_are_expected():
    assert _error(profile(age=True)).field == "age"
    assert _error(profile(duration_weeks=float("nan"))).field == "duration_weeks"
    assert load_profile(profile(age="40"), shipped_catalog()).age == 40  # form values arrive as strings
