"""The follow-up link's whole life on SQLite and PostgreSQL: scheduled when a visit with needling is signed,
opened by the patient without an account, answered once (201), refused afterwards and after expiry (410,
naming whom to call), red flags shown at once and raised as alerts, events as drafts the clinician confirms
or dismisses; personas: another clinic gets 404, assistants and auditors read but do not decide."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from dryneedling.db import tables as t

CALM = {
    "soreness": 4,
    "bruising": True,
    "bleeding": "none",
    "fainting": False,
    "breathless_or_chest_pain": False,
    "numbness_or_weakness": False,
    "worse_pain": False,
    "note": None,
}
ALARMING = {
    **CALM,
    "soreness": 7,
    "breathless_or_chest_pain": True,
    "note": "Hard to breathe since last night",
}


def _followups(api, world, visit_id, as_="clinician"):
    response = api.get(f"/api/visits/{visit_id}/followups", headers=world.people[as_].headers)
    assert response.status_code == 200, response.text
    return response.json()


def _token(item) -> str:
    return item["url"].rsplit("/followup/", 1)[1]


def _expire(store, followup_id: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            update(t.followups)
            .where(t.followups.c.id == uuid.UUID(followup_id))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )


def test_it_schedules_24_and_48_hour_followups_when_a_visit_with_needling_is_signed(api, world, chart):
    visit_id = chart.visit()
    assert _followups(api, world, visit_id) == []  # a draft has none
    api.post(f"/api/visits/{visit_id}/sign", headers=world.clinician.headers)
    items = _followups(api, world, visit_id)
    assert [i["hours_after"] for i in items] == [24, 48]
    assert {i["status"] for i in items} == {"pending"}
    due = [datetime.fromisoformat(i["due_at"]) for i in items]
    assert due[1] - due[0] == timedelta(hours=24)
    assert set(items[0]) >= {"id", "due_at", "url", "status"}
    token = _token(items[0])
    assert len(token) == 43 and token != _token(items[1])
    # the same link again on a second read (derived from the secret; only its hash is stored)
    assert _followups(api, world, visit_id)[0]["url"] == items[0]["url"]


def test_it_stores_only_the_hash_of_the_token(api, world, chart, store):
    visit_id = chart.signed_visit()
    token = _token(_followups(api, world, visit_id)[0])
    with store.engine.connect() as connection:
        hashes = [row.token_hash for row in connection.execute(t.followups.select())]
    assert token not in hashes and all(len(h) == 64 for h in hashes)


def test_it_schedules_nothing_for_a_visit_without_needling(api, world, chart):
    episode = chart.episode()
    chart.consent(episode)
    visit_id = chart.visit(episode, needling=[], adverse_events=[])
    api.post(f"/api/visits/{visit_id}/sign", headers=world.clinician.headers)
    assert _followups(api, world, visit_id) == []


def test_it_answers_once_then_410_naming_whom_to_call(api, world, chart):
    api.put(
        "/api/clinic/followup-settings",
        json={"hours": [24, 48], "link_days": 7, "phone": "+1 555 0100"},
        headers=world.owner.headers,
    )
    visit_id = chart.signed_visit()
    item = _followups(api, world, visit_id)[0]
    page = api.get(f"/followup/{_token(item)}")
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    assert "Hello Ann." in page.text and "Example" not in page.text  # first name only
    asked = api.get(f"/api/followup/{_token(item)}")
    assert asked.status_code == 200 and asked.json()["first_name"] == "Ann"
    assert [q["id"] for q in asked.json()["questions"]] == list(CALM)
    first = api.post(f"/api/followup/{_token(item)}", json=CALM)
    assert first.status_code == 201, first.text
    assert first.json()["red_flag"] is False and first.json()["warnings"] == []
    again = api.post(f"/api/followup/{_token(item)}", json=CALM)
    assert again.status_code == 410
    message = again.json()["error"]["message"]
    assert "Harbour Physio" in message and "+1 555 0100" in message
    assert api.get(f"/api/followup/{_token(item)}").status_code == 410
    gone_page = api.get(f"/followup/{_token(item)}")
    assert gone_page.status_code == 410 and "+1 555 0100" in gone_page.text
    assert gone_page.headers["referrer-policy"] == "no-referrer"
    assert "Ann" not in gone_page.text
    stored = _followups(api, world, visit_id)[0]
    assert stored["status"] == "answered" and stored["answers"]["soreness"] == 4


def test_it_refuses_an_expired_link_with_410(api, world, chart, store):
    visit_id = chart.signed_visit()
    item = _followups(api, world, visit_id)[1]
    _expire(store, item["id"])
    assert _followups(api, world, visit_id)[1]["status"] == "expired"
    response = api.post(f"/api/followup/{_token(item)}", json=CALM)
    assert response.status_code == 410 and "Harbour Physio" in response.json()["error"]["message"]
    assert api.get(f"/followup/{_token(item)}").status_code == 410


def test_it_answers_404_for_an_unknown_token(api):
    response = api.post("/api/followup/not-a-token", json=CALM)
    assert response.status_code == 404 and set(response.json()["error"]) >= {"field", "message"}
    assert api.get("/followup/not-a-token").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"soreness": 11}, "soreness"),
        ({"soreness": "4"}, "soreness"),
        ({"bleeding": "lots"}, "bleeding"),
        ({"fainting": "yes"}, "fainting"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_it_refuses_bad_answers_with_422_naming_the_field_and_keeps_the_link(
    api, world, chart, change, field
):
    visit_id = chart.signed_visit()
    token = _token(_followups(api, world, visit_id)[0])
    response = api.post(f"/api/followup/{token}", json={**CALM, **change})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field
    missing = {key: value for key, value in CALM.items() if key != "worse_pain"}
    response = api.post(f"/api/followup/{token}", json=missing)
    assert response.status_code == 422 and response.json()["error"]["field"] == "worse_pain"
    assert api.post(f"/api/followup/{token}", json=CALM).status_code == 201  # still usable


def test_it_shows_red_flags_at_once_and_raises_an_alert(api, world, chart, catalog):
    visit_id = chart.signed_visit()
    item = _followups(api, world, visit_id)[0]
    response = api.post(f"/api/followup/{_token(item)}", json=ALARMING)
    assert response.status_code == 201
    body = response.json()
    assert body["red_flag"] is True
    # what to do now, to someone who has the sign: no advance warning, no site of needling assumed
    assert [(w["id"], w["urgency"]) for w in body["warnings"]] == [("breathless_or_chest_pain", "emergency")]
    text = body["warnings"][0]["patient_text"]
    assert "emergency number now" in text and "near your chest" not in text and "If you get" not in text
    alerts = api.get("/api/followups/alerts", headers=world.clinician.headers).json()
    mine = [a for a in alerts if a["visit_id"] == visit_id]
    assert len(mine) == 1 and mine[0]["red_flags"] == ["pneumothorax", "cardiac"]
    # the events became drafts, reported by the patient
    events = api.get(f"/api/visits/{visit_id}/followup-events", headers=world.clinician.headers).json()
    assert sorted(e["category"] for e in events) == ["bruising", "suspected_pneumothorax"]
    assert {e["reported_by"] for e in events} == {"patient"} and {e["status"] for e in events} == {"draft"}
    # an auditor reads the alert but may not resolve it; a clinician resolves it once
    assert api.get("/api/followups/alerts", headers=world.auditor.headers).status_code == 200
    resolve = f"/api/followups/{item['id']}/resolve"
    assert api.post(resolve, headers=world.auditor.headers).status_code == 403
    assert api.post(resolve, headers=world.assistant.headers).status_code == 403
    assert api.post(resolve, headers=world.outsider.headers).status_code == 404
    done = api.post(resolve, headers=world.clinician.headers)
    assert done.status_code == 200 and done.json()["alert_open"] is False
    assert api.post(resolve, headers=world.clinician.headers).status_code == 409
    alerts = api.get("/api/followups/alerts", headers=world.clinician.headers).json()
    assert not [a for a in alerts if a["visit_id"] == visit_id]


def test_it_shows_the_patient_the_warning_signs_on_the_page(api, world, chart):
    visit_id = chart.signed_visit()
    token = _token(_followups(api, world, visit_id)[0])
    form = {
        "soreness": "3",
        "bruising": "no",
        "bleeding": "not_stopping",
        "fainting": "no",
        "breathless_or_chest_pain": "no",
        "numbness_or_weakness": "yes",
        "worse_pain": "no",
        "note": "",
    }
    response = api.post(f"/followup/{token}", data=form)
    assert response.status_code == 200
    assert 'id="red-flag"' in response.text
    assert 'data-sign="numbness_or_weakness"' in response.text and 'data-sign="bleeding"' in response.text
    assert response.headers["referrer-policy"] == "no-referrer"
    assert api.post(f"/followup/{token}", data=form).status_code == 410


def test_the_patients_page_refuses_a_nul_in_the_note_and_keeps_the_link(api, world, chart):
    # PostgreSQL text cannot hold U+0000: the phone's form reached the database and answered 500
    visit_id = chart.signed_visit()
    token = _token(_followups(api, world, visit_id)[0])
    form = {
        "soreness": "3",
        "bruising": "no",
        "bleeding": "none",
        "fainting": "no",
        "breathless_or_chest_pain": "no",
        "numbness_or_weakness": "no",
        "worse_pain": "no",
        "note": "sore\x00here",
    }
    response = api.post(f"/followup/{token}", data=form)
    assert response.status_code == 422 and "NUL" in response.text
    assert api.post(f"/followup/{token}", data={**form, "note": "sore here"}).status_code == 200


def test_it_turns_confirmed_events_into_adverse_events_reported_by_the_patient(api, world, chart):
    visit_id = chart.signed_visit()
    token = _token(_followups(api, world, visit_id)[0])
    api.post(f"/api/followup/{token}", json={**CALM, "worse_pain": True})
    events = api.get(f"/api/visits/{visit_id}/followup-events", headers=world.clinician.headers).json()
    by_category = {e["category"]: e for e in events}
    bruising, aggravation = by_category["bruising"], by_category["aggravation"]
    url = "/api/followup-events/{}/decision"
    assert (
        api.post(
            url.format(bruising["id"]), json={"decision": "confirm"}, headers=world.assistant.headers
        ).status_code
        == 403
    )
    assert (
        api.post(
            url.format(bruising["id"]), json={"decision": "confirm"}, headers=world.outsider.headers
        ).status_code
        == 404
    )
    bad = api.post(url.format(bruising["id"]), json={"decision": "maybe"}, headers=world.clinician.headers)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "decision"
    confirmed = api.post(
        url.format(bruising["id"]),
        json={"decision": "confirm", "severity": "mild"},
        headers=world.clinician.headers,
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    dismissed = api.post(
        url.format(aggravation["id"]), json={"decision": "dismiss"}, headers=world.colleague.headers
    )
    assert dismissed.json()["status"] == "dismissed"
    assert (
        api.post(
            url.format(aggravation["id"]), json={"decision": "confirm"}, headers=world.clinician.headers
        ).status_code
        == 409
    )
    visit = api.get(f"/api/visits/{visit_id}", headers=world.clinician.headers).json()
    reported = [(e["category"], e["reported_by"]) for e in visit["adverse_events"]]
    assert reported == [("bruising", "clinician"), ("bruising", "patient")]
    assert visit["adverse_events"][1]["followup_id"] is not None


def test_it_hides_a_visits_followups_from_another_clinic(api, world, chart):
    visit_id = chart.signed_visit()
    response = api.get(f"/api/visits/{visit_id}/followups", headers=world.outsider.headers)
    assert response.status_code == 404 and response.json()["error"]["message"] == "visit not found"
    for persona in ("assistant", "auditor", "owner", "colleague"):
        assert len(_followups(api, world, visit_id, as_=persona)) == 2
    assert api.get(f"/api/visits/{visit_id}/followups").status_code == 401


def test_it_uses_the_clinics_hours_and_only_an_owner_changes_them(api, world, chart):
    url = "/api/clinic/followup-settings"
    assert api.get(url, headers=world.clinician.headers).json()["hours"] == [24, 48]
    assert (
        api.put(url, json={"hours": [24], "link_days": 3}, headers=world.clinician.headers).status_code == 403
    )
    bad = api.put(url, json={"hours": [24, 500], "link_days": 3}, headers=world.owner.headers)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "hours.1"
    bad = api.put(url, json={"hours": [24], "link_days": 3, "smtp_host": "mail"}, headers=world.owner.headers)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "smtp_from"
    saved = api.put(url, json={"hours": [72, 24], "link_days": 3}, headers=world.owner.headers)
    assert saved.status_code == 200 and saved.json()["hours"] == [24, 72]
    visit_id = chart.signed_visit()
    items = _followups(api, world, visit_id)
    assert [i["hours_after"] for i in items] == [24, 72]
    first = items[0]
    lifetime = datetime.fromisoformat(first["expires_at"]) - datetime.fromisoformat(first["due_at"])
    assert lifetime == timedelta(days=3)
