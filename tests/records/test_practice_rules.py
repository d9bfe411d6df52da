"""The practice rules come from the cited knowledge base: CPT by distinct muscles, the Brady 2014 / Boyce
2020 adverse-event categories, and a consent text that is plain, cited and personal."""

from __future__ import annotations

import hashlib
import shutil

import pytest
from records_helpers import profile

from dryneedling.catalog import load_catalog
from dryneedling.errors import DataError
from dryneedling.records.consent import consent_text
from dryneedling.records.rules import cpt_code
from dryneedling.services.assess import assess
from dryneedling.services.records import blocked_muscles


@pytest.mark.parametrize(
    ("muscles", "expected"),
    [
        ([], (None, 0)),
        (["upper_trapezius"], ("20560", 1)),
        (["upper_trapezius", "upper_trapezius"], ("20560", 1)),
        (["upper_trapezius", "temporalis"], ("20560", 2)),
        (["upper_trapezius", "temporalis", "suboccipitals"], ("20561", 3)),
        (["a", "b", "c", "d", "e", "f"], ("20561", 6)),
    ],
)
def test_it_codes_a_visit_by_its_distinct_muscles(catalog, muscles, expected):
    assert cpt_code(catalog.practice, muscles) == expected


def test_it_cites_the_billing_notes_for_the_code_rule(catalog):
    rule = catalog.practice.cpt
    assert {"apta_2020_magazine", "myzhealth_20560"} <= set(rule.sources)
    assert all(source in catalog.kb.sources for source in catalog.practice.cited())


def test_it_uses_the_brady_and_boyce_categories_and_severities(catalog):
    rules = catalog.practice
    assert rules.adverse_event_ids == [
        "bruising",
        "bleeding",
        "pain_during",
        "pain_after",
        "aggravation",
        "drowsiness",
        "headache",
        "nausea",
        "fainting",
        "numbness",
        "suspected_pneumothorax",
        "other",
    ]
    assert rules.severity_ids == ["mild", "significant", "major"]
    rates = {c.id: c.rates for c in rules.adverse_events}
    assert rates["bruising"] == {"brady_2014": 7.55, "boyce_2020": 7.7}
    assert rates["suspected_pneumothorax"] == {}  # case reports only: no rate is invented


def test_it_refuses_rules_that_cite_an_unknown_source(tmp_path):
    from dryneedling.knowledge.load import DATA_DIR

    shutil.copytree(DATA_DIR, tmp_path / "data")
    path = tmp_path / "data" / "records" / "practice.yaml"
    path.write_text(path.read_text().replace("[brady_2014, boyce_2020]", "[brady_2041, boyce_2020]", 1))
    with pytest.raises(DataError) as error:
        load_catalog(tmp_path / "data")
    assert "unknown source id 'brady_2041'" in str(error.value)


def _text(catalog, example):
    report = assess(catalog, profile(example)).model_dump(mode="json")
    citations = catalog.kb.citations(catalog.practice.cited())
    return consent_text(catalog.practice, citations, report)


def test_it_builds_a_consent_with_the_published_rates_and_their_sources(catalog):
    consent = _text(catalog, "neck_pain_headache")
    assert consent.sha256 == hashlib.sha256(consent.text.encode()).hexdigest()
    assert consent.version == catalog.practice.consent.version
    for fact in ("not acupuncture", "19 to 37 of every 100", "7,629", "1 in 1,000", "collapsed lung"):
        assert fact in consent.text
    assert "Brady S" in consent.text and "Boyce D" in consent.text and "Mintken PE" in consent.text
    assert _text(catalog, "neck_pain_headache") == consent  # same input, same text and hash


def test_it_lists_the_patients_own_restrictions_in_the_consent(catalog):
    lymphedema = _text(catalog, "lymphedema_shoulder").text
    plantar = _text(catalog, "plantar_heel").text
    personal = lymphedema.split("What applies to you")[1].split("Your choice")[0]
    assert personal.count("\n- ") >= 2
    assert "nothing that limits" in plantar


def test_it_words_the_consent_for_patients_at_grade_eight_or_below(catalog, reading_grade):
    for section in catalog.practice.consent.sections:
        text = section.text.format(**section.values)
        assert reading_grade(text) <= 8, (section.id, reading_grade(text))


def test_it_blocks_the_excluded_muscles_only_on_the_side_of_a_one_sided_finding(catalog):
    blocked = blocked_muscles(assess(catalog, profile("lymphedema_shoulder")).model_dump(mode="json"))
    assert blocked["deltoid"][0] == "lymphedema_area" and blocked["deltoid"][2] == "right"
    everything = blocked_muscles(assess(catalog, profile("do_not_needle")).model_dump(mode="json"))
    assert everything["*"][0] == "needle_phobia"
    assert blocked_muscles(None) == {}


def test_it_blocks_muscles_outside_the_candidates_from_the_stored_screening(catalog):
    report = assess(catalog, profile("lymphedema_shoulder")).model_dump(mode="json")
    assert "biceps_brachii" not in blocked_muscles(report)  # the Report excludes candidates only
    blocked = blocked_muscles(report, catalog)
    assert blocked["biceps_brachii"][0] == "lymphedema_area" and blocked["biceps_brachii"][2] == "right"
    assert blocked["deltoid"] == blocked_muscles(report)["deltoid"]  # the Report's own words kept
    assert "gastrocnemius" not in blocked  # the leg is not in the lymphoedema region
    warfarin = assess(catalog, profile("anticoagulated_headache")).model_dump(mode="json")
    assert blocked_muscles(warfarin, catalog, ["lumbar_paraspinals", "gastrocnemius"]) == {
        **blocked_muscles(warfarin),
        "lumbar_paraspinals": blocked_muscles(warfarin, catalog)["lumbar_paraspinals"],
    }
    assert "Deep target near the spinal canal" in blocked_muscles(warfarin, catalog)["lumbar_paraspinals"][1]


def test_it_reads_per_muscle_restrictions_from_a_stored_report():
    from dryneedling.records.consent import muscle_restrictions

    report = {
        "candidate_muscles": [
            {
                "muscle": "upper_trapezius",
                "restrictions": [{"text": "Needle superficial fibres only"}, "No deep pincer"],
            },
            {"muscle": "temporalis", "restrictions": []},
            {"muscle": "suboccipitals"},
        ]
    }
    assert muscle_restrictions(report) == {
        "upper_trapezius": ["Needle superficial fibres only", "No deep pincer"]
    }
    assert muscle_restrictions(None) == {}
