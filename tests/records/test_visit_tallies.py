"""The dashboard's per-visit tallies (``visit_tallies``, issue 11) on SQLite and PostgreSQL: after a random mix
of writes through the API (visits with and without needling, clinician-reported events of each severity,
drafts patched, follow-ups answered at several hours, patient events confirmed, re-graded or dismissed), the
dashboard's counts equal counts made here in Python from the source rows, and the table equals a fresh
recomputation and migration 0008's backfill query."""

from __future__ import annotations

import importlib.util
import random
import uuid
from collections import Counter
from pathlib import Path

from records_helpers import visit_body
from sqlalchemy import select, text

from dryneedling.db import tables as t
from dryneedling.db import tallies
from dryneedling.db.engine import downgrade, make_engine, table_names, upgrade
from dryneedling.outcomes.dashboard import PatientAnswer, TreatmentCount
from dryneedling.services import accounts
from dryneedling.services import outcomes as service

MIGRATION = (
    Path(__file__).resolve().parents[2] / "src/dryneedling/db/migrations/versions/0008_visit_tallies.py"
)
SERIOUS = {"significant", "major"}
CLINICIAN_EVENTS = [
    {"category": "bruising", "severity": "mild"},
    {"category": "aggravation", "severity": "mild"},
    {"category": "fainting", "severity": "significant"},
    {"category": "bleeding", "severity": "major"},
]
CALM = {
    "soreness": 0,
    "bruising": False,
    "bleeding": "none",
    "fainting": False,
    "breathless_or_chest_pain": False,
    "numbness_or_weakness": False,
    "worse_pain": False,
}


def _rows(store, table, clinic_id) -> list[dict]:
    with store.engine.connect() as connection:
        return [
            dict(row._mapping)
            for row in connection.execute(select(table).where(table.c.clinic_id == clinic_id))
        ]


def counts_from_source_rows(store, clinic_id) -> tuple[list[TreatmentCount], list[PatientAnswer]]:
    """The dashboard's per-clinician counts worked out here from the visits, adverse events, follow-ups and
    follow-up events, independently of the tallies (and of any SQL grouping)."""
    visits = _rows(store, t.visits, clinic_id)
    events = _rows(store, t.adverse_events, clinic_id)
    followups = _rows(store, t.followups, clinic_id)
    reported = _rows(store, t.followup_events, clinic_id)
    treatments: dict[str, list[int]] = {}
    answers: Counter = Counter()
    for visit in visits:
        clinician = str(visit["clinician_id"])
        # the clinician's own events; a patient's event a clinician confirmed is on the visit but not theirs
        own = [
            e["severity"] for e in events if e["visit_id"] == visit["id"] and e["reported_by"] == "clinician"
        ]
        if visit["muscle_count"] > 0:
            counts = treatments.setdefault(clinician, [0, 0, 0])
            counts[0] += 1
            counts[1] += "mild" in own
            counts[2] += bool(SERIOUS & set(own))
        answered = [f for f in followups if f["visit_id"] == visit["id"] and f["answered_at"] is not None]
        if answered:
            first = [f["soreness"] for f in answered if f["hours_after"] <= tallies.FIRST_DAY_HOURS]
            second = [f["soreness"] for f in answered if f["hours_after"] > tallies.FIRST_DAY_HOURS]
            standing = [
                e["severity"] for e in reported if e["visit_id"] == visit["id"] and e["status"] != "dismissed"
            ]
            key = (
                clinician,
                max(first, default=None),
                max(second, default=None),
                "mild" in standing,
                bool(SERIOUS & set(standing)),
            )
            answers[key] += 1
    return _sorted(
        [TreatmentCount(c, *counts) for c, counts in treatments.items()],
        [PatientAnswer(*key, count=n) for key, n in answers.items()],
    )


def _sorted(treatments, answers) -> tuple[list[TreatmentCount], list[PatientAnswer]]:
    return sorted(treatments, key=repr), sorted(answers, key=repr)


def counts_from_dashboard(store, clinic_id):
    with store.outcomes(clinic_id, write=False) as records:
        return _sorted(*records.visit_counts())


def _tally_rows(rows) -> list[tuple]:
    """Rows as comparable tuples: uuids as UUID and flags as bool whatever the backend or query handed back
    (a raw SQLite query gives text and 0/1); a soreness stays a number or None."""
    normal = []
    for row in rows:
        values = []
        for name in tallies.COLUMNS:
            value = row[name]
            if name.endswith("_id"):
                value = uuid.UUID(str(value))
            elif not name.startswith("soreness"):
                value = bool(value)
            values.append(value)
        normal.append(tuple(values))
    return sorted(normal, key=repr)


def assert_tallies_match_a_recomputation(store, clinic_id) -> None:
    """The kept table equals the tallies computed afresh, by the application's query and by 0008's SQL."""
    kept = _rows(store, t.visit_tallies, clinic_id)
    with store.engine.connect() as connection:
        fresh = [dict(row._mapping) for row in connection.execute(tallies.tally_select(clinic_id))]
        spec = importlib.util.spec_from_file_location("migration_0008", MIGRATION)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        backfill = [
            dict(zip(tallies.COLUMNS, row, strict=True))
            for row in connection.execute(
                text(migration.SELECT_TALLIES + " WHERE v.clinic_id = :clinic"),
                {"clinic": clinic_id if backend_is_postgres(store) else clinic_id.hex},
            )
        ]
    assert len(kept) == len(_rows(store, t.visits, clinic_id))
    assert _tally_rows(kept) == _tally_rows(fresh) == _tally_rows(backfill)


def backend_is_postgres(store) -> bool:
    # SQLAlchemy keeps a uuid as 32 hex digits on SQLite: a raw query must bind it that way
    return store.engine.dialect.name == "postgresql"


def _answer(api, link, soreness, rng) -> None:
    token = link["url"].rsplit("/followup/", 1)[1]
    body = {
        **CALM,
        "soreness": soreness,
        "bruising": rng.random() < 0.4,
        "bleeding": rng.choice(["none", "none", "stopped", "not_stopping"]),
        "worse_pain": rng.random() < 0.3,
        "numbness_or_weakness": rng.random() < 0.15,
    }
    assert api.post(f"/api/followup/{token}", json=body).status_code == 201


def test_the_dashboard_counts_equal_counts_from_the_source_rows(chart, store):
    rng = random.Random(20261130)
    api, world = chart.api, chart.world
    clinic_id = uuid.UUID(world.clinic)
    # follow-ups on either side of the first day's 36 hours, two in the same day
    settings = api.put(
        "/api/clinic/followup-settings",
        json={"hours": [12, 36, 37, 72], "link_days": 7},
        headers=world.owner.headers,
    )
    assert settings.status_code == 200, settings.text
    seen = Counter()
    for _ in range(16):
        as_ = rng.choice(["clinician", "colleague"])
        headers = world.people[as_].headers
        episode = chart.episode(as_=as_)
        chart.consent(episode, as_=as_)
        needled = rng.random() < 0.8
        body = visit_body(
            needling=None if needled else [], adverse_events=rng.sample(CLINICIAN_EVENTS, rng.randint(0, 2))
        )
        if not needled:
            body["needles_out"] = 0
        response = api.post(f"/api/episodes/{episode}/visits", json=body, headers=headers)
        assert response.status_code == 201, response.text
        visit = response.json()["id"]
        seen["treated" if needled else "untreated"] += 1
        if rng.random() < 0.4:  # the draft changes: its events, and now and then its needling
            patch = {"adverse_events": rng.sample(CLINICIAN_EVENTS, rng.randint(0, 3))}
            if rng.random() < 0.5:
                patch.update(needling=[], needles_out=0) if needled else patch.update(
                    needling=visit_body()["needling"], needles_out=visit_body()["needles_out"]
                )
            changed = api.patch(f"/api/visits/{visit}", json=patch, headers=headers)
            assert changed.status_code == 200, changed.text
            seen["patched"] += 1
        if rng.random() < 0.2:
            continue  # left a draft: no follow-ups
        assert api.post(f"/api/visits/{visit}/sign", headers=headers).status_code == 200
        links = api.get(f"/api/visits/{visit}/followups", headers=headers).json()
        soreness = rng.randint(2, 9)
        for link in sorted(links, key=lambda item: item["hours_after"]):
            if rng.random() < 0.7:
                _answer(api, link, soreness, rng)
                seen["answered"] += 1
            soreness = max(0, soreness - rng.randint(0, 3))
        for event in api.get(f"/api/visits/{visit}/followup-events", headers=headers).json():
            choice = rng.choice(["confirm", "confirm", "regrade", "dismiss", "leave"])
            if choice == "leave":
                continue
            decision = {"decision": "dismiss" if choice == "dismiss" else "confirm"}
            if choice == "regrade":
                decision["severity"] = "mild" if event["severity"] in SERIOUS else "major"
            decided = api.post(f"/api/followup-events/{event['id']}/decision", json=decision, headers=headers)
            assert decided.status_code == 200, decided.text
            seen[choice] += 1
        # the running counts agree after every visit's writes, not only at the end
        assert counts_from_dashboard(store, clinic_id) == counts_from_source_rows(store, clinic_id)
    # the mix covered what the tallies must tell apart
    assert min(seen[k] for k in ("treated", "untreated", "patched", "answered", "confirm", "dismiss")) > 0, (
        seen
    )
    confirmed = [e for e in _rows(store, t.adverse_events, clinic_id) if e["reported_by"] == "patient"]
    assert confirmed, "a confirmed patient event joined a visit's adverse events"
    treatments, answers = counts_from_source_rows(store, clinic_id)
    assert (
        treatments
        and answers
        and any(a.soreness_24h is not None and a.soreness_48h is not None for a in answers)
    )
    assert_tallies_match_a_recomputation(store, clinic_id)
    # and the dashboard the owner sees carries those numbers
    owner = accounts.authenticate_token(store, world.owner.token)
    from dryneedling.catalog import load_catalog

    board = service.dashboard(store, load_catalog(), owner)
    assert board.adverse_events.treatments == sum(c.treatments for c in treatments)


def test_the_demo_clinics_tallies_equal_its_source_rows(store, catalog):
    from dryneedling.services.demo import seed

    summary = seed(store, catalog, 8, random_seed=5)
    clinic_id = uuid.UUID(summary.clinic_id)
    assert counts_from_dashboard(store, clinic_id) == counts_from_source_rows(store, clinic_id)
    assert_tallies_match_a_recomputation(store, clinic_id)


def test_a_clinic_sees_only_its_own_tallies(chart, store):
    chart.visit()
    other = uuid.UUID(chart.world.other_clinic)
    with store.outcomes(other, write=False) as records:
        assert records.visit_counts() == ([], [])


def test_migration_0008_fills_the_tallies_of_visits_recorded_before_it(database_url, chart, store):
    """A database at 0007 (or a backup of one, which restore upgrades) gets its visits' tallies from 0008."""
    api, world = chart.api, chart.world
    clinic_id = uuid.UUID(world.clinic)
    visit = chart.signed_visit()
    chart.visit(needling=[], needles_out=0, adverse_events=[{"category": "fainting", "severity": "major"}])
    links = api.get(f"/api/visits/{visit}/followups", headers=world.clinician.headers).json()
    for link, soreness in zip(sorted(links, key=lambda item: item["hours_after"]), (7, 3), strict=True):
        _answer(api, link, soreness, random.Random(soreness))
    for event in api.get(f"/api/visits/{visit}/followup-events", headers=world.clinician.headers).json():
        api.post(
            f"/api/followup-events/{event['id']}/decision",
            json={"decision": "confirm"},
            headers=world.clinician.headers,
        )
    before = counts_from_dashboard(store, clinic_id)
    engine = make_engine(database_url)
    try:
        downgrade(engine, "0007")
        assert "visit_tallies" not in table_names(engine)
        upgrade(engine)
    finally:
        engine.dispose()
    assert counts_from_dashboard(store, clinic_id) == before == counts_from_source_rows(store, clinic_id)
    assert before[0] and before[1]
    assert_tallies_match_a_recomputation(store, clinic_id)
