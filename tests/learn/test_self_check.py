"""The self-check agrees with the assessment's screening for the same person, and says so plainly."""

from __future__ import annotations

import typing

import pytest

from dryneedling.errors import InputError
from dryneedling.services.assess import assess
from dryneedling.services.self_check import Answers, choices, profile_from_answers, self_check
from shipped import shipped_catalog

CATALOG = shipped_catalog()

# Invented people: the self-check answers they would give, and the assessment profile a clinician would
# record for them (written by hand, not derived from the answers).
PEOPLE = {
    "pregnant, first trimester": (
        {"area": "trunk_pelvis", "pregnancy": "1", "duration": "short"},
        {
            "age": 31,
            "sex": "female",
            "condition": "low_back_pain",
            "pain_regions": ["low_back"],
            "consent": True,
            "pregnancy": {"pregnant": True, "trimester": 1},
            "duration_weeks": 4,
        },
    ),
    "pregnant, third trimester, needled before": (
        {"area": "neck", "pregnancy": "3", "reactions": "fine"},
        {
            "age": 29,
            "condition": "neck_pain_stiff_neck",
            "pain_regions": ["posterior_neck"],
            "consent": True,
            "pregnancy": {"pregnant": True, "trimester": 3},
            "previous_dry_needling": {"sessions": 4},
        },
    ),
    "on apixaban": (
        {
            "area": "neck",
            "blood_thinner": "yes",
            "blood_thinner_name": "apixaban",
            "duration": "long",
            "reactions": "fine",
        },
        {
            "age": 67,
            "condition": "neck_pain_stiff_neck",
            "pain_regions": ["posterior_neck", "lateral_neck"],
            "medications": ["Eliquis"],
            "consent": True,
            "duration_weeks": 30,
            "previous_dry_needling": {"sessions": 2},
        },
    ),
    "pacemaker in the chest": (
        {"area": "shoulder_arm", "implant": "pacemaker", "reactions": "fine"},
        {
            "age": 72,
            "condition": "shoulder_pain_subacromial",
            "pain_regions": ["lateral_shoulder_deltoid"],
            "implant_regions": [{"region": "chest"}],
            "consent": True,
            "previous_dry_needling": {"sessions": 1},
        },
    ),
    "severe needle fear": (
        {"area": "head_face", "needle_fear": "severe"},
        {
            "age": 34,
            "condition": "tension_type_headache",
            "pain_regions": ["temple"],
            "needle_fear": "severe",
            "consent": True,
        },
    ),
    "a 12-year-old": (
        {"area": "knee", "age": "minor", "reactions": "never"},
        {
            "age": 12,
            "condition": "patellofemoral_pain",
            "pain_regions": ["anterior_knee_patella"],
            "consent": True,
            "consent_by": "guardian",
        },
    ),
    "a 4-year-old": (
        {"area": "knee", "age": "young_child"},
        {
            "age": 4,
            "condition": "knee_pain",
            "pain_regions": ["anterior_knee_patella"],
            "consent": True,
            "consent_by": "guardian",
        },
    ),
    "fainted with needles before": (
        {"area": "elbow_forearm", "reactions": "fainted"},
        {
            "age": 45,
            "condition": "lateral_epicondylalgia",
            "pain_regions": ["lateral_epicondyle"],
            "consent": True,
            "previous_dry_needling": {"sessions": 1, "vasovagal_reaction": True},
        },
    ),
    "a healthy adult": (
        {"area": "ankle_foot", "reactions": "fine", "duration": "long"},
        {
            "age": 40,
            "condition": "plantar_heel_pain",
            "pain_regions": ["plantar_heel"],
            "consent": True,
            "duration_weeks": 26,
            "previous_dry_needling": {"sessions": 3},
        },
    ),
}


@pytest.mark.parametrize("person", list(PEOPLE))
def test_it_agrees_with_the_assessment_screening_for_the_same_person(person):
    answers, profile = PEOPLE[person]
    expected = assess(CATALOG, profile).screening
    result = self_check(CATALOG, answers)
    assert result.decision == expected.decision, person
    # The reasons it gives are the screening's own findings for that person.
    assert set(result.item_ids) == {item.id for item in expected.items if item.effect != "technique"}


@pytest.mark.parametrize("person", list(PEOPLE))
def test_it_says_what_research_shows_and_what_to_ask_and_hands_off(person, reading_grade):
    result = self_check(CATALOG, PEOPLE[person][0])
    assert result.evidence or result.no_evidence_text
    assert len(result.ask) >= 3 and all(claim.sources for claim in result.ask)
    text = " ".join(
        [result.decision_heading, result.decision_text, result.handoff, *(c.text for c in result.claims())]
    )
    assert "you should" not in text.lower()
    assert reading_grade(text) <= 8


def test_it_reads_a_healthy_adult_as_suitable_and_a_pregnant_first_trimester_as_not():
    assert self_check(CATALOG, PEOPLE["a healthy adult"][0]).decision == "suitable"
    assert self_check(CATALOG, PEOPLE["pregnant, first trimester"][0]).decision == "do_not_needle"
    assert self_check(CATALOG, PEOPLE["severe needle fear"][0]).decision == "do_not_needle"


def test_it_builds_a_profile_the_assessment_accepts_for_every_area_and_answer():
    for area in choices(CATALOG)["area"]:
        for pregnancy in ("no", "unsure"):
            profile = profile_from_answers(Answers(area=area.value, pregnancy=pregnancy), CATALOG)
            assess(CATALOG, profile)  # raises on an invalid profile


def test_it_offers_exactly_the_choices_the_answers_accept():
    for question, options in choices(CATALOG).items():
        annotation = Answers.model_fields[question].annotation
        allowed = typing.get_args(annotation)
        if allowed:
            assert {c.value for c in options} == set(allowed), question


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"area": "moon"}, "area"),
        ({"area": "neck", "pregnancy": "maybe"}, "pregnancy"),
        ({"area": "neck", "x": 1}, "x"),
    ],
)
def test_it_names_the_field_of_a_bad_answer(answers, field):
    with pytest.raises(InputError) as caught:
        self_check(CATALOG, answers)
    assert caught.value.field == field
