"""Outcome measures and the clinic dashboard through the API, per persona, on SQLite and PostgreSQL:
recording scores (total or items), progress against baseline and MCID, the dashboard per role, CSV, and the
clinic boundary (another clinic's episode is 404)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date

import pytest
from records_helpers import visit_body

from dryneedling.services import accounts


def record(chart, episode_id, as_="clinician", **body):
    return chart.api.post(
        f"/api/episodes/{episode_id}/outcomes", json=body, headers=chart.world.people[as_].headers
    )


def test_it_records_scores_and_shows_progress_against_the_mcid(chart):
    episode = chart.episode()  # neck_pain_stiff_neck: NPRS MCID 1.5 (Kovacs 2008)
    assert record(chart, episode, measure="nprs", score=7, date="2026-01-05").status_code == 201
    assert record(chart, episode, measure="nprs", score=4, date="2026-02-05").status_code == 201
    stored = record(chart, episode, measure="lefs", items=[2] * 20, date="2026-01-05")
    assert stored.status_code == 201 and stored.json()["score"] == 40 and stored.json()["items"] == [2.0] * 20
    record(chart, episode, measure="lefs", score=45, date="2026-02-05")
    response = chart.api.get(f"/api/episodes/{episode}/progress", headers=chart.world.auditor.headers)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    measures = {m["measure"]: m for m in response.json()["measures"]}
    nprs = measures["nprs"]
    assert (nprs["baseline"], nprs["latest"], nprs["change"], nprs["reached"]) == (7, 4, -3, True)
    assert nprs["mcid"] == {
        "value": 1.5,
        "population": nprs["mcid"]["population"],
        "source": "kovacs_2008",
        "specific_to_condition": True,
    }
    assert "reached the minimal important change of 1.5" in nprs["sentence"]
    lefs = measures["lefs"]
    assert (lefs["change"], lefs["reached"], lefs["mcid"]["value"]) == (5, False, 9)
    assert "did not reach" in lefs["sentence"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"measure": "nrps", "score": 3}, "measure"),
        ({"measure": "nprs", "score": 11}, "score"),
        ({"measure": "nprs"}, "score"),
        ({"measure": "ndi", "items": [1] * 10}, "items"),
        ({"measure": "tsk", "score": 30}, "variant"),
        ({"measure": "ffi", "score": 30}, "measure"),
        ({"measure": "nprs", "score": 3, "date": "2999-01-01"}, "date"),
        # the patient was born on 1 January, 47 years ago (records_helpers.born_at): a score before that would
        # be the baseline
        ({"measure": "nprs", "score": 3, "date": "1900-01-01"}, "date"),
        ({"measure": "nprs", "score": 3, "date": f"{date.today().year - 48}-12-31"}, "date"),
        ({"measure": "nprs", "score": "3"}, "score"),
        ({"measure": "nprs", "score": 3, "colour": "red"}, "colour"),
    ],
)
def test_it_refuses_bad_scores_naming_the_field(chart, body, field):
    episode = chart.episode()
    response = record(chart, episode, **body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


def test_it_names_the_valid_measures_for_an_unknown_one(chart):
    error = record(chart, chart.episode(), measure="nrps", score=3).json()["error"]
    assert "nprs" in error["suggestions"] and "lefs" in error["choices"] and "ffi" not in error["choices"]


def test_it_lets_only_treating_roles_record_scores(chart):
    episode = chart.episode()
    for persona in ("assistant", "auditor"):
        assert record(chart, episode, as_=persona, measure="nprs", score=3).status_code == 403
    assert record(chart, episode, as_="owner", measure="nprs", score=3).status_code == 201
    assert record(chart, episode, as_="colleague", measure="nprs", score=2).status_code == 201


def test_it_keeps_another_clinics_episode_out_of_reach(chart):
    episode = chart.episode()
    record(chart, episode, measure="nprs", score=6)
    outsider = chart.world.outsider.headers
    response = chart.api.post(
        f"/api/episodes/{episode}/outcomes", json={"measure": "nprs", "score": 1}, headers=outsider
    )
    assert response.status_code == 404 and response.json()["error"]["message"] == "episode not found"
    response = chart.api.get(f"/api/episodes/{episode}/progress", headers=outsider)
    assert response.status_code == 404 and "nprs" not in response.text
    missing = chart.api.get(f"/api/episodes/{uuid.uuid4()}/progress", headers=chart.world.owner.headers)
    assert missing.status_code == 404
    assert chart.api.get(f"/api/episodes/{episode}/progress").status_code == 401


def _clinic_with_treatments(chart):
    """Clinician: 2 treatments (one with a mild event), colleague: 1 with a significant event."""
    episode = chart.episode()
    chart.consent(episode)
    chart.visit(episode)  # visit_body has one mild bruising event
    chart.visit(episode, adverse_events=[])
    other = chart.episode(as_="colleague")
    chart.consent(other, as_="colleague")
    chart.visit(other, as_="colleague", adverse_events=[{"category": "fainting", "severity": "significant"}])
    record(chart, episode, measure="nprs", score=7, date="2026-01-05")
    record(chart, episode, measure="nprs", score=4, date="2026-02-05")
    record(chart, other, as_="colleague", measure="nprs", score=6, date="2026-01-05")
    record(chart, other, as_="colleague", measure="nprs", score=6, date="2026-02-05")
    return episode, other


def dashboard(chart, persona):
    return chart.api.get("/api/clinic/dashboard", headers=chart.world.people[persona].headers)


@pytest.mark.parametrize("persona", ["owner", "auditor"])
def test_it_shows_owner_and_auditor_the_whole_clinic(chart, persona):
    _clinic_with_treatments(chart)
    response = dashboard(chart, persona)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    found = response.json()
    ae = found["adverse_events"]
    assert found["scope"] == "clinic" and ae["treatments"] == 3
    assert (ae["clinician_reported"]["mild"]["events"], ae["clinician_reported"]["serious"]["events"]) == (
        1,
        1,
    )
    assert ae["clinician_reported"]["mild"]["ci_high"] > 1 / 3 > ae["clinician_reported"]["mild"]["ci_low"]
    assert (
        ae["patient_note"] == "No patient answers yet."
        and found["soreness"]["note"] == "No patient answers yet."
    )
    assert {p["study"] for p in ae["published"]} == {"Brady 2014 (Ireland)", "Boyce 2020 (USA)"}
    nprs = next(o for o in found["outcomes"] if o["measure"] == "nprs")
    assert (nprs["episodes"], nprs["reached"]) == (2, 1) and nprs["mcid"]["source"] == "kovacs_2008"
    assert nprs["evidence_strength"] in ("Moderate", "Emerging", "Limited")
    mild = next(f for f in found["funnels"] if f["reported_by"] == "clinician" and f["severity"] == "mild")
    assert {p["name"] for p in mild["points"]} == {"Clinician", "Colleague"}
    assert "brady_2014" in found["sources"]


def test_it_shows_a_clinician_only_their_own_patients(chart):
    _clinic_with_treatments(chart)
    found = dashboard(chart, "colleague").json()
    assert found["scope"] == "own" and found["adverse_events"]["treatments"] == 1
    assert found["adverse_events"]["clinician_reported"]["serious"]["events"] == 1
    assert found["adverse_events"]["clinician_reported"]["mild"]["events"] == 0
    nprs = next(o for o in found["outcomes"] if o["measure"] == "nprs")
    assert (nprs["episodes"], nprs["reached"]) == (1, 0)
    mild = next(f for f in found["funnels"] if f["reported_by"] == "clinician" and f["severity"] == "mild")
    assert [p["name"] for p in mild["points"]] == ["Colleague"] and mild["clinic_total"] == 3


def test_it_refuses_the_dashboard_to_an_assistant(chart):
    response = dashboard(chart, "assistant")
    assert response.status_code == 403 and "assistant" in response.json()["error"]["message"]
    assert chart.api.get("/api/clinic/dashboard").status_code == 401


def test_it_shows_another_clinic_nothing_of_this_one(chart):
    _clinic_with_treatments(chart)
    found = dashboard(chart, "outsider").json()
    assert found["adverse_events"]["treatments"] == 0 and found["outcomes"] == []


def test_it_gives_each_table_as_csv_and_names_an_unknown_one(chart):
    _clinic_with_treatments(chart)
    headers = chart.world.owner.headers
    response = chart.api.get("/api/clinic/dashboard/adverse_events.csv", headers=headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert any(r["who"] == "this clinic" and r["severity"] == "mild" and r["events"] == "1" for r in rows)
    assert any(r["who"].startswith("Brady 2014") for r in rows)
    bad = chart.api.get("/api/clinic/dashboard/everything.csv", headers=headers)
    assert bad.status_code == 422 and "outcomes" in bad.json()["error"]["choices"]


def test_it_counts_only_visits_with_needling_as_treatments(chart):
    episode = chart.episode()
    chart.consent(episode)
    chart.api.post(
        f"/api/episodes/{episode}/visits",
        json=visit_body(needling=[], adverse_events=[]),
        headers=chart.world.clinician.headers,
    )
    assert dashboard(chart, "clinician").json()["adverse_events"]["treatments"] == 0


def test_it_seeds_demo_outcome_scores_so_a_fresh_dashboard_has_something_to_show(store, catalog):
    from dryneedling.services import outcomes
    from dryneedling.services.demo import seed

    summary = seed(store, catalog, 12, random_seed=4)
    assert summary.outcome_scores >= 2 * summary.episodes // 2
    owner = accounts.authenticate_token(store, summary.owner_token)
    found = outcomes.dashboard(store, catalog, owner)
    assert found.adverse_events.treatments > 0
    assert found.outcomes and sum(o.episodes for o in found.outcomes) > 0
    assert any(o.reached for o in found.outcomes) and any(o.reached < o.episodes for o in found.outcomes)


def test_the_patients_answers_to_their_links_reach_the_dashboard(chart):
    """Follow-up answers (issue 11 part 1) feed the patient-reported rates and the soreness course."""
    visit = chart.signed_visit()
    headers = chart.world.people["clinician"].headers
    links = chart.api.get(f"/api/visits/{visit}/followups", headers=headers).json()
    first_day, second_day = sorted(links, key=lambda item: item["hours_after"])
    answer = {
        "bruising": True,
        "bleeding": "none",
        "fainting": False,
        "breathless_or_chest_pain": False,
        "numbness_or_weakness": False,
        "worse_pain": False,
    }
    for item, soreness in ((first_day, 6), (second_day, 2)):
        token = item["url"].rsplit("/followup/", 1)[1]
        assert (
            chart.api.post(f"/api/followup/{token}", json={**answer, "soreness": soreness}).status_code == 201
        )
    found = dashboard(chart, "owner").json()
    course = {row["hours"]: row for row in found["soreness"]["course"]}
    assert (course[24]["n"], course[24]["median"], course[48]["n"], course[48]["median"]) == (1, 6, 1, 2)
    patient = found["adverse_events"]["patient_reported"]
    assert (
        patient["mild"]["events"] == 1 and patient["mild"]["total"] == 1
    )  # the bruising, one answered visit
    assert not found["adverse_events"]["patient_note"]


def test_a_name_that_looks_like_a_formula_stays_text_in_the_csv():
    from dryneedling.outcomes.dashboard import _csv

    text = _csv(["who"], [['=HYPERLINK("http://x")'], ["Ann"], [-1.5]])
    assert text.splitlines()[1].startswith("\"'=HYPERLINK") and text.splitlines()[3] == "-1.5"


def test_it_says_what_is_wrong_with_a_date_in_words(chart):
    error = record(chart, chart.episode(), measure="nprs", score=3, date="2026-13-01").json()["error"]
    # pydantic's own "Value error, " prefix is for programmers, not for the clinician reading the message
    assert (error["field"], error["message"]) == ("date", "must be a date YYYY-MM-DD")
