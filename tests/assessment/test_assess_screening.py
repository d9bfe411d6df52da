"""Screening decisions for each class of finding, region-awareness and medication recognition."""

from __future__ import annotations

import pytest
from assess_helpers import profile, report_for

from dryneedling.assessment.profile import load_profile
from dryneedling.assessment.screening import read_medications, screen
from shipped import shipped_catalog


def _screen(**changes):
    return screen(load_profile(profile(**changes), shipped_catalog()), shipped_catalog())


def _ids(screening):
    return {item.id for item in screening.items}


def test_it_finds_a_plain_returning_patient_suitable():
    screening = _screen()
    assert screening.decision == "suitable"
    assert screening.items == []


@pytest.mark.parametrize(
    ("changes", "item"),
    [
        ({"needle_fear": "severe"}, "needle_phobia"),
        ({"consent": False}, "unable_to_consent"),
        ({"comorbidities": ["acute_medical_condition"]}, "medical_emergency_acute_illness"),
        ({"practitioner": {"training_hours": 0}}, "training_and_authorisation"),
    ],
)
def test_it_blocks_everything_for_a_whole_body_absolute_item(changes, item):
    screening = _screen(**changes)
    assert screening.decision == "do_not_needle"
    blocking = next(i for i in screening.items if i.id == item)
    assert blocking.klass == "absolute" and blocking.effect == "blocks_all"
    assert blocking.sources and blocking.patient_text


@pytest.mark.parametrize(
    ("comorbidity", "item"),
    [
        ("diabetes", "diabetes"),
        ("epilepsy", "epilepsy"),
        ("immunocompromise", "immunocompromise"),
        ("vascular_disease", "vascular_disease"),
        ("bleeding_disorder", "bleeding_disorder_anticoagulants"),
        ("frailty", "frail_patient"),
        ("anxiety_distress", "psychological_status"),
    ],
)
def test_it_needles_with_precautions_for_a_relative_comorbidity(comorbidity, item):
    screening = _screen(comorbidities=[comorbidity])
    assert screening.decision == "needle_with_precautions"
    found = next(i for i in screening.items if i.id == item)
    assert found.effect == "precaution"
    assert found.action == shipped_catalog().kb.safety_items[item].clinician_action


def test_it_treats_a_cancer_history_as_a_precaution_not_a_block():
    screening = _screen(comorbidities=["cancer"])
    assert screening.decision == "needle_with_precautions"
    assert next(i for i in screening.items if i.id == "local_malignancy").effect == "precaution"


def test_it_flags_a_first_session_and_a_previous_faint():
    first = _screen(previous_dry_needling={"sessions": 0, "vasovagal_reaction": False})
    fainted = _screen(previous_dry_needling={"sessions": 5, "vasovagal_reaction": True})
    for screening in (first, fainted):
        assert "vasovagal_history_first_treatment" in _ids(screening)
    # A first session is a caution of technique for everyone; a previous faint is about this person.
    assert first.decision == "suitable" and first.items[0].effect == "technique"
    assert fainted.decision == "needle_with_precautions" and fainted.items[0].effect == "precaution"
    assert "first" in first.items[0].reason and "vasovagal" in fainted.items[0].reason


def test_it_flags_children_by_age_but_not_adults():
    assert "children" in _ids(_screen(age=12))
    assert "children" not in _ids(_screen(age=18))


def test_it_reads_pregnancy_by_trimester():
    first = _screen(pregnancy={"pregnant": True, "trimester": 1})
    later_tolerated = _screen(pregnancy={"pregnant": True, "trimester": 2})
    later_first_time = _screen(
        pregnancy={"pregnant": True, "trimester": 2}, previous_dry_needling={"sessions": 0}
    )
    assert first.decision == "do_not_needle"
    assert later_first_time.decision == "do_not_needle"
    assert later_tolerated.decision == "needle_with_precautions"
    item = next(i for i in later_tolerated.items if i.id == "pregnancy")
    assert item.effect == "blocks_regions" and {"low_back", "lower_abdomen"} <= set(item.regions)


def test_it_recognises_antithrombotics_by_generic_and_brand_name_in_any_case():
    findings = read_medications(
        [
            "WARFARIN",
            "Eliquis",
            "xarelto 20 mg",
            "Plavix",
            "aspirin",
            "ticagrelor",
            "enoxaparin",
            "metformin",
        ],
        shipped_catalog().guidance,
    )
    classes = {f.name: f.drug_class for f in findings}
    assert classes["WARFARIN"] == "anticoagulant" and classes["Eliquis"] == "anticoagulant"
    assert classes["xarelto 20 mg"] == "anticoagulant" and classes["enoxaparin"] == "anticoagulant"
    assert classes["Plavix"] == "antiplatelet" and classes["aspirin"] == "antiplatelet"
    assert classes["ticagrelor"] == "antiplatelet"
    unknown = next(f for f in findings if f.name == "metformin")
    assert not unknown.recognised and "not recognised" in unknown.note


def test_it_raises_the_bleeding_item_for_an_anticoagulant_and_keeps_unknown_drugs_for_manual_check():
    screening = _screen(medications=["apixaban", "vitamin d"])
    bleeding = next(i for i in screening.items if i.id == "bleeding_disorder_anticoagulants")
    assert "apixaban" in bleeding.reason
    assert "antithrombotic_review_2022" in bleeding.sources
    manual = next(i for i in screening.items if i.id == "medications")
    assert "vitamin d" in manual.reason and "check manually" in manual.reason
    assert screening.decision == "needle_with_precautions"


def test_it_does_not_flag_bleeding_without_antithrombotics():
    assert "bleeding_disorder_anticoagulants" not in _ids(_screen(medications=["metformin"]))


def _shoulder(**changes):
    return report_for(
        condition="shoulder_pain_subacromial",
        pain_regions=["lateral_shoulder_deltoid", "posterior_shoulder", "scapula_posterior"],
        side="right",
        **changes,
    )


def test_it_keeps_needles_out_of_a_lymphoedematous_right_arm_only():
    kb = shipped_catalog().kb
    plain = _shoulder()
    blocked = _shoulder(lymphedema_regions=["right:shoulder_arm"])
    arm_muscles = {c.muscle for c in plain.candidate_muscles if kb.muscles[c.muscle].area == "shoulder_arm"}
    assert arm_muscles, "the control must have arm muscles to exclude"
    kept = {c.muscle for c in blocked.candidate_muscles}
    excluded = {e.muscle: e for e in blocked.excluded_muscles}
    assert arm_muscles <= set(excluded) and not arm_muscles & kept
    assert all(excluded[m].blocked_by == "lymphedema_area" for m in arm_muscles)
    # muscles elsewhere (shoulder blade) remain candidates: the block is regional, not whole-body
    assert any(kb.muscles[m].area == "upper_back" for m in kept)
    assert blocked.screening.decision == "needle_with_precautions"


def test_it_ignores_a_lymphoedematous_left_arm_when_treating_the_right_side():
    other_side = _shoulder(lymphedema_regions=["left:shoulder_arm"])
    assert other_side.excluded_muscles == []
    assert "lymphedema_area" in {i.id for i in other_side.screening.items}


@pytest.mark.parametrize(
    ("field", "item"),
    [
        ("skin_lesion_regions", "local_infection_skin_lesion"),
        ("implant_regions", "implants_devices"),
        ("recent_surgery_regions", "recent_surgery_fracture"),
        ("tumour_regions", "local_malignancy"),
    ],
)
def test_it_blocks_only_the_listed_region_for_regional_findings(field, item):
    report = _shoulder(**{field: ["lateral_shoulder_deltoid"]})
    assert {e.blocked_by for e in report.excluded_muscles} == {item}
    assert report.candidate_muscles, "muscles outside the region stay candidates"
    assert report.screening.decision == "needle_with_precautions"


def test_it_says_do_not_needle_when_every_candidate_lies_in_a_blocked_region():
    report = report_for(
        condition="plantar_heel_pain",
        pain_regions=["plantar_heel"],
        side="left",
        lymphedema_regions=["ankle_foot", "leg"],
    )
    assert report.candidate_muscles == [] and report.excluded_muscles
    assert report.screening.decision == "do_not_needle"


def test_it_adds_the_thorax_precaution_only_when_a_candidate_lies_over_the_lung():
    neck = report_for(pain_regions=["lateral_neck", "temple"])
    heel = report_for(condition="plantar_heel_pain", pain_regions=["plantar_heel"], side="left")
    assert "thorax_needling_general" in {i.id for i in neck.screening.items}
    assert "thorax_needling_general" not in {i.id for i in heel.screening.items}


def test_it_flags_a_limb_at_risk_of_lymphoedema_without_blocking_it():
    report = _shoulder(lymphedema_risk_regions=["right:shoulder_arm"])
    item = next(i for i in report.screening.items if i.id == "lymph_node_removal_at_risk_limb")
    assert item.effect == "precaution" and "lateral_arm" in item.regions
    assert report.excluded_muscles == []
    assert report.screening.decision == "needle_with_precautions"
