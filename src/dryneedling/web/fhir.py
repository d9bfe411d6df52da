"""``GET /api/patients/{id}/fhir``: a patient's record as a FHIR R4 Bundle (``application/fhir+json``).

Same authentication as the rest of the records API (:mod:`dryneedling.web.records`): a patient of another
clinic is 404, as everywhere. The export itself is :func:`dryneedling.services.exchange.fhir_bundle`.
"""

from __future__ import annotations

import json
import uuid

from fastapi import APIRouter, Depends, Response

from dryneedling.catalog import Catalog
from dryneedling.records.entities import User
from dryneedling.records.repository import Store
from dryneedling.services.exchange import FHIR_JSON, fhir_bundle
from dryneedling.web.deps import get_catalog
from dryneedling.web.records import RESPONSES, current_user, get_store, no_store

router = APIRouter(prefix="/api", tags=["records"], responses=RESPONSES, dependencies=[Depends(no_store)])


@router.get(
    "/patients/{patient_id}/fhir",
    response_class=Response,
    responses={
        200: {
            "content": {FHIR_JSON: {"schema": {"type": "object"}}},
            "description": "A FHIR R4 Bundle (type collection) with the patient's record",
        }
    },
    summary="The patient's record as a FHIR R4 Bundle",
)
def patient_fhir(
    patient_id: uuid.UUID,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    bundle = fhir_bundle(store, catalog, user.clinic_id, patient_id, actor=user)
    return Response(
        json.dumps(bundle, ensure_ascii=False),
        media_type=FHIR_JSON,
        headers={"Cache-Control": "no-store", "Content-Disposition": 'inline; filename="patient.fhir.json"'},
    )
