"""Migration 0003 on a database that already holds records (SQLite and PostgreSQL): down to 0002 and up again
keeps them, and the adverse events recorded before follow-ups existed come out as reported by the clinician."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import insert, select

from dryneedling.db import tables as t
from dryneedling.db.engine import current_revision, downgrade, head_revision, make_engine, upgrade


def test_it_marks_earlier_adverse_events_as_reported_by_the_clinician(database_url, api, world, chart):
    chart.signed_visit()  # follow-ups and their rows exist while going down
    engine = make_engine(database_url)
    try:
        downgrade(engine, "0002")
        now = datetime.now(UTC)
        clinic, user, patient, episode, visit = (uuid.uuid4() for _ in range(5))
        with engine.begin() as connection:
            connection.execute(
                insert(t.clinics).values(id=clinic, name="Old Physio", demo=False, created_at=now)
            )
            connection.execute(
                insert(t.users).values(
                    clinic_id=clinic,
                    id=user,
                    email=f"{user.hex}@old.example",
                    name="Old",
                    role="clinician",
                    active=True,
                    created_at=now,
                )
            )
            connection.execute(
                insert(t.patients).values(
                    clinic_id=clinic,
                    id=patient,
                    name="Old Patient",
                    name_key="old patient",
                    birth_date=date(1970, 1, 1),
                    sex="female",
                    created_by=user,
                    created_at=now,
                )
            )
            connection.execute(
                insert(t.episodes).values(
                    clinic_id=clinic,
                    id=episode,
                    patient_id=patient,
                    status="open",
                    opened_at=now,
                    created_by=user,
                )
            )
            connection.execute(
                insert(t.visits).values(
                    clinic_id=clinic,
                    id=visit,
                    episode_id=episode,
                    patient_id=patient,
                    clinician_id=user,
                    visit_date=date(2026, 1, 5),
                    heat_before=False,
                    heat_after=False,
                    needles_out=0,
                    clean_technique=True,
                    sharps_disposed=True,
                    nothing_injected=True,
                    muscle_count=0,
                    status="signed",
                    created_at=now,
                    updated_at=now,
                )
            )
            connection.execute(
                insert(t.adverse_events).values(
                    clinic_id=clinic, visit_id=visit, position=0, category="bruising", severity="mild"
                )
            )
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            reported = connection.execute(
                select(t.adverse_events.c.reported_by, t.adverse_events.c.followup_id).where(
                    t.adverse_events.c.visit_id == visit
                )
            ).all()
            phone = connection.execute(select(t.clinics.c.phone).where(t.clinics.c.id == clinic)).scalar()
        assert [tuple(row) for row in reported] == [("clinician", None)] and phone is None
    finally:
        engine.dispose()
