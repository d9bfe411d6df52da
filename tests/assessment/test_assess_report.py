"""Every example builds a complete report whose citations resolve and whose patient text reads easily."""

from __future__ import annotations

import json

import pytest
from assess_helpers import EXAMPLES, example_report

from shipped import shipped_catalog

NAMES = [path.stem for path in EXAMPLES]
REQUIRED_EXAMPLES = {
    "neck_pain_headache",
    "low_back_sciatica",
    "plantar_heel",
    "shoulder",
    "do_not_needle",
    "lymphedema_shoulder",
}


def test_it_ships_the_required_examples():
    assert set(NAMES) >= REQUIRED_EXAMPLES


@pytest.mark.parametrize("name", NAMES)
def test_it_builds_every_example_with_every_cited_source_resolved(name):
    report = example_report(name)
    kb = shipped_catalog().kb
    cited = report.cited_ids()
    assert cited and cited == set(report.sources)
    assert all(report.sources[sid] == kb.sources[sid].citation for sid in cited)


@pytest.mark.parametrize("name", NAMES)
def test_it_keeps_the_promised_json_keys(name):
    data = json.loads(json.dumps(example_report(name).model_dump(mode="json")))
    assert {
        "profile",
        "screening",
        "candidate_muscles",
        "evidence",
        "modifiers",
        "heat_plan",
        "aftercare",
        "care_plan",
        "sources",
        "disclaimer",
    } <= set(data)
    assert data["screening"]["decision"] in {"suitable", "needle_with_precautions", "do_not_needle"}
    for item in data["screening"]["items"]:
        assert {"id", "class", "reason", "action", "regions", "sources", "patient_text", "confidence"} <= set(
            item
        )
    assert {"before", "after", "evidence_note"} <= set(data["heat_plan"])
    assert {"recommended", "reason"} <= set(data["heat_plan"]["before"])
    assert {"soreness", "what_helps", "warning_signs"} <= set(data["aftercare"])
    for modifier in data["modifiers"]:
        assert {
            "id",
            "finding",
            "expected_effect",
            "what_to_do",
            "sources",
            "confidence",
            "patient_text",
        } <= set(modifier)
    assert "clinician decides" in data["disclaimer"]


def test_it_reaches_the_expected_decision_for_each_example():
    decisions = {name: example_report(name).screening.decision for name in NAMES}
    assert decisions["do_not_needle"] == "do_not_needle"
    assert decisions["neck_pain_headache"] == "needle_with_precautions"
    assert decisions["lymphedema_shoulder"] == "needle_with_precautions"
    assert decisions["plantar_heel"] == "suitable"
    assert example_report("lymphedema_shoulder").excluded_muscles


def test_it_gives_every_item_a_patient_sentence():
    for name in NAMES:
        report = example_report(name)
        items = [
            *report.screening.items,
            *report.candidate_muscles,
            *report.modifiers,
            *report.aftercare.what_helps,
            *report.aftercare.warning_signs,
            *report.care_plan.components,
        ]
        assert all(item.patient_text.strip() for item in items), name


@pytest.mark.parametrize("name", NAMES)
def test_it_writes_patient_text_at_grade_8_or_below(name, reading_grade):
    texts = example_report(name, audience="patient").patient_texts()
    grade = reading_grade(" ".join(texts))
    assert grade <= 8, f"{name}: Flesch-Kincaid grade {grade}"
