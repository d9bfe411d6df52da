"""The records pages (server-rendered, htmx-free forms that work on a tablet): first-run set-up, sign-in,
patients, a patient's episodes, an episode with its consent and visits, the consent a patient signs, and
the visit note with signing and amendments. Every page calls the same use cases as the JSON API.

Sessions are signed cookies under ``/records`` (see :mod:`dryneedling.web.session`); every form carries the
session's CSRF token. Bad input re-renders the form with the problem in words next to its field.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from dryneedling.catalog import Catalog
from dryneedling.errors import InputError, validation_message
from dryneedling.records.consent import muscle_restrictions
from dryneedling.records.entities import User
from dryneedling.records.errors import NotAuthenticated, RecordsError, TooManyAttempts
from dryneedling.records.repository import Store
from dryneedling.render.note import when
from dryneedling.safe_input import check_data
from dryneedling.services import accounts, logins
from dryneedling.services import records as service
from dryneedling.web import choices
from dryneedling.web.chart import tap_chart
from dryneedling.web.deps import get_catalog
from dryneedling.web.forms import profile_from_form
from dryneedling.web.records import get_store, note_labels
from dryneedling.web.session import SESSION_ID, check_csrf, csrf_token, login_policy, session_id

router = APIRouter(prefix="/records", include_in_schema=False)
NEEDLING_ROWS = 6
EVENT_ROWS = 3


class SignInRequired(Exception):
    """No session: the page answers with a redirect to the sign-in page."""


def install_page_handlers(app) -> None:
    app.state.templates.env.filters["when"] = when

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired):
        return RedirectResponse("/records/login", status_code=303)


def page_user(request: Request, store: Store = Depends(get_store)) -> User:
    """The signed-in user of a live server-side session, or a redirect to the sign-in page."""
    sid = session_id(request)
    if not sid:
        raise SignInRequired()
    try:
        return logins.session_user(store, sid, login_policy(request))
    except NotAuthenticated:
        request.session.clear()
        raise SignInRequired() from None


def _render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("user", None)
    context["csrf"] = csrf_token(request)
    response = request.app.state.templates.TemplateResponse(
        request, f"records/{template}", context, status_code=status_code
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _validate(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """``model`` from ``data``; the first problem as InputError naming its field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "form"
        message = validation_message(first)
        raise InputError(field, message) from None


def _number(form: FormData, name: str, kind: type, field: str | None = None) -> Any:
    raw = str(form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise InputError(field or name, "must be a number", value=raw) from None


def _checked(form: FormData, name: str) -> bool:
    return form.get(name) in ("on", "true", "1", "yes")


async def _form(request: Request) -> FormData:
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    check_form_text(form)
    return form


def check_form_text(form: FormData) -> None:
    """A form's text holds no NUL and no lone surrogate (422 naming the field), as a JSON body is checked:
    PostgreSQL cannot store a NUL and would answer with a server error."""
    for key, value in form.multi_items():
        if isinstance(value, str):
            check_data(value, key)


def _login(request: Request, user: User, store: Store) -> None:
    """A new server-side session (a fresh id: nothing from before sign-in carries over) and CSRF token."""
    request.session.clear()
    request.session[SESSION_ID] = logins.start_session(store, user, login_policy(request))
    csrf_token(request)


# -- first run and sign-in -------------------------------------------------------------------------------
@router.get("", response_class=HTMLResponse)
def records_home(request: Request, store: Store = Depends(get_store)) -> Response:
    if accounts.needs_setup(store):
        return RedirectResponse("/records/setup", status_code=303)
    if not session_id(request):
        return RedirectResponse("/records/login", status_code=303)
    return RedirectResponse("/records/patients", status_code=303)


@router.get("/setup", response_class=HTMLResponse)
def setup_page(request: Request, store: Store = Depends(get_store)) -> Response:
    if not accounts.needs_setup(store):
        return RedirectResponse("/records/login", status_code=303)
    return _render(request, "setup.html", form={})


@router.post("/setup", response_class=HTMLResponse)
async def setup_submit(request: Request, store: Store = Depends(get_store)) -> Response:
    form = await _form(request)
    values = {key: str(form.get(key) or "") for key in ("clinic", "name", "email")}
    try:
        if form.get("password") != form.get("password_again"):
            raise InputError("password_again", "the two passwords differ")
        user = accounts.set_up_first_clinic(
            store, values["clinic"], values["name"], values["email"], str(form.get("password") or "")
        )
    except InputError as error:
        return _render(request, "setup.html", 422, form=values, error=error.to_dict())
    _login(request, user, store)
    return RedirectResponse("/records/patients", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return _render(request, "login.html", form={})


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request, store: Store = Depends(get_store)) -> Response:
    form = await _form(request)
    email = str(form.get("email") or "")
    client = request.client.host if request.client else None
    try:
        user = logins.sign_in(store, email, str(form.get("password") or ""), client, login_policy(request))
    except TooManyAttempts as error:
        response = _render(
            request, "login.html", 429, form={"email": email}, error={"message": error.message}
        )
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    except NotAuthenticated as error:
        return _render(request, "login.html", 401, form={"email": email}, error={"message": error.message})
    _login(request, user, store)
    return RedirectResponse("/records/patients", status_code=303)


@router.post("/logout")
async def logout(request: Request, store: Store = Depends(get_store)) -> Response:
    await _form(request)
    logins.end_session(store, session_id(request))
    request.session.clear()
    return RedirectResponse("/records/login", status_code=303)


# -- patients --------------------------------------------------------------------------------------------
@router.get("/patients", response_class=HTMLResponse)
def patients_page(
    request: Request, user: User = Depends(page_user), store: Store = Depends(get_store)
) -> Response:
    patients = service.search_patients(store, user, "")
    return _render(request, "patients.html", user=user, patients=patients, q="", form={})


@router.post("/patients/search", response_class=HTMLResponse)
async def patients_search(
    request: Request, user: User = Depends(page_user), store: Store = Depends(get_store)
) -> Response:
    """The search is a POST: what is searched for is often a name, which a GET would leave in the browser's
    history, its address bar and any Referer (no patient detail goes into a URL)."""
    form = await _form(request)
    q = str(form.get("q") or "").strip()[:200]
    patients = await run_in_threadpool(service.search_patients, store, user, q)
    return _render(request, "patients.html", user=user, patients=patients, q=q, form={})


@router.post("/patients", response_class=HTMLResponse)
async def patient_submit(
    request: Request, user: User = Depends(page_user), store: Store = Depends(get_store)
) -> Response:
    form = await _form(request)
    keys = ("name", "birth_date", "sex", "external_id", "email")
    values = {key: str(form.get(key) or "").strip() for key in keys}
    try:
        data = _validate(
            service.PatientIn,
            {**values, "external_id": values["external_id"] or None, "email": values["email"] or None},
        )
        patient = service.create_patient(store, user, data)
    except (InputError, RecordsError) as error:
        patients = service.search_patients(store, user, "")
        err = (
            error.to_dict()
            if isinstance(error, InputError)
            else {"field": error.field, "message": error.message}
        )
        status = 422 if isinstance(error, InputError) else error.status
        return _render(
            request, "patients.html", status, user=user, patients=patients, q="", form=values, error=err
        )
    return RedirectResponse(f"/records/patients/{patient.id}", status_code=303)


def _episode_form_context(catalog: Catalog) -> dict[str, Any]:
    kb = catalog.kb
    return {
        "conditions": sorted(((c.id, c.label) for c in kb.conditions.values()), key=lambda item: item[1]),
        "pain_groups": choices.region_groups(catalog),
        "chart": tap_chart(catalog),
    }


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(
    request: Request,
    patient_id: uuid.UUID,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    view = service.get_patient(store, user, patient_id)
    return _render(request, "patient.html", user=user, view=view, form={}, **_episode_form_context(catalog))


@router.post("/patients/{patient_id}/episodes", response_class=HTMLResponse)
async def episode_submit(
    request: Request,
    patient_id: uuid.UUID,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    form = await _form(request)
    view = service.get_patient(store, user, patient_id)
    try:
        profile = profile_from_form(form)
        profile.setdefault("age", _age(view.patient.birth_date))
        if view.patient.sex in ("female", "male", "other"):
            profile.setdefault("sex", view.patient.sex)
        profile.setdefault("consent", _checked(form, "consent"))
        data = _validate(
            service.EpisodeIn, {"profile": profile, "goals": str(form.get("goals") or "") or None}
        )
        episode = service.create_episode(store, catalog, user, patient_id, data)
    except InputError as error:
        values = {key: form.get(key) for key in form}
        values["pain_regions"] = form.getlist("pain_regions")
        return _render(
            request,
            "patient.html",
            422,
            user=user,
            view=view,
            form=values,
            error=error.to_dict(),
            **_episode_form_context(catalog),
        )
    return RedirectResponse(f"/records/episodes/{episode.id}", status_code=303)


def _age(birth) -> int:
    from datetime import date

    today = date.today()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


# -- episodes, consent -----------------------------------------------------------------------------------
def _episode_context(catalog: Catalog, view: service.EpisodeView) -> dict[str, Any]:
    kb, rules = catalog.kb, catalog.practice
    latest = view.episode.latest_assessment
    report = latest.report if latest else {}
    blocked = service.blocked_muscles(report, catalog)
    candidates = [m["muscle"] for m in report.get("candidate_muscles") or []]
    others = sorted((m for m in kb.muscles if m not in candidates), key=lambda m: kb.muscles[m].name)
    restricted = muscle_restrictions(report)
    muscles = [
        (m, kb.muscles[m].name, blocked.get(m) or blocked.get("*"), restricted.get(m, []))
        for m in [*candidates, *others]
    ]
    return {
        "restricted": restricted,
        "view": view,
        "report": report,
        "blocked": blocked,
        "muscle_choices": muscles,
        "techniques": rules.techniques,
        "categories": rules.adverse_events,
        "severities": rules.severities,
        "muscle_names": {m.id: m.name for m in kb.muscles.values()},
        "rows": range(NEEDLING_ROWS),
        "event_rows": range(EVENT_ROWS),
        "consent": view.valid_consent,
    }


@router.get("/episodes/{episode_id}", response_class=HTMLResponse)
def episode_page(
    request: Request,
    episode_id: uuid.UUID,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    view = service.get_episode(store, user, episode_id)
    return _render(request, "episode.html", user=user, form={}, **_episode_context(catalog, view))


@router.get("/episodes/{episode_id}/consent", response_class=HTMLResponse)
def consent_page(
    request: Request,
    episode_id: uuid.UUID,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    text = service.consent_preview(store, catalog, user, episode_id)
    return _render(request, "consent.html", user=user, episode_id=episode_id, text=text, form={})


@router.post("/episodes/{episode_id}/consent", response_class=HTMLResponse)
async def consent_submit(
    request: Request,
    episode_id: uuid.UUID,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    form = await _form(request)
    values = {
        "signed_by": str(form.get("signed_by") or "patient"),
        "signer_name": str(form.get("signer_name") or ""),
        "method": "typed_name_and_tick",
        "typed_name": str(form.get("typed_name") or ""),
        "ticked": _checked(form, "ticked"),
        "copy_given": _checked(form, "copy_given"),
        "text_sha256": str(form.get("text_sha256") or "") or None,
    }
    try:
        service.record_consent(store, catalog, user, episode_id, _validate(service.ConsentIn, values))
    except InputError as error:
        text = service.consent_preview(store, catalog, user, episode_id)
        return _render(
            request,
            "consent.html",
            422,
            user=user,
            episode_id=episode_id,
            text=text,
            form=values,
            error=error.to_dict(),
        )
    return RedirectResponse(f"/records/episodes/{episode_id}", status_code=303)


# -- visits ----------------------------------------------------------------------------------------------
def visit_from_form(form: FormData) -> dict[str, Any]:
    """The visit form's fields as the body of a visit (blank needling and event rows are left out)."""
    needling = []
    for row in range(NEEDLING_ROWS):
        muscle = str(form.get(f"muscle_{row}") or "").strip()
        if not muscle:
            continue
        field = f"needling.{len(needling)}"
        entry = {
            "muscle": muscle,
            "side": str(form.get(f"side_{row}") or "right"),
            "needles": _number(form, f"needles_{row}", int, f"{field}.needles"),
            "length_mm": _number(form, f"length_{row}", float, f"{field}.length_mm"),
            "gauge": _number(form, f"gauge_{row}", float, f"{field}.gauge"),
            "depth_mm": _number(form, f"depth_{row}", float, f"{field}.depth_mm"),
            "technique": str(form.get(f"technique_{row}") or "static"),
            "twitch_responses": _number(form, f"twitch_{row}", int, f"{field}.twitch_responses") or 0,
            "electrical_stimulation": _checked(form, f"estim_{row}"),
            "ultrasound_guided": _checked(form, f"us_{row}"),
        }
        needling.append({key: value for key, value in entry.items() if value is not None})
    events = [
        {"category": str(form.get(f"event_{row}")), "severity": str(form.get(f"severity_{row}") or "mild")}
        for row in range(EVENT_ROWS)
        if str(form.get(f"event_{row}") or "").strip()
    ]
    body: dict[str, Any] = {
        "visit_date": str(form.get("visit_date") or "") or None,
        "subjective": str(form.get("subjective") or "") or None,
        "pain_before": _number(form, "pain_before", int),
        "pain_after": _number(form, "pain_after", int),
        "heat_before": _checked(form, "heat_before"),
        "heat_after": _checked(form, "heat_after"),
        "needling": needling,
        "needles_out": _number(form, "needles_out", int) or 0,
        "clean_technique": _checked(form, "clean_technique"),
        "sharps_disposed": _checked(form, "sharps_disposed"),
        "adverse_events": events,
        "plan": str(form.get("plan") or "") or None,
    }
    reason = str(form.get("override_reason") or "").strip()
    if reason:
        body["override"] = {"reason": reason}
    return body


@router.post("/episodes/{episode_id}/visits", response_class=HTMLResponse)
async def visit_submit(
    request: Request,
    episode_id: uuid.UUID,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    form = await _form(request)
    try:
        visit = service.record_visit(
            store, catalog, user, episode_id, _validate(service.VisitIn, visit_from_form(form))
        )
    except (InputError, RecordsError) as error:
        if isinstance(error, RecordsError) and error.status in (403, 404):
            raise
        view = service.get_episode(store, user, episode_id)
        err = (
            error.to_dict()
            if isinstance(error, InputError)
            else {"field": error.field, "message": error.message}
        )
        values = {key: form.get(key) for key in form}
        status = 422 if isinstance(error, InputError) else error.status
        return _render(
            request,
            "episode.html",
            status,
            user=user,
            form=values,
            error=err,
            **_episode_context(catalog, view),
        )
    return RedirectResponse(f"/records/visits/{visit.id}", status_code=303)


def _visit_context(store: Store, user: User, catalog: Catalog, visit_id: uuid.UUID) -> dict[str, Any]:
    note = service.visit_note(store, user, visit_id)
    return {"note": note, "labels": note_labels(note, catalog)}


@router.get("/visits/{visit_id}", response_class=HTMLResponse)
def visit_page(
    request: Request,
    visit_id: uuid.UUID,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    from dryneedling.web.followups import visit_followups_context

    return _render(
        request,
        "visit.html",
        user=user,
        **_visit_context(store, user, catalog, visit_id),
        **visit_followups_context(request, store, catalog, user, visit_id),
    )


@router.post("/visits/{visit_id}/sign", response_class=HTMLResponse)
async def visit_sign(
    request: Request,
    visit_id: uuid.UUID,
    background: BackgroundTasks,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    await _form(request)
    signed = await run_in_threadpool(service.sign_visit_with_links, store, user, visit_id, catalog)
    from dryneedling.web.followups import mail_links_after_answer

    mail_links_after_answer(background, request, store, catalog, user, signed)
    return RedirectResponse(f"/records/visits/{visit_id}", status_code=303)


@router.post("/visits/{visit_id}/amendments", response_class=HTMLResponse)
async def visit_amend(
    request: Request,
    visit_id: uuid.UUID,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    from dryneedling.web.followups import visit_followups_context

    form = await _form(request)
    try:
        service.amend_visit(
            store, user, visit_id, _validate(service.AmendmentIn, {"text": str(form.get("text") or "")})
        )
    except InputError as error:
        return _render(
            request,
            "visit.html",
            422,
            user=user,
            error=error.to_dict(),
            **_visit_context(store, user, catalog, visit_id),
            **visit_followups_context(request, store, catalog, user, visit_id),
        )
    return RedirectResponse(f"/records/visits/{visit_id}", status_code=303)


@router.get("/visits/{visit_id}/note.pdf")
def visit_pdf(
    visit_id: uuid.UUID,
    paper: str = "A4",
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    from dryneedling.render.note import PAPER_SIZES, render_note_pdf

    note = service.visit_note(store, user, visit_id, action="print")
    pdf = render_note_pdf(
        note.model_dump(mode="json"), note_labels(note, catalog), paper if paper in PAPER_SIZES else "A4"
    )
    return Response(pdf, media_type="application/pdf", headers={"Cache-Control": "no-store"})
