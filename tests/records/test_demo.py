"""``dryneedling demo seed``: a marked demo clinic whose synthetic records pass every rule of real ones."""

from __future__ import annotations

import json
import uuid

from typer.testing import CliRunner

from dryneedling.cli import app
from dryneedling.services import accounts


def test_it_seeds_a_marked_demo_clinic_that_the_api_can_browse(database_url, api, monkeypatch):
    monkeypatch.setenv("DRYNEEDLING_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["demo", "seed", "--patients", "6", "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["patients"] == 6 and summary["visits"] >= 6
    headers = {"Authorization": f"Bearer {summary['owner_token']}"}
    patients = api.get("/api/patients", headers=headers).json()["items"]
    assert len(patients) == 6 and all(p["external_id"].startswith("DEMO-") for p in patients)
    detail = api.get(f"/api/patients/{patients[0]['id']}", headers=headers).json()
    episode = api.get(f"/api/episodes/{detail['episodes'][0]['id']}", headers=headers).json()
    assert episode["consent"]["valid"] and episode["visits"]
    visit = api.get(f"/api/visits/{episode['visits'][0]['id']}", headers=headers).json()
    assert visit["needles_in"] == visit["needles_out"]
    assert visit["cpt"] == (
        None if not visit["needling"] else ("20560" if visit["muscle_count"] <= 2 else "20561")
    )


def test_it_marks_the_demo_clinic_as_demo(store, catalog):
    from dryneedling.services.demo import seed

    summary = seed(store, catalog, 1, random_seed=5)
    with store.accounts() as found:
        clinic = found.clinic(uuid.UUID(summary.clinic_id))
    assert clinic.demo and "synthetic" in clinic.name
    assert accounts.authenticate_token(store, summary.owner_token).role == "owner"


def test_it_dates_every_demo_visit_in_the_past(store, catalog):
    from datetime import date

    from dryneedling.services.demo import seed

    summary = seed(store, catalog, 40, random_seed=11)
    with store.clinic(uuid.UUID(summary.clinic_id), write=False) as records:
        patients = records.search_patients("", 200)
        dates = [
            visit.visit_date
            for patient in patients
            for episode in records.episodes_of(patient.id)
            for visit in records.visits_of(episode.id)
        ]
    assert len(dates) == summary.visits and max(dates) <= date.today()


def test_it_gives_the_demo_answered_pending_and_expired_followups(store, catalog):
    from dryneedling.services.demo import seed

    summary = seed(store, catalog, 30, random_seed=7)
    assert summary.followups_answered > 0 and summary.followups_expired > 0
    with store.clinic(uuid.UUID(summary.clinic_id), write=False) as records:
        followups = [
            followup
            for patient in records.search_patients("", 200)
            for episode in records.episodes_of(patient.id)
            for visit in records.visits_of(episode.id)
            for followup in records.followups_of(visit.id)
        ]
    answered = [f for f in followups if f.answers is not None]
    assert len(answered) == summary.followups_answered
    assert all(0 <= f.answers.soreness <= 10 for f in answered)
    assert all(f.answered_at < f.expires_at and f.answered_at >= f.due_at for f in answered)
    by_visit: dict = {}
    for f in answered:
        by_visit.setdefault(f.visit_id, {})[f.hours_after] = f.answers.soreness
    pairs = [v for v in by_visit.values() if 24 in v and 48 in v]
    assert pairs and all(v[48] <= v[24] for v in pairs)  # soreness settles between the checks
