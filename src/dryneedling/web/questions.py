"""Readers' questions in the web app: the form and the answers under each /learn topic page, and the
moderation queue at /records/questions (a thin shell over :mod:`dryneedling.services.questions`).

The public pages serve the oldest clinic that turned questions on (one clinic per install: that clinic).
The public form sets no cookie: its time-to-fill token is signed with the app's secret; the rate limiter
lives on ``app.state``. Nothing about the reader (address, name, e-mail) is logged. Answers and questions
are shown as escaped plain text: no link in them is ever made clickable.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dryneedling.catalog import Catalog
from dryneedling.errors import InputError
from dryneedling.questions.spam import FormClock
from dryneedling.records.entities import User
from dryneedling.records.errors import RecordsError
from dryneedling.records.repository import Store
from dryneedling.services import learn as learn_service
from dryneedling.services import questions as service
from dryneedling.web.deps import get_catalog
from dryneedling.web.records import get_store, records_store
from dryneedling.web.records_pages import _form, _render, page_user

router = APIRouter(include_in_schema=False)


def desk(request: Request) -> service.QuestionDesk:
    """The app's question desk (form clock and rate limiter), made on first use and kept on app.state."""
    state = request.app.state
    if getattr(state, "question_desk", None) is None:
        from dryneedling.web.session import secret_key

        key = getattr(state, "session_key", None) or secret_key()
        state.question_desk = service.QuestionDesk(
            FormClock(hashlib.sha256(b"questions:" + key.encode()).digest())
        )
    return state.question_desk


def public_store(request: Request) -> Any:
    """The records store if this install has one; None (no clinic, no form) before the database exists, so a
    public page never creates a database."""
    if getattr(request.app.state, "records_store", None) is None:
        from dryneedling.db.settings import database_url

        url = database_url()
        if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).exists()):
            return None
    return records_store(request)


def questions_context(
    request: Request, slug: str, form: dict[str, str] | None = None, error: Any = None, thanks: bool = False
) -> dict[str, Any]:
    """What the topic page shows under the claims: approved answers and, when on, the question form."""
    store = public_store(request)
    clinic_id = service.public_clinic(store) if store is not None else None
    if clinic_id is None:
        return {"questions": None}
    return {
        "questions": {
            "answered": service.answered(store, clinic_id, slug),
            "token": desk(request).clock.issue(time.time()),
            "form": form or {},
            "error": error,
            "thanks": thanks,
        }
    }


@router.post("/learn/{slug}/questions", response_class=HTMLResponse)
async def ask(request: Request, slug: str, catalog: Catalog = Depends(get_catalog)) -> Response:
    """A reader's question: refused, or kept for moderation (never shown before a moderator approves it)."""
    store = public_store(request)
    clinic_id = service.public_clinic(store) if store is not None else None
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    values = {key: form.get(key, "") for key in ("text", "name", "email", "website", "form_token")}
    status, error = 200, None
    try:
        if clinic_id is None:
            raise InputError("question", "this site does not take questions")
        address = request.client.host if request.client else "unknown"
        service.ask(store, catalog, desk(request), clinic_id, {**values, "topic": slug}, address, time.time())
    except InputError as problem:
        status, error = 422, problem.to_dict()
    except RecordsError as problem:
        status, error = problem.status, {"field": problem.field, "message": problem.message}
    if error is None:
        return RedirectResponse(f"/learn/{slug}?asked=1#questions", status_code=303)
    page = learn_service.topic_page(catalog, slug)
    from dryneedling.web.learn import _common

    shown = {key: values[key] for key in ("text", "name", "email")}
    context = {"page": page, **_common(catalog), **questions_context(request, slug, shown, error)}
    return request.app.state.templates.TemplateResponse(
        request, "learn/topic.html", context, status_code=status, headers={"Cache-Control": "no-store"}
    )


# -- the moderation queue --------------------------------------------------------------------------------
def _queue(request: Request, store: Store, user: User, status: int = 200, **extra: Any) -> HTMLResponse:
    return _render(request, "questions.html", status, user=user, **service.queue(store, user), **extra)


@router.get("/records/questions", response_class=HTMLResponse)
def queue_page(request: Request, user: User = Depends(page_user), store: Store = Depends(get_store)):
    return _queue(request, store, user)


@router.post("/records/questions/settings")
async def settings_submit(
    request: Request, user: User = Depends(page_user), store: Store = Depends(get_store)
):
    form = await _form(request)
    service.set_enabled(store, user, form.get("enabled") == "on")
    return RedirectResponse("/records/questions", status_code=303)


@router.post("/records/questions/{question_id}", response_class=HTMLResponse)
async def decide_submit(
    request: Request,
    question_id: uuid.UUID,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
):
    form = await _form(request)
    action = form.get("action")
    if action not in ("approve", "reject"):
        raise InputError("action", "must be approve or reject")
    try:
        service.decide(store, user, question_id, action == "approve", str(form.get("answer") or ""))
    except InputError as error:
        return _queue(request, store, user, 422, error=error.to_dict(), failed=str(question_id))
    return RedirectResponse("/records/questions", status_code=303)
