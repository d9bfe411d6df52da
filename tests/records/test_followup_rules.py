"""The follow-up rules (records/followup.yaml) and their pure functions: red flags point at the knowledge
base's warning signs, events at the Brady/Boyce categories, the schedule follows the clinic's hours, the
patient's wording reads at grade 8 or below, and bad data is refused naming the entry."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from dryneedling.errors import DataError
from dryneedling.records.followup import (
    FollowUpAnswers,
    event_drafts,
    first_name,
    link_key,
    link_token,
    load_followup_rules,
    red_flags,
    schedule,
    token_hash,
)
from dryneedling.services.followups import followup_rules

NOTHING = FollowUpAnswers(
    soreness=5,
    bruising=False,
    bleeding="none",
    fainting=False,
    breathless_or_chest_pain=False,
    numbness_or_weakness=False,
    worse_pain=False,
)


def test_it_raises_no_flag_and_no_event_for_soreness_alone(catalog):
    rules = followup_rules(catalog)
    sore = NOTHING.model_copy(update={"soreness": 10})
    assert red_flags(rules, sore) == [] and event_drafts(rules, sore) == []


@pytest.mark.parametrize(
    ("change", "flags", "events"),
    [
        (
            {"breathless_or_chest_pain": True},
            ["pneumothorax", "cardiac"],
            [("suspected_pneumothorax", "significant")],
        ),
        ({"numbness_or_weakness": True}, ["spinal_haematoma"], [("numbness", "significant")]),
        ({"bleeding": "not_stopping"}, ["bleeding"], [("bleeding", "significant")]),
        ({"bleeding": "stopped"}, [], [("bleeding", "mild")]),
        ({"fainting": True}, ["fainting"], [("fainting", "mild")]),
        ({"bruising": True}, [], [("bruising", "mild")]),
        ({"worse_pain": True}, [], [("aggravation", "mild")]),
    ],
)
def test_it_maps_each_answer_to_its_warning_signs_and_event_drafts(catalog, change, flags, events):
    rules = followup_rules(catalog)
    answers = NOTHING.model_copy(update=change)
    assert red_flags(rules, answers) == flags
    assert [(rule.category, rule.severity) for rule in event_drafts(rules, answers)] == events


def test_it_names_each_warning_sign_once(catalog):
    rules = followup_rules(catalog)
    everything = NOTHING.model_copy(
        update={
            "breathless_or_chest_pain": True,
            "numbness_or_weakness": True,
            "fainting": True,
            "bleeding": "not_stopping",
        }
    )
    flags = red_flags(rules, everything)
    assert len(flags) == len(set(flags)) == 5


def test_it_only_points_at_warning_signs_that_tell_the_patient_to_act_now(catalog):
    signs = {s.id: s for s in catalog.guidance.aftercare.warning_signs}
    rules = followup_rules(catalog)
    for rule in rules.red_flags:
        for sign in rule.warning_signs:
            assert signs[sign].patient_text and signs[sign].urgency in ("emergency", "urgent", "call")


def test_it_schedules_at_the_clinics_hours_with_links_open_for_the_set_days():
    signed = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert schedule(signed, [48, 24, 24], 7) == [
        (24, signed + timedelta(hours=24), signed + timedelta(hours=24, days=7)),
        (48, signed + timedelta(hours=48), signed + timedelta(hours=48, days=7)),
    ]


def test_it_derives_a_32_byte_token_per_followup_and_stores_only_a_hash():
    key = link_key("x" * 48)
    one, two = uuid.uuid4(), uuid.uuid4()
    token = link_token(key, one)
    assert len(token) == 43 and "=" not in token and "/" not in token and "+" not in token
    assert token == link_token(key, one) != link_token(key, two)
    assert link_token(link_key("y" * 48), one) != token  # another server secret, another token
    assert len(token_hash(token)) == 64 and token not in token_hash(token)


def test_it_says_no_more_of_the_patient_than_a_first_name():
    assert first_name("  Ann  Marie Example ") == "Ann" and first_name("") == ""


def test_it_keeps_every_patient_text_at_grade_8_or_below(catalog, reading_grade):
    rules = followup_rules(catalog)
    signs = {s.id: s for s in catalog.guidance.aftercare.warning_signs}
    texts = rules.patient_texts() + [signs[s].patient_text for r in rules.red_flags for s in r.warning_signs]
    for text in texts:
        plain = text.replace("{", "").replace("}", "")
        assert reading_grade(plain) <= 8, (round(reading_grade(plain), 1), text)


def test_it_refuses_data_that_points_at_nothing(catalog, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(catalog.data_dir, data)
    path = data / "records" / "followup.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["red_flags"][0]["warning_signs"] = ["no_such_sign"]
    raw["events"][0]["category"] = "no_such_category"
    raw["events"][1]["answer"] = "gushing"
    raw["schedule"]["sources"] = ["no_such_source"]
    path.write_text(yaml.safe_dump(raw))
    signs = [s.id for s in catalog.guidance.aftercare.warning_signs]
    with pytest.raises(DataError) as caught:
        load_followup_rules(data, catalog.kb.sources, signs, catalog.practice.adverse_event_ids)
    text = str(caught.value)
    for needle in ("no_such_sign", "no_such_category", "gushing", "no_such_source"):
        assert needle in text


def test_it_keeps_the_token_and_the_patients_address_out_of_the_access_log():
    import logging

    from dryneedling.web.logs import DropQueryStrings

    for path in ("/followup/abcDEF123_-xyz", "/api/followup/abcDEF123_-xyz?x=1"):
        record = logging.LogRecord(
            "uvicorn.access",
            logging.INFO,
            "",
            0,
            '%s - "%s %s HTTP/%s" %d',
            ("10.0.0.7:5000", "GET", path, "1.1", 200),
            None,
        )
        DropQueryStrings().filter(record)
        line = record.getMessage()
        assert "abcDEF123" not in line and "10.0.0.7" not in line and "<token>" in line


def test_every_red_flag_tells_the_patient_what_to_do_now_at_grade_8(catalog, reading_grade):
    from dryneedling.services.followups import followup_rules

    for rule in followup_rules(catalog).red_flags:
        assert rule.patient_text.startswith("You said"), rule.question
        assert reading_grade(rule.patient_text) <= 8, (rule.question, reading_grade(rule.patient_text))
