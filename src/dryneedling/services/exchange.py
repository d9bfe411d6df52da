"""Exchange with the clinic's EMR: one patient's record as a FHIR R4 Bundle (see :mod:`dryneedling.records.fhir`).

The web endpoint and ``dryneedling export fhir`` both call :func:`fhir_bundle`; it reads the record in one
transaction, confined to the clinic, and notes the export in the audit log when a user asks for it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from dryneedling.catalog import Catalog
from dryneedling.records import fhir
from dryneedling.records.entities import User
from dryneedling.records.errors import NotFound
from dryneedling.records.repository import Store

#: The FHIR JSON media type (what the endpoint answers with).
FHIR_JSON = "application/fhir+json"


#: The actor of the audit entries written by commands run on the server, where no user is signed in.
COMMAND_LINE = uuid.UUID(int=0)


def fhir_bundle(
    store: Store,
    catalog: Catalog,
    clinic_id: uuid.UUID,
    patient_id: uuid.UUID,
    actor: User | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The patient's record as a FHIR ``collection`` Bundle (a dict, ready for JSON).

    404 (:class:`NotFound`) when the patient is not in ``clinic_id``. ``actor``: the user asking (any role
    of the clinic may read a patient's record); the export is written to the audit log in their name.
    The command line passes no actor (it runs with the database's own credentials); its exports are logged
    under :data:`COMMAND_LINE` with the role ``command_line``.
    """
    if actor is not None and actor.clinic_id != clinic_id:
        raise NotFound("patient")
    # The outcome records are the clinic records with the measures' scores (db.outcomes.SqlOutcomes).
    with store.outcomes(clinic_id) as records:  # type: ignore[attr-defined]
        patient = records.patient(patient_id)
        if patient is None:
            raise NotFound("patient")
        episodes = [
            fhir.EpisodeRecord(
                episode=episode,
                consents=records.consents_of(episode.id),
                visits=records.visits_of(episode.id),
            )
            for episode in records.episodes_of(patient_id)
        ]
        scores = [
            fhir.OutcomeScore(
                id=score.id,
                patient_id=patient_id,
                measure=score.measure,
                value=score.score,
                taken_on=score.measured_on,
                performer_id=score.recorded_by,
                note=f"variant: {score.variant}" if score.variant else None,
            )
            for episode in episodes
            for score in records.scores_of(episode.episode.id)
        ]
        users = {}
        for user_id in {*fhir.referenced_users(episodes), *(score.performer_id for score in scores)}:
            user = records.user(user_id)
            if user is not None:
                users[user_id] = user
        if actor is not None:
            records.audit(actor, "export_fhir", "patient", patient_id)
        else:  # the command line: no user signed in, the export is still on the record
            records.audit(COMMAND_LINE, "export_fhir", "patient", patient_id, role="command_line")
    with store.accounts(write=False) as accounts:
        clinic = accounts.clinic(clinic_id)
    assert clinic is not None  # the patient row's clinic exists (foreign key)
    record = fhir.PatientRecord(clinic=clinic, patient=patient, episodes=episodes, users=users)
    terms = fhir.terms_from_catalog(catalog)
    return fhir.bundle(record, terms, at or datetime.now(UTC), extra=fhir.outcome_observations(scores, terms))


def find_patient_clinic(store: Store, patient_id: uuid.UUID) -> uuid.UUID:
    """The clinic that holds ``patient_id`` (for the command line, which is not signed in to a clinic)."""
    with store.accounts(write=False) as accounts:
        clinic_ids = [clinic.id for clinic in accounts.clinics()]
    for clinic_id in clinic_ids:
        with store.clinic(clinic_id, write=False) as records:
            if records.patient(patient_id) is not None:
                return clinic_id
    raise NotFound("patient")
