"""Outcome scores as stored records, and what the outcome use cases need from storage (Protocols).

A score belongs to one episode of one clinic; ``items`` keeps the item answers (numbers by position, never
item text) when the measure was entered item by item. The dashboard's reads return aggregates (see
:mod:`dryneedling.outcomes.dashboard` for their shapes), so a large clinic is summed by the database.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from dryneedling.outcomes.dashboard import ClinicianInfo, OutcomeChange, PatientAnswer, TreatmentCount
from dryneedling.records.entities import Episode, Patient, User


class OutcomeScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    clinic_id: uuid.UUID
    id: uuid.UUID
    episode_id: uuid.UUID
    measure: str
    variant: str | None = None
    score: float
    items: list[float] | None = None
    measured_on: date
    recorded_by: uuid.UUID
    created_at: datetime


class OutcomeRecords(Protocol):
    clinic_id: uuid.UUID

    def episode(self, episode_id: uuid.UUID, latest_only: bool = False) -> Episode | None: ...
    def patient(self, patient_id: uuid.UUID) -> Patient | None: ...
    def user(self, user_id: uuid.UUID) -> User | None: ...
    def audit(self, user_id: uuid.UUID, action: str, entity: str, entity_id: uuid.UUID) -> None: ...
    def add_score(self, score: OutcomeScore) -> None: ...
    def scores_of(self, episode_id: uuid.UUID) -> list[OutcomeScore]:
        """The episode's scores, oldest first."""
        ...

    def visit_counts(self) -> tuple[list[TreatmentCount], list[PatientAnswer]]:
        """Per clinician of the clinic: visits with needling and those with a mild / serious event the
        clinician reported; and the answered patient follow-ups (24/48 h soreness, patient-reported events)."""
        ...

    def outcome_changes(self, clinician_id: uuid.UUID | None = None) -> list[OutcomeChange]:
        """Histogram of latest-minus-baseline changes per condition, measure and variant (episodes with two
        or more scores); ``clinician_id``: only episodes that clinician opened or treated."""
        ...

    def clinicians(self) -> list[ClinicianInfo]: ...


class OutcomeStore(Protocol):
    def outcomes(
        self, clinic_id: uuid.UUID, write: bool = True
    ) -> AbstractContextManager[OutcomeRecords]: ...
