"""The audit log page (``/records/audit``): the clinic's log, newest first, for auditors and owners.

It shows who did what to which record and when, with links to the records (opening one is itself
audited); it never shows a patient's name. "Verify the chain" recomputes the clinic's hash chain.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from dryneedling.records.entities import User
from dryneedling.records.repository import Store
from dryneedling.services import audit as service
from dryneedling.web.records import get_store
from dryneedling.web.records_pages import _render, page_user

router = APIRouter(prefix="/records", include_in_schema=False)

RECORD_PAGES = {
    "patient": "/records/patients/{}",
    "episode": "/records/episodes/{}",
    "visit": "/records/visits/{}",
}


def _optional_uuid(value: str | None, field: str) -> uuid.UUID | None:
    from dryneedling.errors import InputError

    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InputError(field, "is not an id", value=value) from None


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    page: int = Query(1, ge=1, le=1_000_000),
    actor: str | None = Query(None, max_length=40),
    entity: str | None = Query(None, max_length=30),
    verify: bool = Query(False),
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
) -> Response:
    log = service.read_log(
        store, user, page=page, actor=_optional_uuid(actor, "actor"), entity=entity or None
    )
    chain = service.verify_clinic(store, user.clinic_id) if verify else None
    return _render(
        request,
        "audit.html",
        user=user,
        log=log,
        chain=chain,
        entities=log.entities,
        record_pages=RECORD_PAGES,
    )
