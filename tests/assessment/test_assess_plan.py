"""Heat, aftercare, candidates and care plan: what applies to whom."""

from __future__ import annotations

from assess_helpers import example_report, report_for

from shipped import shipped_catalog


def test_it_expects_soreness_for_24_to_72_hours_from_the_data():
    soreness = report_for().aftercare.soreness
    rule = shipped_catalog().guidance.aftercare.soreness
    assert (soreness.low_hours, soreness.high_hours) == (rule.low_hours, rule.high_hours) == (24, 72)
    assert not soreness.may_last_longer and soreness.widened_by == []


def test_it_widens_the_soreness_window_for_the_modifiers_that_widen_it():
    plain = report_for().aftercare.soreness
    widened = report_for(
        comorbidities=["fibromyalgia"], central_sensitization_inventory=50
    ).aftercare.soreness
    assert widened.may_last_longer
    assert set(widened.widened_by) == {"fibromyalgia", "central_sensitization"}
    assert "72 hours" in widened.text and widened.text != plain.text
    assert widened.patient_text != plain.patient_text and "longer" in widened.patient_text
    assert widened.confidence == "low"


def test_it_does_not_widen_soreness_for_modifiers_that_do_not_widen_it():
    soreness = report_for(duration_weeks=40, prior_injuries=["old fracture"]).aftercare.soreness
    assert not soreness.may_last_longer


def test_it_recommends_heat_before_and_after_when_nothing_stops_it():
    heat = report_for().heat_plan
    assert heat.before.recommended and heat.after.recommended
    assert "15-20 minutes" in heat.before.how
    assert "not been tested" in heat.after.reason and "No randomised trial" in heat.evidence_note
    assert "ischaemic compression" in heat.evidence_note


def test_it_withholds_heat_after_over_a_local_inflammatory_response():
    heat = report_for(local_inflammation_regions=["posterior_neck"]).heat_plan
    assert not heat.after.recommended and "inflammation" in heat.after.reason.lower()
    assert "houghton_2010_epa" in heat.after.sources


def test_it_keeps_heat_when_the_inflammation_is_far_from_the_treated_area():
    heat = report_for(local_inflammation_regions=["plantar_heel"]).heat_plan
    assert heat.after.recommended


def test_it_withholds_heat_for_reduced_sensation():
    heat = report_for(comorbidities=["peripheral_neuropathy"]).heat_plan
    assert not heat.before.recommended and not heat.after.recommended
    assert "utah_burn_center" in heat.after.sources


def test_it_withholds_heat_after_needling_for_people_on_blood_thinners():
    heat = report_for(medications=["rivaroxaban"]).heat_plan
    assert heat.before.recommended and not heat.after.recommended


def test_it_warns_about_the_chest_only_when_candidates_lie_over_the_lung():
    neck = example_report("neck_pain_headache")
    heel = example_report("plantar_heel")
    assert any(n.anatomical_region == "thorax_lung" for c in neck.candidate_muscles for n in c.safety)
    assert "pneumothorax" in {w.id for w in neck.aftercare.warning_signs}
    assert "pneumothorax" not in {w.id for w in heel.aftercare.warning_signs}
    assert "fainting" in {w.id for w in heel.aftercare.warning_signs}


def test_it_warns_about_bleeding_only_with_a_bleeding_risk():
    assert "bleeding" in {w.id for w in report_for(medications=["Coumadin"]).aftercare.warning_signs}
    assert "bleeding" not in {w.id for w in report_for().aftercare.warning_signs}


def test_it_boosts_an_examined_trigger_point_and_says_how():
    plain = {c.muscle: c.score for c in report_for(pain_regions=["temple"]).candidate_muscles}
    examined = report_for(
        pain_regions=["temple"], trigger_points=[{"muscle": "upper_trapezius", "kind": "active"}]
    )
    trapezius = next(c for c in examined.candidate_muscles if c.muscle == "upper_trapezius")
    boost = shipped_catalog().guidance.screening.examined_trigger_point_boost["active"]
    assert trapezius.examined == "active" and trapezius.boosted
    assert trapezius.score == round(plain["upper_trapezius"] + boost, 4)  # no cap hides the difference


def test_it_adds_an_examined_muscle_the_atlas_did_not_list():
    report = report_for(
        pain_regions=["temple"], trigger_points=[{"muscle": "gastrocnemius", "kind": "latent"}]
    )
    calf = next(c for c in report.candidate_muscles if c.muscle == "gastrocnemius")
    assert calf.examined == "latent" and calf.matched_regions == []


def test_it_gives_every_candidate_its_high_risk_anatomy():
    kb = shipped_catalog().kb
    for candidate in example_report("neck_pain_headache").candidate_muscles:
        expected = {n.anatomical_region for n in kb.muscles[candidate.muscle].needling_safety}
        assert {n.anatomical_region for n in candidate.safety} == expected


def test_it_lists_the_condition_measures_with_their_published_mcids():
    kb = shipped_catalog().kb
    plan = example_report("neck_pain_headache").care_plan
    assert [m.id for m in plan.measures] == list(kb.conditions["neck_pain_stiff_neck"].measures)
    ndi = next(m for m in plan.measures if m.id == "ndi")
    assert ndi.mcid and all(x.source in kb.sources and x.population for x in ndi.mcid)
    assert {f.id for f in plan.follow_up} == {"soreness_check", "remeasure_outcomes"}


def test_it_fits_care_components_to_the_condition_area():
    neck = {c.id for c in example_report("neck_pain_headache").care_plan.components}
    heel = {c.id for c in example_report("plantar_heel").care_plan.components}
    assert {"education", "graded_exercise", "manual_therapy", "ergonomics"} <= neck
    assert "load_management" in heel and "ergonomics" not in heel


def test_it_shows_the_combined_care_evidence_rows_for_the_neck():
    rows = example_report("neck_pain_headache").care_plan.combined_evidence
    assert rows and all("combined" in (r["comparator"] + r["favours"]) for r in rows)


def test_it_states_the_gap_when_a_condition_has_no_pooled_evidence():
    evidence = report_for(condition="sciatica_like_pain", pain_regions=["posterior_thigh"]).evidence
    assert evidence.rows == [] and evidence.gaps
    assert "no pooled" in evidence.patient_text.lower()


def test_it_keeps_heat_but_not_over_a_swollen_arm_when_other_painful_areas_remain():
    heat = example_report("lymphedema_shoulder").heat_plan
    assert heat.after.recommended and "Not over lymphedema regions" in heat.after.reason
    assert "swollen arm" in heat.after.patient_text
