"""The practice records' JSON API (``/api/patients``, ``/api/episodes``, ``/api/visits``).

Authenticated by personal API tokens (``Authorization: Bearer dn_...``) or by the web session of the records
pages (the ``dn_session`` cookie); a session request that changes data carries the session's CSRF token in
an ``X-CSRF-Token`` header (a bearer request needs none: a browser never adds that header by itself). Every endpoint calls one use case
of :mod:`dryneedling.services.records`; what it refuses reaches the client in the one error shape:
401 no or bad token, 403 a role that may not, 404 not in your clinic (whether it exists elsewhere is never
said), 409 a state that forbids it (signed note, closed episode, no consent), 422 bad input naming the field.
Answers about patients are sent ``Cache-Control: no-store``.
"""

from __future__ import annotations

import threading
import uuid
from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from dryneedling.catalog import Catalog
from dryneedling.records.consent import muscle_restrictions
from dryneedling.records.entities import Amendment, Assessment, Consent, Episode, Patient, User, Visit
from dryneedling.records.errors import NotAuthenticated, RecordsError, TooManyAttempts
from dryneedling.records.repository import Store
from dryneedling.services import accounts, logins
from dryneedling.services import records as service
from dryneedling.web.deps import get_catalog
from dryneedling.web.errors import ERROR_RESPONSES, ErrorResponse, _respond, error_body
from dryneedling.web.session import CSRF_HEADER, SESSION_COOKIE, check_csrf, login_policy, session_id

RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    401: {"model": ErrorResponse, "description": "No or bad API token, and no signed-in session"},
    403: {
        "model": ErrorResponse,
        "description": "Your role may not do this, or a session request lacks its X-CSRF-Token",
    },
    404: {"model": ErrorResponse, "description": "Not found in your clinic"},
    409: {
        "model": ErrorResponse,
        "description": "The record's state forbids it (signed, closed, no consent)",
    },
}


# The dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in the thread
# pool, and those hand-offs were a sixth of the server's CPU time under 20 concurrent clients.
async def no_store(response: Response) -> None:
    """Every records answer is health data: never kept by a browser or proxy (a router-wide dependency)."""
    response.headers["Cache-Control"] = "no-store"


router = APIRouter(prefix="/api", tags=["records"], responses=RESPONSES, dependencies=[Depends(no_store)])
_store_lock = threading.Lock()


async def get_store(request: Request) -> Store:
    """The records store (a dependency): opened in the thread pool on first use, since that migrates."""
    store = getattr(request.app.state, "records_store", None)
    return store if store is not None else await run_in_threadpool(records_store, request)


def records_store(request: Request) -> Store:
    """The records store: given to ``create_app`` or, on first use, opened from the environment (migrated)."""
    state = request.app.state
    if getattr(state, "records_store", None) is None:
        with _store_lock:
            if getattr(state, "records_store", None) is None:
                from dryneedling.db import open_store

                state.records_store = open_store(migrate=True)
    return state.records_store


bearer = HTTPBearer(
    auto_error=False,
    description="A personal API token (`dryneedling user token EMAIL`), sent as `Authorization: Bearer dn_...`",
)


session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description=(
        "The session of the records pages (sign in at /records/login). A request that changes data also "
        f"sends the session's CSRF token as `{CSRF_HEADER}`."
    ),
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_user(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    cookie: str | None = Depends(session_cookie),
) -> User:
    """The user of the bearer token or, without one, of the web session; 401 before anything else is looked
    at (the store is opened only then). A bearer header, even a bad one, wins over a session."""
    if credentials is not None and credentials.credentials.strip():
        return accounts.authenticate_token(records_store(request), credentials.credentials.strip())
    sid = session_id(request)
    if not sid:
        raise NotAuthenticated(
            "a valid API token is required (Authorization: Bearer <token>), or sign in at /records/login"
        )
    try:
        user = logins.session_user(records_store(request), sid, login_policy(request))
    except NotAuthenticated:
        request.scope["session"].clear()
        raise
    if request.method not in SAFE_METHODS:
        check_csrf(
            request,
            request.headers.get(CSRF_HEADER),
            f"a signed-in request that changes data must send the session's CSRF token as {CSRF_HEADER}",
        )
    return user


def install_records_handlers(app: FastAPI) -> None:
    """Turn the records' refusals into the one error shape with their status code."""

    @app.exception_handler(RecordsError)
    async def _records_error(request: Request, exc: RecordsError):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
        if isinstance(exc, TooManyAttempts):
            headers = {"Retry-After": str(exc.retry_after)}
        return _respond(request, error_body(exc.field, exc.message), exc.status, headers)


# -- response shapes -------------------------------------------------------------------------------------
class PatientList(BaseModel):
    items: list[Patient]


class EpisodeSummary(BaseModel):
    id: uuid.UUID
    condition: str | None
    status: str
    opened_at: datetime
    closed_at: datetime | None


class PatientDetail(Patient):
    episodes: list[EpisodeSummary]


class AssessmentSummary(BaseModel):
    id: uuid.UUID
    created_at: datetime
    created_by: uuid.UUID
    catalog_version: str
    decision: str | None


class VisitSummary(BaseModel):
    id: uuid.UUID
    visit_date: date
    status: str
    cpt: str | None
    muscle_count: int


class ConsentState(BaseModel):
    valid: bool = Field(description="A consent that is not withdrawn is on file")
    current: Consent | None


class Restriction(BaseModel):
    blocked_by: str = Field(description="The screening item id that blocks needling this muscle")
    reason: str
    side: str | None = Field(description="The only side it applies to; None = both")


class EpisodeOut(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    condition: str | None
    onset: date | None
    goals: str | None
    status: str
    opened_at: datetime
    closed_at: datetime | None
    catalog_version: str | None = Field(description="Catalog version of the latest report")
    report: dict[str, Any] | None = Field(description="The latest assessment's Report as stored")
    restrictions: dict[str, Restriction] = Field(
        description="Muscle id ('*' = every muscle) -> what blocks it at the latest screening; needling it needs an override"
    )
    muscle_restrictions: dict[str, list[str]] = Field(
        default_factory=dict, description="Candidate muscle id -> screening's restrictions on needling it"
    )
    assessments: list[AssessmentSummary]
    consent: ConsentState
    visits: list[VisitSummary]


class VisitOut(Visit):
    cpt_label: str | None


class ConsentPreview(BaseModel):
    text: str
    version: str
    sha256: str


def _summary(assessment: Assessment) -> AssessmentSummary:
    return AssessmentSummary(
        id=assessment.id,
        created_at=assessment.created_at,
        created_by=assessment.created_by,
        catalog_version=assessment.catalog_version,
        decision=assessment.decision,
    )


def _episode_out(
    episode: Episode, consents: list[Consent], visits: list[Visit], catalog: Catalog
) -> EpisodeOut:
    latest = episode.latest_assessment
    current = service.valid_consent(consents)
    return EpisodeOut(
        **episode.model_dump(
            include={"id", "patient_id", "condition", "onset", "goals", "status", "opened_at", "closed_at"}
        ),
        catalog_version=latest.catalog_version if latest else None,
        report=latest.report if latest else None,
        restrictions={
            muscle: Restriction(blocked_by=item, reason=reason, side=side)
            for muscle, (item, reason, side) in service.blocked_muscles(
                latest.report if latest else None, catalog
            ).items()
        },
        muscle_restrictions=muscle_restrictions(latest.report if latest else None),
        assessments=[_summary(a) for a in episode.assessments],
        consent=ConsentState(valid=current is not None, current=current),
        visits=[
            VisitSummary(**v.model_dump(include={"id", "visit_date", "status", "cpt", "muscle_count"}))
            for v in visits
        ],
    )


def _visit_out(visit: Visit, catalog: Catalog) -> VisitOut:
    labels = {code.code: code.label for code in catalog.practice.cpt.codes}
    return VisitOut(
        **visit.model_dump(exclude={"needles_in"}),
        cpt_label=labels.get(visit.cpt) if visit.cpt else None,
    )


def _visit_json(visit: Visit, catalog: Catalog, status_code: int = 200) -> Response:
    """The visit as VisitOut JSON, serialised once: the busiest writes (record, sign) spare FastAPI a second
    validation and serialisation pass (their OpenAPI entries still name VisitOut)."""
    return Response(
        _visit_out(visit, catalog).model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},  # a returned Response does not take the router's headers
    )


# -- patients --------------------------------------------------------------------------------------------
@router.post("/patients", status_code=201, response_model=Patient, summary="Register a patient")
def create_patient(
    body: service.PatientIn,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
) -> Patient:
    return service.create_patient(store, user, body)


@router.get(
    "/patients", response_model=PatientList, summary="Find patients by name, external id or birth date"
)
def search_patients(
    q: str = Query("", max_length=200, description="Name words, an external id or a birth date (YYYY-MM-DD)"),
    limit: int = Query(service.SEARCH_LIMIT, ge=1, le=200),
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
) -> PatientList:
    return PatientList(items=service.search_patients(store, user, q, limit))


@router.get("/patients/{patient_id}", response_model=PatientDetail, summary="A patient and their episodes")
def get_patient(
    patient_id: uuid.UUID,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
) -> PatientDetail:
    view = service.get_patient(store, user, patient_id)
    return PatientDetail(
        **view.patient.model_dump(),
        episodes=[
            EpisodeSummary(**e.model_dump(include=set(EpisodeSummary.model_fields))) for e in view.episodes
        ],
    )


# -- episodes --------------------------------------------------------------------------------------------
@router.post(
    "/patients/{patient_id}/episodes",
    status_code=201,
    response_model=EpisodeOut,
    summary="Open an episode (assessed)",
)
def create_episode(
    patient_id: uuid.UUID,
    body: service.EpisodeIn,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> EpisodeOut:
    episode = service.create_episode(store, catalog, user, patient_id, body)
    return _episode_out(episode, [], [], catalog)


@router.get(
    "/episodes/{episode_id}", response_model=EpisodeOut, summary="An episode with its report, consent, visits"
)
def get_episode(
    episode_id: uuid.UUID,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> EpisodeOut:
    view = service.get_episode(store, user, episode_id)
    return _episode_out(view.episode, view.consents, view.visits, catalog)


class ReassessIn(BaseModel):
    profile: dict[str, Any]


@router.post(
    "/episodes/{episode_id}/assessments",
    status_code=201,
    response_model=EpisodeOut,
    summary="Re-assess (re-screen)",
)
def reassess(
    episode_id: uuid.UUID,
    body: ReassessIn,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> EpisodeOut:
    service.reassess(store, catalog, user, episode_id, body.profile)
    view = service.get_episode(store, user, episode_id)
    return _episode_out(view.episode, view.consents, view.visits, catalog)


@router.post("/episodes/{episode_id}/close", response_model=EpisodeOut, summary="Close an episode of care")
def close_episode(
    episode_id: uuid.UUID,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> EpisodeOut:
    service.close_episode(store, user, episode_id)
    view = service.get_episode(store, user, episode_id)
    return _episode_out(view.episode, view.consents, view.visits, catalog)


@router.get(
    "/episodes/{episode_id}/consent", response_model=ConsentPreview, summary="The consent text to show"
)
def consent_preview(
    episode_id: uuid.UUID,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> ConsentPreview:
    text = service.consent_preview(store, catalog, user, episode_id)
    return ConsentPreview(text=text.text, version=text.version, sha256=text.sha256)


@router.post(
    "/episodes/{episode_id}/consent", status_code=201, response_model=Consent, summary="Record consent"
)
def record_consent(
    episode_id: uuid.UUID,
    body: service.ConsentIn,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Consent:
    return service.record_consent(store, catalog, user, episode_id, body)


@router.post("/episodes/{episode_id}/consent/withdraw", response_model=Consent, summary="Record a withdrawal")
def withdraw_consent(
    episode_id: uuid.UUID,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
) -> Consent:
    return service.withdraw_consent(store, user, episode_id)


# -- visits ----------------------------------------------------------------------------------------------
@router.post(
    "/episodes/{episode_id}/visits", status_code=201, response_model=VisitOut, summary="Record a visit"
)
def record_visit(
    episode_id: uuid.UUID,
    body: service.VisitIn,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    return _visit_json(service.record_visit(store, catalog, user, episode_id, body), catalog, 201)


@router.get("/visits/{visit_id}", response_model=VisitOut, summary="A visit note")
def get_visit(
    visit_id: uuid.UUID,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> VisitOut:
    return _visit_out(service.get_visit(store, user, visit_id), catalog)


@router.patch("/visits/{visit_id}", response_model=VisitOut, summary="Change an unsigned visit")
def update_visit(
    visit_id: uuid.UUID,
    body: service.VisitPatch,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> VisitOut:
    return _visit_out(service.update_visit(store, catalog, user, visit_id, body), catalog)


@router.post(
    "/visits/{visit_id}/sign", response_model=VisitOut, summary="Sign a visit note (read-only after)"
)
def sign_visit(
    request: Request,
    visit_id: uuid.UUID,
    background: BackgroundTasks,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    signed = service.sign_visit_with_links(store, user, visit_id, catalog)
    from dryneedling.web.followups import mail_links_after_answer

    mail_links_after_answer(background, request, store, catalog, user, signed)
    return _visit_json(signed.visit, catalog)


@router.post(
    "/visits/{visit_id}/amendments", status_code=201, response_model=Amendment, summary="Amend a signed note"
)
def amend_visit(
    visit_id: uuid.UUID,
    body: service.AmendmentIn,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
) -> Amendment:
    return service.amend_visit(store, user, visit_id, body)


@router.get(
    "/visits/{visit_id}/note.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The note as PDF"}},
    summary="The visit note as PDF (SOAP order)",
)
def visit_note_pdf(
    visit_id: uuid.UUID,
    paper: Literal["A4", "Letter"] = Query("A4"),
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    from dryneedling.render.note import render_note_pdf

    note = service.visit_note(store, user, visit_id, action="print")
    pdf = render_note_pdf(note.model_dump(mode="json"), note_labels(note, catalog), paper)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Cache-Control": "no-store", "Content-Disposition": 'inline; filename="visit-note.pdf"'},
    )


def note_labels(note: service.VisitNote, catalog: Catalog) -> dict[str, Any]:
    """Names and wording the printed note needs from the catalog."""
    kb, rules = catalog.kb, catalog.practice
    # The screening the needling was recorded under: the newest assessment made by the time the note was last
    # changed (signing included), so a later re-screening does not rewrite what an old note says.
    made = [a for a in note.episode.assessments if a.created_at <= note.visit.updated_at]
    in_force = made[-1] if made else note.episode.latest_assessment
    report = in_force.report if in_force else {}
    blocked = [m.get("name", m.get("muscle")) for m in report.get("excluded_muscles") or []]
    needled = {entry.muscle for entry in note.visit.needling}
    restricted = {m: texts for m, texts in muscle_restrictions(report).items() if m in needled}
    muscles = {m.id: m.name for m in kb.muscles.values()}
    # An override names the screening item it overrode: by its label as screened (else the knowledge base's)
    items = {item.id: item.label for item in kb.safety_items.values()}
    for item in (report.get("screening") or {}).get("items") or []:
        if item.get("id") and item.get("label"):
            items[item["id"]] = item["label"]
    codes = {code.code: code.label for code in rules.cpt.codes}
    condition = note.episode.condition
    return {
        "muscles": muscles,
        "techniques": {t.id: t.label for t in rules.techniques},
        "categories": {c.id: c.label for c in rules.adverse_events},
        "condition": kb.conditions[condition].label
        if condition in kb.conditions
        else (condition or "not recorded"),
        "decision": ((report.get("screening") or {}).get("decision") or "not assessed").replace("_", " "),
        "assessed_at": in_force.created_at if in_force else None,
        "blocked": blocked,
        "items": items,
        "restrictions": restricted,
        "needles_in": note.visit.needles_in,
        "cpt_label": codes.get(note.visit.cpt or "", ""),
        "cpt_note": " ".join(rules.cpt.note.split()),
        "distinct": [muscles.get(m, m) for m in dict.fromkeys(e.muscle for e in note.visit.needling)],
    }
