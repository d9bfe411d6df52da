"""The follow-up by link on the web (issue 11): the patient's page and its JSON twin (no account: the link's
token is the credential), the clinician's API and pages (a visit's follow-ups, the clinic's alerts, adverse
event drafts, settings) and the printable follow-up card.

Patient answers are sent ``Cache-Control: no-store`` and ``Referrer-Policy: no-referrer`` (the token must not
travel on in a Referer header) and are not indexed; they show a first name at most. The links' public base
is ``DRYNEEDLING_PUBLIC_URL`` (e.g. ``https://clinic.example.org``) or, unset, the base of the request.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from dryneedling.catalog import Catalog
from dryneedling.errors import InputError
from dryneedling.records.entities import User
from dryneedling.records.errors import Gone, NotFound, RecordsError
from dryneedling.records.followup import FollowUpAnswers, FollowUpEvent
from dryneedling.records.repository import Store
from dryneedling.services import followups as service
from dryneedling.web.deps import get_catalog
from dryneedling.web.errors import error_body
from dryneedling.web.records import RESPONSES, current_user, get_store, no_store
from dryneedling.web.records_pages import _form, _render, _validate, check_form_text, page_user

PUBLIC_URL_ENV = "DRYNEEDLING_PUBLIC_URL"
PATIENT_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


def check_public_url(value: str) -> str:
    """A public base URL: http(s), a host, no query or fragment; InputError naming the setting otherwise."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(
            PUBLIC_URL_ENV, "must be an http(s) URL such as https://clinic.example.org", value=value
        )
    return value.strip().rstrip("/")


def install_followups(app: FastAPI) -> None:
    """Read and check the public URL now (a bad value stops the app), and add the routers."""
    raw = os.environ.get(PUBLIC_URL_ENV, "").strip()
    app.state.public_url = check_public_url(raw) if raw else None
    app.include_router(api_router)
    app.include_router(patient_router)
    app.include_router(pages_router)


def public_base(request: Request) -> str:
    return getattr(request.app.state, "public_url", None) or str(request.base_url).rstrip("/")


def mail_links_after_answer(
    background: BackgroundTasks, request: Request, store: Store, catalog: Catalog, user: User, signed: Any
) -> None:
    """After signing (``signed``: a :class:`~dryneedling.services.records.SignedVisit`): when its links are to
    be mailed, send them once the answer has gone, so a slow mail server holds no clinician's request
    (failures are recorded on the links, never raised)."""
    if signed.mail_links:
        background.add_task(service.send_links, store, catalog, user, signed.visit.id, public_base(request))


# -- JSON shapes -----------------------------------------------------------------------------------------
class FollowUpOut(BaseModel):
    id: uuid.UUID
    due_at: datetime
    url: str = Field(description="The patient's link (single use, expires)")
    status: Literal["pending", "answered", "expired"]
    hours_after: int
    expires_at: datetime
    answered_at: datetime | None
    answers: FollowUpAnswers | None
    red_flags: list[str] = Field(description="Warning sign ids the answers raised")
    alert_open: bool
    email_sent_at: datetime | None
    email_error: str | None


class WarningOut(BaseModel):
    id: str
    urgency: str
    patient_text: str


class AnswerOut(BaseModel):
    status: Literal["answered"]
    red_flag: bool
    warnings: list[WarningOut] = Field(description="What the patient must do now (empty: no red flag)")
    message: str


class SettingsOut(BaseModel):
    hours: list[int]
    link_days: int
    phone: str | None
    smtp_host: str | None
    smtp_port: int
    smtp_from: str | None


def _settings_out(view: service.SettingsView) -> SettingsOut:
    s = view.settings
    return SettingsOut(
        hours=s.hours,
        link_days=s.link_days,
        phone=view.clinic.phone,
        smtp_host=s.smtp_host,
        smtp_port=s.smtp_port,
        smtp_from=s.smtp_from,
    )


def _lines_out(request: Request, view: service.VisitFollowUps) -> list[FollowUpOut]:
    base = public_base(request)
    return [
        FollowUpOut(
            **line.followup.model_dump(
                include={
                    "id",
                    "due_at",
                    "hours_after",
                    "expires_at",
                    "answered_at",
                    "answers",
                    "red_flags",
                    "email_sent_at",
                    "email_error",
                }
            ),
            url=base + line.path,
            status=line.status,  # type: ignore[arg-type]
            alert_open=line.followup.alert_open,
        )
        for line in view.lines
    ]


# -- the clinician's API ---------------------------------------------------------------------------------
api_router = APIRouter(
    prefix="/api", tags=["follow-ups"], responses=RESPONSES, dependencies=[Depends(no_store)]
)


@api_router.get(
    "/visits/{visit_id}/followups", response_model=list[FollowUpOut], summary="A visit's follow-ups"
)
def visit_followups(
    request: Request,
    visit_id: uuid.UUID,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> list[FollowUpOut]:
    return _lines_out(request, service.visit_followups(store, catalog, user, visit_id))


@api_router.get(
    "/visits/{visit_id}/followup-events",
    response_model=list[FollowUpEvent],
    summary="Adverse events the patient reported at this visit's follow-ups",
)
def visit_followup_events(
    visit_id: uuid.UUID,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> list[FollowUpEvent]:
    return service.visit_followups(store, catalog, user, visit_id).events


@api_router.post(
    "/followup-events/{event_id}/decision",
    response_model=FollowUpEvent,
    summary="Confirm or dismiss a patient-reported adverse event",
)
def decide_event(
    event_id: uuid.UUID,
    body: service.DecisionIn,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
) -> FollowUpEvent:
    return service.decide_event(store, user, event_id, body)


class AlertOut(BaseModel):
    followup_id: uuid.UUID
    visit_id: uuid.UUID
    patient_id: uuid.UUID
    answered_at: datetime | None
    red_flags: list[str]
    events: list[FollowUpEvent]


@api_router.get("/followups/alerts", response_model=list[AlertOut], summary="Unresolved red-flag answers")
def alerts(user: User = Depends(current_user), store: Store = Depends(get_store)) -> list[AlertOut]:
    return [
        AlertOut(
            followup_id=a.followup.id,
            visit_id=a.followup.visit_id,
            patient_id=a.followup.patient_id,
            answered_at=a.followup.answered_at,
            red_flags=a.followup.red_flags,
            events=a.events,
        )
        for a in service.open_alerts(store, user)
    ]


@api_router.post("/followups/{followup_id}/resolve", response_model=FollowUpOut, summary="Resolve an alert")
def resolve(
    request: Request,
    followup_id: uuid.UUID,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> FollowUpOut:
    followup = service.resolve_alert(store, user, followup_id)
    view = service.visit_followups(store, catalog, user, followup.visit_id)
    return next(line for line in _lines_out(request, view) if line.id == followup_id)


@api_router.get(
    "/clinic/followup-settings", response_model=SettingsOut, summary="The clinic's follow-up settings"
)
def get_settings(
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> SettingsOut:
    return _settings_out(service.get_settings(store, catalog, user))


@api_router.put("/clinic/followup-settings", response_model=SettingsOut, summary="Change them (owners)")
def put_settings(
    body: service.SettingsIn,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> SettingsOut:
    return _settings_out(service.update_settings(store, catalog, user, body))


# -- the patient's page and its JSON twin ----------------------------------------------------------------
patient_router = APIRouter(tags=["follow-ups"])


def _patient_page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    response = request.app.state.templates.TemplateResponse(
        request, f"followup/{template}", context, status_code=status_code
    )
    response.headers.update(PATIENT_HEADERS)
    return response


def _gone_page(request: Request, catalog: Catalog, error: RecordsError) -> HTMLResponse:
    rules = service.followup_rules(catalog)
    if isinstance(error, Gone):
        return _patient_page(request, "gone.html", 410, page=rules.page, message=error.message)
    return _patient_page(request, "not_found.html", 404, page=rules.page)


def _form_context(catalog: Catalog, found: service.PatientFollowUp, token: str) -> dict[str, Any]:
    rules = service.followup_rules(catalog)
    return {
        "page": rules.page,
        "questions": rules.questions,
        "first_name": found.first_name,
        "hours": found.followup.hours_after,
        "action": f"/followup/{token}",
        "call": service.call_text(rules, found.clinic_name, found.clinic_phone),
    }


@patient_router.get("/followup/{token}", response_class=HTMLResponse, include_in_schema=False)
def patient_page(
    request: Request, token: str, store: Store = Depends(get_store), catalog: Catalog = Depends(get_catalog)
):
    try:
        found = service.open_followup(store, catalog, token)
    except (Gone, NotFound) as error:
        return _gone_page(request, catalog, error)
    return _patient_page(request, "form.html", values={}, **_form_context(catalog, found, token))


def answers_from_form(form: Any) -> dict[str, Any]:
    """The patient's form as answers: radio buttons give "yes"/"no", the scale a number (blank: missing)."""
    check_form_text(form)  # a NUL would reach the database (PostgreSQL: a server error)
    answers: dict[str, Any] = {}
    raw = str(form.get("soreness") or "").strip()
    if raw:
        try:
            answers["soreness"] = int(raw)
        except ValueError:
            raise InputError("soreness", "must be a whole number from 0 to 10", value=raw) from None
    for name in ("bruising", "fainting", "breathless_or_chest_pain", "numbness_or_weakness", "worse_pain"):
        value = form.get(name)
        if value in ("yes", "no"):
            answers[name] = value == "yes"
        elif value:
            raise InputError(name, "must be yes or no", value=str(value))
    if form.get("bleeding"):
        answers["bleeding"] = str(form.get("bleeding"))
    note = str(form.get("note") or "").strip()
    answers["note"] = note or None
    return answers


@patient_router.post("/followup/{token}", response_class=HTMLResponse, include_in_schema=False)
async def patient_submit(
    request: Request, token: str, store: Store = Depends(get_store), catalog: Catalog = Depends(get_catalog)
):
    form = await request.form()
    try:
        found = service.open_followup(store, catalog, token)
    except (Gone, NotFound) as error:
        return _gone_page(request, catalog, error)
    try:
        result = service.answer_followup(store, catalog, token, answers_from_form(form))
    except InputError as error:
        values = {key: form.get(key) for key in form}
        return _patient_page(
            request,
            "form.html",
            422,
            values=values,
            error=error.to_dict(),
            **_form_context(catalog, found, token),
        )
    except (Gone, NotFound) as error:
        return _gone_page(request, catalog, error)
    rules = service.followup_rules(catalog)
    return _patient_page(
        request,
        "done.html",
        page=rules.page,
        warnings=result.warnings,
        call=service.call_text(rules, found.clinic_name, found.clinic_phone),
    )


class QuestionOut(BaseModel):
    id: str
    kind: str
    patient_text: str
    min: int | None = None
    max: int | None = None
    choices: list[str] = Field(default_factory=list)


class FollowUpFormOut(BaseModel):
    first_name: str
    hours_after: int
    due_at: datetime
    expires_at: datetime
    questions: list[QuestionOut]
    call: str


@patient_router.get(
    "/api/followup/{token}",
    response_model=FollowUpFormOut,
    responses={
        **RESPONSES,
        410: {"description": "The link was used or has expired; the message says whom to call"},
    },
    summary="What the patient's link asks (no account)",
)
def patient_questions(token: str, store: Store = Depends(get_store), catalog: Catalog = Depends(get_catalog)):
    try:
        found = service.open_followup(store, catalog, token)
    except RecordsError as error:
        return JSONResponse(error_body(error.field, error.message), error.status, headers=PATIENT_HEADERS)
    rules = service.followup_rules(catalog)
    body = FollowUpFormOut(
        first_name=found.first_name,
        hours_after=found.followup.hours_after,
        due_at=found.followup.due_at,
        expires_at=found.followup.expires_at,
        questions=[
            QuestionOut(
                id=q.id,
                kind=q.kind,
                patient_text=q.patient_text,
                min=q.min,
                max=q.max,
                choices=[c.id for c in q.choices],
            )
            for q in rules.questions
        ],
        call=service.call_text(rules, found.clinic_name, found.clinic_phone),
    )
    return JSONResponse(body.model_dump(mode="json"), headers=PATIENT_HEADERS)


@patient_router.post(
    "/api/followup/{token}",
    status_code=201,
    response_model=AnswerOut,
    responses={
        **RESPONSES,
        410: {"description": "The link was used or has expired; the message says whom to call"},
    },
    summary="Answer a follow-up (the patient's link; no account)",
)
async def patient_answer(
    request: Request, token: str, store: Store = Depends(get_store), catalog: Catalog = Depends(get_catalog)
):
    from dryneedling.web.errors import parse_json_body

    try:
        raw = parse_json_body(await request.body())
        result = service.answer_followup(store, catalog, token, raw)
    except InputError as error:
        return JSONResponse({"error": error.to_dict()}, 422, headers=PATIENT_HEADERS)
    except RecordsError as error:
        return JSONResponse(error_body(error.field, error.message), error.status, headers=PATIENT_HEADERS)
    rules = service.followup_rules(catalog)
    body = AnswerOut(
        status="answered",
        red_flag=bool(result.warnings),
        warnings=[
            WarningOut(id=w.id, urgency=w.urgency, patient_text=w.patient_text) for w in result.warnings
        ],
        message=rules.page.red_flag_intro if result.warnings else rules.page.thanks,
    )
    return JSONResponse(body.model_dump(mode="json"), 201, headers=PATIENT_HEADERS)


# -- the clinician's pages -------------------------------------------------------------------------------
pages_router = APIRouter(prefix="/records", include_in_schema=False)


def visit_followups_context(
    request: Request, store: Store, catalog: Catalog, user: User, visit_id: uuid.UUID
) -> dict[str, Any]:
    """What the visit page's follow-up section needs (links as URL and QR code)."""
    from dryneedling.render.followup_card import qr_svg

    view = service.visit_followups(store, catalog, user, visit_id)
    base = public_base(request)
    rows = [
        {
            "line": line,
            "url": base + line.path,
            "qr": qr_svg(base + line.path, scale=3) if line.status == "pending" else "",
        }
        for line in view.lines
    ]
    categories = {c.id: c.label for c in catalog.practice.adverse_events}
    return {
        "fu": view,
        "fu_rows": rows,
        "fu_categories": categories,
        "severities": catalog.practice.severities,
    }


@pages_router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    return _render(
        request,
        "alerts.html",
        user=user,
        alerts=service.open_alerts(store, user),
        drafts=service.draft_events(store, user),
        labels=service.warning_labels(catalog),
        categories={c.id: c.label for c in catalog.practice.adverse_events},
        severities=catalog.practice.severities,
    )


def _back(form: Any, default: str) -> str:
    target = str(form.get("back") or "")
    # Only a path of this site (no scheme, no host) may be a redirect target.
    return target if target.startswith("/records/") and "//" not in target else default


@pages_router.post("/followups/{followup_id}/resolve")
async def resolve_submit(
    request: Request,
    followup_id: uuid.UUID,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
) -> Response:
    form = await _form(request)
    service.resolve_alert(store, user, followup_id)
    return RedirectResponse(_back(form, "/records/alerts"), status_code=303)


@pages_router.post("/followup-events/{event_id}/decision")
async def decision_submit(
    request: Request, event_id: uuid.UUID, user: User = Depends(page_user), store: Store = Depends(get_store)
) -> Response:
    form = await _form(request)
    data = _validate(
        service.DecisionIn,
        {"decision": str(form.get("decision") or ""), "severity": str(form.get("severity") or "") or None},
    )
    service.decide_event(store, user, event_id, data)
    return RedirectResponse(_back(form, "/records/alerts"), status_code=303)


@pages_router.get("/followup-settings", response_class=HTMLResponse)
def settings_page(
    request: Request,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    view = service.get_settings(store, catalog, user)
    return _render(request, "followup_settings.html", user=user, form=_settings_out(view).model_dump())


@pages_router.post("/followup-settings", response_class=HTMLResponse)
async def settings_submit(
    request: Request,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    form = await _form(request)
    values = {
        key: str(form.get(key) or "").strip()
        for key in ("hours", "link_days", "phone", "smtp_host", "smtp_port", "smtp_from")
    }
    try:
        try:
            hours = [int(part) for part in values["hours"].replace(",", " ").split()]
        except ValueError:
            raise InputError(
                "hours", "must be whole numbers of hours, e.g. 24, 48", value=values["hours"]
            ) from None
        numbers = {}
        for name in ("link_days", "smtp_port"):
            if values[name]:
                try:
                    numbers[name] = int(values[name])
                except ValueError:
                    raise InputError(name, "must be a whole number", value=values[name]) from None
        data = _validate(
            service.SettingsIn,
            {
                "hours": hours,
                "phone": values["phone"] or None,
                "smtp_host": values["smtp_host"] or None,
                "smtp_from": values["smtp_from"] or None,
                **numbers,
            },
        )
        service.update_settings(store, catalog, user, data)
    except InputError as error:
        return _render(request, "followup_settings.html", 422, user=user, form=values, error=error.to_dict())
    return RedirectResponse("/records/followup-settings?saved=1", status_code=303)


def _card(
    request: Request, store: Store, catalog: Catalog, user: User, visit_id: uuid.UUID
) -> dict[str, Any]:
    rules = service.followup_rules(catalog)
    view = service.visit_followups(store, catalog, user, visit_id)
    pending = [line for line in view.lines if line.status == "pending"]
    if not pending:
        raise NotFound("pending follow-up")
    settings = service.get_settings(store, catalog, user)
    base = public_base(request)
    signs = {sign for rule in rules.red_flags for sign in rule.warning_signs}
    return {
        "title": rules.page.card_title,
        "text": rules.page.card_text,
        "links": [
            {
                "heading": rules.page.hours_text.format(hours=line.followup.hours_after),
                "url": base + line.path,
                "expires": f"Open until {line.followup.expires_at:%d %B %Y}.",
            }
            for line in pending
        ],
        "soreness": rules.page.soreness_text,
        "warnings": [
            w.patient_text
            for w in service.patient_warnings(
                catalog, [s.id for s in catalog.guidance.aftercare.warning_signs if s.id in signs]
            )
        ],
        "emergency": rules.page.emergency_text,
        "call": service.call_text(rules, settings.clinic.name, settings.clinic.phone),
    }


@pages_router.get("/visits/{visit_id}/followup-card.pdf")
def card_pdf(
    request: Request,
    visit_id: uuid.UUID,
    paper: Literal["A4", "Letter"] = Query("A4"),
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    from dryneedling.render.followup_card import render_card_pdf

    pdf = render_card_pdf(_card(request, store, catalog, user, visit_id), paper)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'inline; filename="after-your-visit.pdf"',
        },
    )
