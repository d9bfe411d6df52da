"""The storage itself: reads confined to one clinic, references that cannot cross clinics, a transaction
that leaves nothing behind when a use case fails, and an app that opens its own database with no set-up."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from records_helpers import PATIENT
from sqlalchemy.exc import IntegrityError

from dryneedling.records.entities import Episode, Patient
from dryneedling.services import accounts
from dryneedling.web.app import create_app
from dryneedling.web.logs import DropQueryStrings


def _patient(clinic_id, user_id) -> Patient:
    return Patient(
        clinic_id=clinic_id,
        id=uuid.uuid4(),
        name="Ann Example",
        birth_date=date(1980, 2, 3),
        sex="female",
        created_by=user_id,
        created_at=datetime.now(UTC),
    )


def test_it_reads_only_the_callers_clinic(store):
    mine, theirs = accounts.add_clinic(store, "Mine"), accounts.add_clinic(store, "Theirs")
    patient = _patient(theirs.id, uuid.uuid4())
    with store.clinic(theirs.id) as records:
        records.add_patient(patient)
    with store.clinic(mine.id) as records:
        assert records.patient(patient.id) is None
        assert records.search_patients("ann", 10) == []
    with store.clinic(theirs.id) as records:
        assert records.patient(patient.id) == patient


def test_it_refuses_a_reference_to_another_clinics_row(store):
    mine, theirs = accounts.add_clinic(store, "Mine"), accounts.add_clinic(store, "Theirs")
    patient = _patient(theirs.id, uuid.uuid4())
    with store.clinic(theirs.id) as records:
        records.add_patient(patient)
    episode = Episode(
        clinic_id=mine.id,
        id=uuid.uuid4(),
        patient_id=patient.id,
        opened_at=datetime.now(UTC),
        created_by=uuid.uuid4(),
    )
    with pytest.raises(IntegrityError), store.clinic(mine.id) as records:
        records.add_episode(episode)


def test_it_leaves_nothing_behind_when_a_use_case_fails(store):
    clinic = accounts.add_clinic(store, "Mine")
    patient = _patient(clinic.id, uuid.uuid4())
    with pytest.raises(RuntimeError), store.clinic(clinic.id) as records:
        records.add_patient(patient)
        raise RuntimeError("refused half-way")
    with store.clinic(clinic.id) as records:
        assert records.patient(patient.id) is None


def test_it_opens_and_migrates_its_own_database_when_started_with_no_set_up(tmp_path, monkeypatch, catalog):
    monkeypatch.delenv("DRYNEEDLING_DATABASE_URL", raising=False)
    monkeypatch.setenv("DRYNEEDLING_DATA_DIR", str(tmp_path))
    app = create_app(catalog)
    with TestClient(app) as client:
        assert client.get("/api/patients").status_code == 401
        assert not (tmp_path / "dryneedling.db").exists()  # no token, no database work
        from dryneedling.db import open_store

        store = open_store(migrate=True)
        clinic = accounts.add_clinic(store, "First")
        accounts.add_user(store, clinic.id, "first@example.org", "clinician", None)
        token = accounts.issue_token(store, "first@example.org")
        response = client.post("/api/patients", json=PATIENT, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201
        store.engine.dispose()
        app.state.records_store.engine.dispose()
    assert (tmp_path / "dryneedling.db").exists()


def test_it_keeps_search_words_out_of_the_access_log():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/patients?q=Ann+Example", "1.1", 200),
        None,
    )
    DropQueryStrings().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /api/patients HTTP/1.1" 200'
