"""Persona tests for every records endpoint: owner, clinician, assistant, auditor of one clinic, and a
clinician of another clinic (the outsider), on SQLite and PostgreSQL.

Roles: everyone in the clinic reads; owners, clinicians and assistants register patients; only owners and
clinicians assess, take consent, record visits and amend; only the treating clinician signs; a draft is
changed by its clinician or an owner. The outsider gets 404 for everything of the other clinic - exactly
what an id that exists nowhere gets.
"""

from __future__ import annotations

import subprocess
import uuid
from datetime import date, timedelta

import pytest
from records_helpers import PATIENT, profile, visit_body

READERS = ["owner", "clinician", "assistant", "auditor"]


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) >= {"field", "message"}
    return body["error"]


# -- 401 -------------------------------------------------------------------------------------------------
ENDPOINTS = [
    ("post", "/api/patients", PATIENT),
    ("get", "/api/patients?q=ann", None),
    ("get", "/api/patients/{id}", None),
    ("post", "/api/patients/{id}/episodes", {"profile": {}}),
    ("get", "/api/episodes/{id}", None),
    ("get", "/api/episodes/{id}/consent", None),
    (
        "post",
        "/api/episodes/{id}/consent",
        {"signed_by": "patient", "signer_name": "A", "method": "typed_name_and_tick"},
    ),
    ("post", "/api/episodes/{id}/visits", {}),
    ("get", "/api/visits/{id}", None),
    ("patch", "/api/visits/{id}", {}),
    ("post", "/api/visits/{id}/sign", None),
    ("post", "/api/visits/{id}/amendments", {"text": "x"}),
    ("get", "/api/visits/{id}/note.pdf", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer dn_00000000000000000000000000000000_nope"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
def test_it_refuses_every_endpoint_without_a_valid_token(api, method, path, body, headers):
    api.cookies.clear()  # no session either (a records page test may have signed this client in)
    response = api.request(method, path.format(id=uuid.uuid4()), json=body, headers=headers)
    error = _error(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    assert "token" in error["message"]


def test_it_refuses_a_token_whose_secret_is_wrong(api, world):
    token = world.clinician.token
    forged = token[: token.rindex("_") + 1] + "x" * 20
    _error(api.get("/api/patients", headers={"Authorization": f"Bearer {forged}"}), 401)


# -- patients --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("persona", "status"), [("owner", 201), ("clinician", 201), ("assistant", 201), ("auditor", 403)]
)
def test_it_lets_owners_clinicians_and_assistants_register_patients(api, world, persona, status):
    response = api.post("/api/patients", json=PATIENT, headers=world.people[persona].headers)
    assert response.status_code == status, response.text
    if status == 201:
        body = response.json()
        assert body["name"] == "Ann Example" and body["external_id"] == "MRN-1"
        assert body["clinic_id"] == world.clinic
        assert response.headers["cache-control"] == "no-store"
    else:
        assert "auditor" in _error(response, 403)["message"]


def test_it_refuses_a_second_patient_with_the_same_external_id(api, world, chart):
    chart.patient(external_id="MRN-SAME")
    response = api.post(
        "/api/patients", json={**PATIENT, "external_id": "MRN-SAME"}, headers=world.owner.headers
    )
    assert _error(response, 409)["field"] == "external_id"


def test_it_names_the_field_of_a_bad_patient(api, world):
    response = api.post(
        "/api/patients", json={**PATIENT, "birth_date": "3020-01-01"}, headers=world.owner.headers
    )
    assert _error(response, 422)["field"] == "birth_date"
    response = api.post(
        "/api/patients", json={"name": "A", "birth_date": "1990-01-01"}, headers=world.owner.headers
    )
    error = _error(response, 422)
    assert error["field"] == "sex" and error["message"] == "is required"


@pytest.mark.parametrize("name", ["\u200b", "\u200b\u200d", "\ufeff", "-", "..."])
def test_it_refuses_a_patient_name_with_no_letter_or_digit_to_read(api, world, name):
    # a zero-width space passes "at least 1 character" yet shows and prints as nothing
    response = api.post("/api/patients", json={**PATIENT, "name": name}, headers=world.owner.headers)
    assert _error(response, 422)["field"] == "name"


@pytest.mark.parametrize("persona", READERS)
def test_it_finds_patients_by_name_words_external_id_and_birth_date(api, world, chart, persona):
    chart.patient(name="Zoë Marchetti-Ávila", external_id="EMR-77", birth_date="1975-06-30")
    chart.patient(name="Bob Stone")
    headers = world.people[persona].headers
    for query in ("zoe", "avila", "ZOË MAR", "EMR-77", "1975-06-30"):
        names = [
            p["name"] for p in api.get("/api/patients", params={"q": query}, headers=headers).json()["items"]
        ]
        assert names == ["Zoë Marchetti-Ávila"], query
    assert len(api.get("/api/patients", headers=headers).json()["items"]) == 2


@pytest.mark.parametrize("q", ["ann%00example", "%00ann"])
def test_it_refuses_a_search_holding_a_nul_character_naming_q(api, world, chart, q):
    # PostgreSQL text cannot hold U+0000: the search's words went to the database and answered 500
    chart.patient()
    response = api.get(f"/api/patients?q={q}", headers=world.clinician.headers)
    assert _error(response, 422)["field"] == "q"


def test_it_never_shows_another_clinics_patients_in_search(api, world, chart):
    chart.patient(name="Carla Secret")
    response = api.get("/api/patients", params={"q": "carla"}, headers=world.outsider.headers)
    assert response.status_code == 200 and response.json()["items"] == []


@pytest.mark.parametrize("persona", READERS)
def test_it_shows_a_patient_with_their_episodes_to_everyone_in_the_clinic(api, world, chart, persona):
    patient_id = chart.patient()
    episode_id = chart.episode(patient_id)
    body = api.get(f"/api/patients/{patient_id}", headers=world.people[persona].headers).json()
    assert body["id"] == patient_id and [e["id"] for e in body["episodes"]] == [episode_id]


def test_it_answers_404_for_another_clinics_patient_exactly_as_for_a_missing_one(api, world, chart):
    patient_id = chart.patient()
    theirs = api.get(f"/api/patients/{patient_id}", headers=world.outsider.headers)
    nowhere = api.get(f"/api/patients/{uuid.uuid4()}", headers=world.outsider.headers)
    assert _error(theirs, 404)["message"] == _error(nowhere, 404)["message"] == "patient not found"


# -- episodes --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 201), ("clinician", 201), ("assistant", 403), ("auditor", 403), ("outsider", 404)],
)
def test_it_lets_only_owners_and_clinicians_open_an_assessed_episode(api, world, chart, persona, status):
    patient_id = chart.patient()
    response = api.post(
        f"/api/patients/{patient_id}/episodes",
        json={"profile": profile(), "goals": "Sleep through"},
        headers=world.people[persona].headers,
    )
    assert response.status_code == status, response.text
    if status == 201:
        body = response.json()
        assert body["report"]["catalog_version"] == body["catalog_version"] == api.app.state.catalog.version
        assert body["condition"] == "neck_pain" or body["condition"]
        assert body["goals"] == "Sleep through" and body["status"] == "open"
        assert [a["decision"] for a in body["assessments"]] == [body["report"]["screening"]["decision"]]


def test_it_names_the_profile_field_that_is_wrong(api, world, chart):
    patient_id = chart.patient()
    bad = {**profile(), "age": "old"}
    response = api.post(
        f"/api/patients/{patient_id}/episodes", json={"profile": bad}, headers=world.owner.headers
    )
    assert _error(response, 422)["field"].startswith("profile.age")


def test_it_screens_the_patient_at_the_age_their_birth_date_gives(api, world, chart):
    # a 9-year-old screened as the 39-year-old the profile says would miss every precaution for children
    child = chart.patient(name="Kit Young", birth_date=f"{date.today().year - 9}-01-01")
    url = f"/api/patients/{child}/episodes"
    adult = profile("plantar_heel")  # age 39
    error = _error(api.post(url, json={"profile": adult}, headers=world.clinician.headers), 422)
    assert error["field"] == "profile.age" and "birth date" in error["message"]
    without_age = {key: value for key, value in adult.items() if key != "age"}
    episode = api.post(url, json={"profile": without_age}, headers=world.clinician.headers).json()
    assert episode["report"]["profile"]["age"] == 9  # taken from the record
    assert "children" in {item["id"] for item in episode["report"]["screening"]["items"]}
    reassess = api.post(
        f"/api/episodes/{episode['id']}/assessments", json={"profile": adult}, headers=world.clinician.headers
    )
    assert _error(reassess, 422)["field"] == "profile.age"


@pytest.mark.parametrize(("persona", "status"), [*((p, 200) for p in READERS), ("outsider", 404)])
def test_it_shows_an_episode_with_its_report_consent_and_visits(api, world, chart, persona, status):
    episode_id = chart.episode()
    chart.consent(episode_id)
    visit_id = chart.visit(episode_id)
    response = api.get(f"/api/episodes/{episode_id}", headers=world.people[persona].headers)
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["consent"]["valid"] and body["consent"]["current"]["signer_name"] == "Ann Example"
        assert [v["id"] for v in body["visits"]] == [visit_id] and body["visits"][0]["cpt"] == "20561"


def test_it_keeps_every_assessment_when_an_episode_is_re_assessed(api, world, chart):
    episode_id = chart.episode()
    changed = {**profile(), "medications": ["warfarin"]}
    response = api.post(
        f"/api/episodes/{episode_id}/assessments", json={"profile": changed}, headers=world.clinician.headers
    )
    assert response.status_code == 201, response.text
    assessments = response.json()["assessments"]
    assert len(assessments) == 2 and assessments[0]["id"] != assessments[1]["id"]


def test_it_refuses_visits_to_a_closed_episode(api, world, chart):
    episode_id = chart.episode()
    chart.consent(episode_id)
    closed = api.post(f"/api/episodes/{episode_id}/close", headers=world.clinician.headers)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    response = api.post(
        f"/api/episodes/{episode_id}/visits", json=visit_body(), headers=world.clinician.headers
    )
    assert _error(response, 409)["field"] == "episode"


# -- consent ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 201), ("clinician", 201), ("assistant", 403), ("auditor", 403), ("outsider", 404)],
)
def test_it_lets_only_owners_and_clinicians_record_consent(api, world, chart, persona, status):
    episode_id = chart.episode()
    preview = api.get(f"/api/episodes/{episode_id}/consent", headers=world.clinician.headers).json()
    response = api.post(
        f"/api/episodes/{episode_id}/consent",
        json={
            "signed_by": "guardian",
            "signer_name": "Gail Example",
            "method": "typed_name_and_tick",
            "typed_name": "gail example",
            "copy_given": True,
            "text_sha256": preview["sha256"],
        },
        headers=world.people[persona].headers,
    )
    assert response.status_code == status, response.text
    if status == 201:
        body = response.json()
        assert body["text"] == preview["text"] and body["sha256"] == preview["sha256"]
        assert body["signed_by"] == "guardian" and body["copy_given"] and body["withdrawn_at"] is None


@pytest.mark.parametrize(("persona", "status"), [*((p, 200) for p in READERS), ("outsider", 404)])
def test_it_shows_the_consent_text_before_signing(api, world, chart, persona, status):
    episode_id = chart.episode(example="lymphedema_shoulder")
    response = api.get(f"/api/episodes/{episode_id}/consent", headers=world.people[persona].headers)
    assert response.status_code == status
    if status == 200:
        text = response.json()["text"]
        assert "not acupuncture" in text and "7,629" in text and "Brady S" in text and "Boyce D" in text
        assert "What applies to you" in text and "- " in text.split("What applies to you")[1]


def test_it_refuses_a_consent_whose_typed_name_or_tick_is_missing(api, world, chart):
    episode_id = chart.episode()
    url = f"/api/episodes/{episode_id}/consent"
    base = {"signed_by": "patient", "signer_name": "Ann Example", "method": "typed_name_and_tick"}
    assert (
        _error(api.post(url, json={**base, "typed_name": "Someone"}, headers=world.clinician.headers), 422)[
            "field"
        ]
        == "typed_name"
    )
    assert (
        _error(api.post(url, json={**base, "ticked": False}, headers=world.clinician.headers), 422)["field"]
        == "ticked"
    )
    assert (
        _error(
            api.post(url, json={**base, "method": "drawn_signature"}, headers=world.clinician.headers), 422
        )["field"]
        == "signature"
    )
    assert (
        _error(api.post(url, json={**base, "text_sha256": "0" * 64}, headers=world.clinician.headers), 409)[
            "field"
        ]
        == "text_sha256"
    )


def test_it_takes_a_minors_consent_from_the_guardian_the_screening_names(api, world, chart):
    # 15 years old, "a parent or guardian must agree": the patient alone may not sign
    episode_id = chart.episode(
        chart.patient(name="Teo Teen", birth_date="2011-03-03"), example="teen_guardian_consent"
    )
    url = f"/api/episodes/{episode_id}/consent"
    alone = {"signed_by": "patient", "signer_name": "Teo Teen", "method": "typed_name_and_tick"}
    error = _error(api.post(url, json=alone, headers=world.clinician.headers), 422)
    assert error["field"] == "signed_by" and "guardian" in error["message"]
    assert error["choices"] == ["guardian"]
    guardian = {**alone, "signed_by": "guardian", "signer_name": "Gina Teen"}
    assert api.post(url, json=guardian, headers=world.clinician.headers).status_code == 201


def test_a_patients_own_consent_no_longer_covers_needling_once_the_episode_says_a_guardian_consents(
    api, world, chart
):
    # first assessed as consenting for themselves; re-assessed as a minor whose guardian consents: the
    # patient's own signature, valid when given, does not cover the needling that follows
    born = (date.today() - timedelta(days=15 * 365 + 100)).isoformat()  # 15 years old
    teen = profile("teen_guardian_consent")
    opened = api.post(
        f"/api/patients/{chart.patient(name='Teo Later', birth_date=born)}/episodes",
        json={"profile": {**teen, "consent_by": "self"}},
        headers=world.clinician.headers,
    )
    assert opened.status_code == 201, opened.text
    episode_id = opened.json()["id"]
    signed = api.post(
        f"/api/episodes/{episode_id}/consent",
        json={"signed_by": "patient", "signer_name": "Teo Later", "method": "typed_name_and_tick"},
        headers=world.clinician.headers,
    )
    assert signed.status_code == 201, signed.text
    rescreened = api.post(
        f"/api/episodes/{episode_id}/assessments", json={"profile": teen}, headers=world.clinician.headers
    )
    assert rescreened.status_code == 201, rescreened.text
    calf = {
        "muscle": "gastrocnemius",
        "side": "right",
        "needles": 1,
        "length_mm": 40,
        "gauge": 0.25,
        "depth_mm": 15,
    }
    response = api.post(
        f"/api/episodes/{episode_id}/visits",
        json=visit_body(needling=[calf]),
        headers=world.clinician.headers,
    )
    error = _error(response, 409)
    assert error["field"] == "consent" and "guardian" in error["message"]


def test_it_refuses_needling_once_consent_is_withdrawn(api, world, chart):
    episode_id = chart.episode()
    chart.consent(episode_id)
    withdrawn = api.post(f"/api/episodes/{episode_id}/consent/withdraw", headers=world.clinician.headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
    response = api.post(
        f"/api/episodes/{episode_id}/visits", json=visit_body(), headers=world.clinician.headers
    )
    assert _error(response, 409)["field"] == "consent"
    # a visit without needles (advice, exercise) needs no needling consent
    plain = visit_body(needling=[], adverse_events=[])
    assert (
        api.post(
            f"/api/episodes/{episode_id}/visits", json=plain, headers=world.clinician.headers
        ).status_code
        == 201
    )


# -- visits ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 201), ("clinician", 201), ("assistant", 403), ("auditor", 403), ("outsider", 404)],
)
def test_it_lets_only_owners_and_clinicians_record_needling(api, world, chart, persona, status):
    episode_id = chart.episode()
    chart.consent(episode_id)
    response = api.post(
        f"/api/episodes/{episode_id}/visits", json=visit_body(), headers=world.people[persona].headers
    )
    assert response.status_code == status, response.text
    if status == 201:
        body = response.json()
        assert (
            body["cpt"] == "20561"
            and body["muscle_count"] == 3
            and body["needles_in"] == body["needles_out"] == 5
        )
        assert body["status"] == "draft" and body["clinician_id"] == world.people[persona].user_id
        assert body["consent_id"] and body["adverse_events"] == [
            {
                "category": "bruising",
                "severity": "mild",
                "note": None,
                "reported_by": "clinician",
                "followup_id": None,
            }
        ]


def test_it_refuses_needling_without_consent(api, world, chart):
    episode_id = chart.episode()
    response = api.post(
        f"/api/episodes/{episode_id}/visits", json=visit_body(), headers=world.clinician.headers
    )
    error = _error(response, 409)
    assert error["field"] == "consent" and "consent" in error["message"]


def test_it_codes_one_or_two_muscles_as_20560_counting_sides_once(api, world, chart):
    episode_id = chart.episode()
    chart.consent(episode_id)
    trapezius = {"muscle": "upper_trapezius", "needles": 1, "length_mm": 30, "gauge": 0.25, "depth_mm": 10}
    both_sides = [{**trapezius, "side": "left"}, {**trapezius, "side": "right"}]
    body = api.post(
        f"/api/episodes/{episode_id}/visits",
        json=visit_body(needling=both_sides),
        headers=world.clinician.headers,
    ).json()
    assert (body["cpt"], body["muscle_count"]) == ("20560", 1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"needles_out": 4}, "needles_out"),
        ({"clean_technique": False}, "clean_technique"),
        ({"sharps_disposed": False}, "sharps_disposed"),
        ({"adverse_events": [{"category": "dizzy", "severity": "mild"}]}, "adverse_events.0.category"),
        ({"adverse_events": [{"category": "bruising", "severity": "awful"}]}, "adverse_events.0.severity"),
        ({"pain_before": 11}, "pain_before"),
        ({"pain_before": "6"}, "pain_before"),
        ({"heat_after": 1}, "heat_after"),
        ({"visit_date": "2999-01-01"}, "visit_date"),
        ({"visit_date": 20240101}, "visit_date"),
    ],
)
def test_it_names_the_field_of_a_bad_visit(api, world, chart, change, field):
    episode_id = chart.episode()
    chart.consent(episode_id)
    response = api.post(
        f"/api/episodes/{episode_id}/visits", json=visit_body(**change), headers=world.clinician.headers
    )
    assert _error(response, 422)["field"] == field


@pytest.mark.parametrize("visit_date", ["1900-01-01", "0001-01-01", "1980-02-02"])
def test_it_refuses_a_visit_dated_before_the_patient_was_born(api, world, chart, visit_date):
    episode_id = chart.episode(chart.patient(birth_date="1980-02-03"))
    chart.consent(episode_id)
    url = f"/api/episodes/{episode_id}/visits"
    error = _error(
        api.post(url, json=visit_body(visit_date=visit_date), headers=world.clinician.headers), 422
    )
    assert error["field"] == "visit_date" and "born" in error["message"]
    assert "1980-02-03" not in error["message"]  # the error never tells the birth date
    # on the birth date itself (no needles: a consent signed today cannot cover needling in 1980)
    visit_id = api.post(
        url, json=visit_body(needling=[], visit_date="1980-02-03"), headers=world.clinician.headers
    ).json()["id"]
    response = api.patch(
        f"/api/visits/{visit_id}", json={"visit_date": visit_date}, headers=world.clinician.headers
    )
    assert _error(response, 422)["field"] == "visit_date"


def test_it_refuses_needling_dated_before_the_consent_was_signed(api, world, chart):
    from datetime import date, timedelta

    episode_id = chart.episode(chart.patient(birth_date="1980-02-03"))
    chart.consent(episode_id)  # signed today
    url = f"/api/episodes/{episode_id}/visits"
    last_month = (date.today() - timedelta(days=30)).isoformat()
    before_consent = _error(
        api.post(url, json=visit_body(visit_date=last_month), headers=world.clinician.headers), 422
    )
    assert (
        before_consent["field"] == "visit_date"
        and "before the dry needling consent" in before_consent["message"]
    )
    # a visit without needling needs no consent: it may be back-dated (after the birth date)
    no_needles = visit_body(needling=[], visit_date=last_month)
    assert api.post(url, json=no_needles, headers=world.clinician.headers).status_code == 201
    # yesterday is within a day of the consent (the visit's day is the clinic's, the signature time UTC)
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    assert (
        api.post(url, json=visit_body(visit_date=yesterday), headers=world.clinician.headers).status_code
        == 201
    )


def test_it_names_the_entry_of_an_unknown_muscle_technique_or_impossible_depth(api, world, chart):
    episode_id = chart.episode()
    chart.consent(episode_id)
    url = f"/api/episodes/{episode_id}/visits"
    entry = {
        "muscle": "upper_trapezius",
        "side": "right",
        "needles": 1,
        "length_mm": 30,
        "gauge": 0.25,
        "depth_mm": 10,
    }
    cases = [
        ({**entry, "muscle": "upper_trapezus"}, "needling.0.muscle"),
        ({**entry, "technique": "sparrow"}, "needling.0.technique"),
        ({**entry, "depth_mm": 40}, "needling.0.depth_mm"),
    ]
    for bad, field in cases:
        error = _error(api.post(url, json=visit_body(needling=[bad]), headers=world.clinician.headers), 422)
        assert error["field"] == field
    error = _error(
        api.post(url, json=visit_body(needling=[cases[0][0]]), headers=world.clinician.headers), 422
    )
    assert "upper_trapezius" in error["suggestions"]


def test_it_refuses_a_muscle_the_screening_blocks_unless_overridden_with_a_reason(api, world, chart):
    episode_id = chart.episode(example="lymphedema_shoulder")
    chart.consent(episode_id)
    url = f"/api/episodes/{episode_id}/visits"
    restrictions = api.get(f"/api/episodes/{episode_id}", headers=world.clinician.headers).json()[
        "restrictions"
    ]
    assert restrictions["deltoid"] == {
        "blocked_by": "lymphedema_area",
        "reason": restrictions["deltoid"]["reason"],
        "side": "right",
    }
    deltoid = {
        "muscle": "deltoid",
        "side": "right",
        "needles": 1,
        "length_mm": 30,
        "gauge": 0.25,
        "depth_mm": 10,
    }
    error = _error(api.post(url, json=visit_body(needling=[deltoid]), headers=world.clinician.headers), 422)
    assert error["field"] == "needling.0.muscle" and "lymphedema_area" in error["message"]
    short = visit_body(needling=[deltoid], override={"reason": "ok"})
    assert (
        _error(api.post(url, json=short, headers=world.clinician.headers), 422)["field"] == "override.reason"
    )
    reason = "Lymphoedema team agreed; far from the affected quadrant"
    body = api.post(
        url, json=visit_body(needling=[deltoid], override={"reason": reason}), headers=world.clinician.headers
    ).json()
    assert (
        body["needling"][0]["blocked_by"] == "lymphedema_area"
        and body["needling"][0]["override_reason"] == reason
    )
    # the finding is on the right: the left deltoid is not blocked
    left = visit_body(needling=[{**deltoid, "side": "left"}])
    assert (
        api.post(url, json=left, headers=world.clinician.headers).json()["needling"][0]["blocked_by"] is None
    )


@pytest.mark.parametrize(
    ("example", "muscle", "side", "item"),
    [
        # right-arm lymphoedema: the biceps is no candidate for shoulder pain, but lies in that arm
        ("lymphedema_shoulder", "biceps_brachii", "right", "lymphedema_area"),
        ("lymphedema_shoulder", "extensor_carpi_radialis", "bilateral", "lymphedema_area"),
        # warfarin: deep targets near the spinal canal are left out wherever they are, not only in the neck
        ("anticoagulated_headache", "lumbar_paraspinals", "left", "bleeding_disorder_anticoagulants"),
    ],
)
def test_it_refuses_a_blocked_muscle_that_is_no_candidate_for_the_pain(
    api, world, chart, example, muscle, side, item
):
    episode_id = chart.episode(example=example)
    chart.consent(episode_id)
    episode = api.get(f"/api/episodes/{episode_id}", headers=world.clinician.headers).json()
    assert muscle not in {m["muscle"] for m in episode["report"]["excluded_muscles"]}
    assert episode["restrictions"][muscle]["blocked_by"] == item  # the form marks it too
    entry = {"muscle": muscle, "side": side, "needles": 1, "length_mm": 30, "gauge": 0.25, "depth_mm": 10}
    url = f"/api/episodes/{episode_id}/visits"
    error = _error(api.post(url, json=visit_body(needling=[entry]), headers=world.clinician.headers), 422)
    assert error["field"] == "needling.0.muscle" and item in error["message"]
    reason = "Discussed with the patient's physician; superficial only"
    body = visit_body(needling=[entry], override={"reason": reason})
    needled = api.post(url, json=body, headers=world.clinician.headers).json()["needling"][0]
    assert needled["blocked_by"] == item and needled["override_reason"] == reason


def test_it_blocks_a_one_sided_region_only_on_that_side_for_any_muscle(api, world, chart):
    episode_id = chart.episode(example="lymphedema_shoulder")
    chart.consent(episode_id)
    left = {
        "muscle": "biceps_brachii",
        "side": "left",
        "needles": 1,
        "length_mm": 30,
        "gauge": 0.25,
        "depth_mm": 10,
    }
    response = api.post(
        f"/api/episodes/{episode_id}/visits",
        json=visit_body(needling=[left]),
        headers=world.clinician.headers,
    )
    assert response.status_code == 201 and response.json()["needling"][0]["blocked_by"] is None


def test_it_refuses_every_muscle_when_screening_says_do_not_needle(api, world, chart):
    episode_id = chart.episode(example="do_not_needle")
    chart.consent(episode_id)
    body = visit_body(
        needling=[
            {
                "muscle": "gluteus_medius",
                "side": "left",
                "needles": 1,
                "length_mm": 50,
                "gauge": 0.3,
                "depth_mm": 30,
            }
        ]
    )
    error = _error(
        api.post(f"/api/episodes/{episode_id}/visits", json=body, headers=world.clinician.headers), 422
    )
    assert "needle_phobia" in error["message"]


@pytest.mark.parametrize(("persona", "status"), [*((p, 200) for p in READERS), ("outsider", 404)])
def test_it_shows_a_visit_to_everyone_in_the_clinic(api, world, chart, persona, status):
    visit_id = chart.visit()
    response = api.get(f"/api/visits/{visit_id}", headers=world.people[persona].headers)
    assert response.status_code == status
    if status == 200:
        assert response.json()["cpt_label"].endswith("3 or more muscles")


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("clinician", 200),
        ("owner", 200),
        ("colleague", 403),
        ("assistant", 403),
        ("auditor", 403),
        ("outsider", 404),
    ],
)
def test_it_lets_the_treating_clinician_or_an_owner_change_a_draft(api, world, chart, persona, status):
    visit_id = chart.visit()
    response = api.patch(
        f"/api/visits/{visit_id}",
        json={"pain_after": 2, "plan": "Add eccentric loading"},
        headers=world.people[persona].headers,
    )
    assert response.status_code == status, response.text
    if status == 200:
        body = response.json()
        assert body["pain_after"] == 2 and body["plan"] == "Add eccentric loading" and body["cpt"] == "20561"
        assert body["pain_before"] == 6 and len(body["needling"]) == 3


def test_it_recomputes_the_code_when_a_draft_loses_muscles(api, world, chart):
    visit_id = chart.visit()
    one = [
        {"muscle": "temporalis", "side": "right", "needles": 1, "length_mm": 15, "gauge": 0.2, "depth_mm": 8}
    ]
    body = api.patch(
        f"/api/visits/{visit_id}", json={"needling": one, "needles_out": 1}, headers=world.clinician.headers
    ).json()
    assert (body["cpt"], body["muscle_count"], body["needles_in"]) == ("20560", 1, 1)
    error = _error(
        api.patch(f"/api/visits/{visit_id}", json={"needles_out": 3}, headers=world.clinician.headers), 422
    )
    assert error["field"] == "needles_out"


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("clinician", 200),
        ("owner", 403),
        ("colleague", 403),
        ("assistant", 403),
        ("auditor", 403),
        ("outsider", 404),
    ],
)
def test_it_lets_only_the_treating_clinician_sign(api, world, chart, persona, status):
    visit_id = chart.visit()
    response = api.post(f"/api/visits/{visit_id}/sign", headers=world.people[persona].headers)
    assert response.status_code == status, response.text
    if status == 200:
        body = response.json()
        assert (
            body["status"] == "signed" and body["signed_by"] == world.clinician.user_id and body["signed_at"]
        )


def test_it_keeps_a_signed_note_read_only(api, world, chart):
    visit_id = chart.signed_visit()
    for persona in ("clinician", "owner"):
        response = api.patch(
            f"/api/visits/{visit_id}", json={"plan": "changed"}, headers=world.people[persona].headers
        )
        assert _error(response, 409)["field"] == "visit"
    assert (
        _error(api.post(f"/api/visits/{visit_id}/sign", headers=world.clinician.headers), 409)["field"]
        == "visit"
    )
    assert (
        api.get(f"/api/visits/{visit_id}", headers=world.clinician.headers)
        .json()["plan"]
        .startswith("Review")
    )


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("owner", 201),
        ("clinician", 201),
        ("colleague", 201),
        ("assistant", 403),
        ("auditor", 403),
        ("outsider", 404),
    ],
)
def test_it_lets_owners_and_clinicians_amend_a_signed_note(api, world, chart, persona, status):
    visit_id = chart.signed_visit()
    text = "Twitch responses in upper trapezius were 4, not 3."
    response = api.post(
        f"/api/visits/{visit_id}/amendments", json={"text": text}, headers=world.people[persona].headers
    )
    assert response.status_code == status, response.text
    if status == 201:
        assert response.json()["author_id"] == world.people[persona].user_id
        visit = api.get(f"/api/visits/{visit_id}", headers=world.owner.headers).json()
        assert [a["text"] for a in visit["amendments"]] == [text]
        assert visit["needling"][0]["twitch_responses"] == 3  # the original stays as signed


def test_it_refuses_to_amend_a_draft(api, world, chart):
    visit_id = chart.visit()
    response = api.post(
        f"/api/visits/{visit_id}/amendments", json={"text": "x"}, headers=world.clinician.headers
    )
    assert _error(response, 409)["field"] == "visit"


@pytest.mark.parametrize(("persona", "status"), [*((p, 200) for p in READERS), ("outsider", 404)])
def test_it_prints_the_note_as_pdf_for_everyone_in_the_clinic(api, world, chart, persona, status):
    visit_id = chart.signed_visit()
    api.post(
        f"/api/visits/{visit_id}/amendments",
        json={"text": "Added: heat pack 10 min"},
        headers=world.clinician.headers,
    )
    response = api.get(f"/api/visits/{visit_id}/note.pdf", headers=world.people[persona].headers)
    assert response.status_code == status
    if status == 200:
        assert response.headers["content-type"] == "application/pdf" and response.content.startswith(b"%PDF")
        assert response.headers["cache-control"] == "no-store"


def test_the_printed_note_shows_the_screenings_restriction_beside_a_restricted_muscle(
    api, world, chart, tmp_path
):
    visit_id = chart.signed_visit()  # neck pain on warfarin: the upper trapezius lies over the lung
    episode_id = api.get(f"/api/visits/{visit_id}", headers=world.clinician.headers).json()["episode_id"]
    restrictions = api.get(f"/api/episodes/{episode_id}", headers=world.clinician.headers).json()[
        "muscle_restrictions"
    ]
    assert restrictions["upper_trapezius"]
    pdf = tmp_path / "note.pdf"
    pdf.write_bytes(api.get(f"/api/visits/{visit_id}/note.pdf", headers=world.clinician.headers).content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    # the table's cells interleave in the extracted text: look for the restriction's label and a phrase of it
    assert (
        "restriction at screening: Before any" in flat
        and "go through the rules for the chest wall over the lung" in flat
    )


def test_the_printed_note_names_the_overridden_screening_item_in_words(api, world, chart, tmp_path):
    episode_id = chart.episode(example="lymphedema_shoulder")  # lymphoedema of the right arm
    chart.consent(episode_id)
    biceps = {
        "muscle": "biceps_brachii",
        "side": "right",
        "needles": 1,
        "length_mm": 30,
        "gauge": 0.25,
        "depth_mm": 10,
        "override_reason": "Agreed with the lymphoedema team after review",
    }
    visit_id = chart.visit(episode_id, needling=[biceps])
    assert api.post(f"/api/visits/{visit_id}/sign", headers=world.clinician.headers).status_code == 200
    pdf = tmp_path / "note.pdf"
    pdf.write_bytes(api.get(f"/api/visits/{visit_id}/note.pdf", headers=world.clinician.headers).content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    # the table's cells interleave in the extracted text: the label's start, and never the item's id
    assert "override of Over an area" in flat and "lymphedema_area" not in flat


def _gluteus_needled_before_pregnancy(api, world, chart, name: str) -> tuple[str, str, dict]:
    """Low back pain while not pregnant, consented, a draft visit needling the left gluteus medius:
    (episode id, visit id, the needling entry)."""
    not_pregnant = {**profile("pregnant_low_back"), "pregnancy": {"pregnant": False}}
    patient_id = chart.patient(name=name, birth_date="1995-05-05")
    episode_id = api.post(
        f"/api/patients/{patient_id}/episodes",
        json={"profile": not_pregnant},
        headers=world.clinician.headers,
    ).json()["id"]
    chart.consent(episode_id)
    entry = {
        "muscle": "gluteus_medius",
        "side": "left",
        "needles": 1,
        "length_mm": 50,
        "gauge": 0.3,
        "depth_mm": 30,
    }
    return episode_id, chart.visit(episode_id, needling=[entry]), entry


def _rescreen_as_pregnant(api, world, episode_id: str):
    """The episode re-screened now that the patient is pregnant (do not needle)."""
    return api.post(
        f"/api/episodes/{episode_id}/assessments",
        json={"profile": profile("pregnant_low_back")},
        headers=world.clinician.headers,
    )


def test_a_later_re_screening_does_not_rewrite_what_a_signed_note_says(api, world, chart, tmp_path):
    # low back pain, not pregnant: the gluteus medius is needled and the note signed; weeks later the
    # patient is pregnant and the episode is re-screened (do not needle). Reprinting the old note must still
    # tell the screening it was needled under, not claim the muscle was kept free of needles then.
    episode_id, visit_id, _entry = _gluteus_needled_before_pregnancy(api, world, chart, "Pia Later")
    assert api.post(f"/api/visits/{visit_id}/sign", headers=world.clinician.headers).status_code == 200
    pregnant = _rescreen_as_pregnant(api, world, episode_id)
    assert pregnant.json()["restrictions"]["gluteus_medius"]["blocked_by"] == "pregnancy"
    pdf = tmp_path / "note.pdf"
    pdf.write_bytes(api.get(f"/api/visits/{visit_id}/note.pdf", headers=world.clinician.headers).content)
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "do not needle" not in text and "kept free of needles: Gluteus medius" not in text


def test_it_refuses_bad_ids_in_the_path_with_422(api, world):
    response = api.get("/api/visits/not-a-uuid", headers=world.clinician.headers)
    assert _error(response, 422)["field"] == "visit_id"


def test_a_draft_written_before_a_re_screening_that_blocks_its_needling_cannot_be_signed_as_it_is(
    api, world, chart
):
    # The draft needles the gluteus medius while not pregnant; before it is signed the episode is re-screened
    # (pregnant: do not needle). Signed as it is, the note would print the new screening beside a blocked
    # muscle needled with no reason given: signing is refused until the draft carries an override.
    episode_id, visit_id, entry = _gluteus_needled_before_pregnancy(api, world, chart, "Pia Draft")
    rescreened = _rescreen_as_pregnant(api, world, episode_id)
    assert rescreened.status_code == 201, rescreened.text
    refused = api.post(f"/api/visits/{visit_id}/sign", headers=world.clinician.headers)
    error = _error(refused, 409)
    assert error["field"] == "needling.0.muscle" and "screened again" in error["message"]
    assert api.get(f"/api/visits/{visit_id}", headers=world.clinician.headers).json()["status"] == "draft"
    with_reason = {**entry, "override_reason": "Needled on the day before the pregnancy was known"}
    patched = api.patch(
        f"/api/visits/{visit_id}", json={"needling": [with_reason]}, headers=world.clinician.headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["needling"][0]["blocked_by"] == "pregnancy"
    assert api.post(f"/api/visits/{visit_id}/sign", headers=world.clinician.headers).status_code == 200
