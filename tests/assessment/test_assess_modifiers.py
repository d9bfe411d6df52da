"""Modifiers fire on the findings that trigger them, and only then; thresholds come from the data."""

from __future__ import annotations

import pytest
from assess_helpers import profile

from dryneedling.assessment.modifiers import assess_modifiers
from dryneedling.assessment.profile import load_profile
from shipped import shipped_catalog


def _ids(**changes) -> set[str]:
    return {
        m.id for m in assess_modifiers(load_profile(profile(**changes), shipped_catalog()), shipped_catalog())
    }


def _modifier(modifier_id, **changes):
    found = assess_modifiers(load_profile(profile(**changes), shipped_catalog()), shipped_catalog())
    return next(m for m in found if m.id == modifier_id)


def test_it_only_recalls_the_previous_response_of_a_plain_returning_patient():
    assert _ids() == {"previous_response"}


@pytest.mark.parametrize(
    ("modifier", "on", "off"),
    [
        (
            "active_trigger_points",
            {"trigger_points": [{"muscle": "upper_trapezius", "kind": "active"}]},
            {"trigger_points": [{"muscle": "upper_trapezius", "kind": "latent"}]},
        ),
        (
            "latent_trigger_points_only",
            {"trigger_points": [{"muscle": "upper_trapezius", "kind": "latent"}]},
            {
                "trigger_points": [
                    {"muscle": "upper_trapezius", "kind": "latent"},
                    {"muscle": "levator_scapulae", "kind": "active"},
                ]
            },
        ),
        ("chronic_pain", {"duration_weeks": 26}, {"duration_weeks": 6}),
        ("fibromyalgia", {"comorbidities": ["fibromyalgia"]}, {"comorbidities": ["diabetes"]}),
        ("crps", {"comorbidities": ["crps"]}, {"comorbidities": ["fibromyalgia"]}),
        ("psychological_distress", {"needle_fear": "mild"}, {"needle_fear": "none"}),
        ("female_sex", {"sex": "female"}, {"sex": "male"}),
        ("older_age", {"age": 72}, {"age": 45}),
        ("prior_injury_compensation", {"prior_injuries": ["ankle sprain 2020"]}, {"prior_injuries": []}),
        ("practitioner_training", {"practitioner": {"training_hours": 54}}, {}),
        (
            "first_treatment",
            {"previous_dry_needling": {"sessions": 0}},
            {"previous_dry_needling": {"sessions": 3}},
        ),
        (
            "previous_response",
            {"previous_dry_needling": {"sessions": 3, "vasovagal_reaction": True}},
            {"previous_dry_needling": {"sessions": 0}},
        ),
    ],
)
def test_it_triggers_each_modifier_on_its_finding_and_not_otherwise(modifier, on, off):
    assert modifier in _ids(**on)
    assert modifier not in _ids(**off)


def test_it_takes_the_csi_cut_off_from_the_knowledge_base():
    cutoff = int(shipped_catalog().kb.measures["csi"].cutoff.value)
    assert "central_sensitization" in _ids(central_sensitization_inventory=cutoff)
    assert "central_sensitization" not in _ids(central_sensitization_inventory=cutoff - 1)
    modifier = _modifier("central_sensitization", central_sensitization_inventory=cutoff + 5)
    assert f"cut-off {cutoff}" in modifier.finding
    assert shipped_catalog().kb.measures["csi"].cutoff.source in modifier.sources


def test_it_takes_the_chronicity_threshold_from_the_guidance_data():
    weeks = next(m for m in shipped_catalog().guidance.modifiers if m.id == "chronic_pain").trigger.weeks
    assert "chronic_pain" in _ids(duration_weeks=weeks)
    assert "chronic_pain" not in _ids(duration_weeks=weeks - 1)


def test_it_says_what_in_the_profile_triggered_a_modifier():
    assert (
        "upper_trapezius (right)"
        in _modifier(
            "active_trigger_points",
            trigger_points=[{"muscle": "upper_trapezius", "side": "right", "kind": "active"}],
        ).finding
    )
    assert "26 weeks" in _modifier("chronic_pain", duration_weeks=26).finding
    assert "54 hours" in _modifier("practitioner_training", practitioner={"training_hours": 54}).finding
    assert (
        "vasovagal"
        in _modifier(
            "previous_response", previous_dry_needling={"sessions": 1, "vasovagal_reaction": True}
        ).finding
    )


def test_it_marks_unsourced_claims_as_low_confidence_clinical_reasoning():
    found = assess_modifiers(
        load_profile(
            profile(age=70, comorbidities=["fibromyalgia", "crps"], prior_injuries=["x"]), shipped_catalog()
        ),
        shipped_catalog(),
    )
    reasoning = [m for m in found if m.clinical_reasoning]
    assert {m.id for m in reasoning} >= {"fibromyalgia", "crps", "older_age", "prior_injury_compensation"}
    assert all(m.confidence == "low" for m in reasoning)


def test_it_gives_every_modifier_sources_wording_and_a_patient_sentence():
    kb = shipped_catalog().kb
    for rule in shipped_catalog().guidance.modifiers:
        assert rule.patient_text and rule.expected_effect and rule.what_to_do
        assert all(s in kb.sources for s in rule.sources)
