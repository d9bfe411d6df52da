"""The account page of the records (``/records/account``): change the password, see and revoke personal
API tokens, make a new one (shown once), and sign out everywhere.

Every form carries the session's CSRF token; every change is made by :mod:`dryneedling.services.logins`.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dryneedling.errors import InputError
from dryneedling.records.entities import User
from dryneedling.records.errors import RecordsError
from dryneedling.records.repository import Store
from dryneedling.services import logins
from dryneedling.web.records import get_store
from dryneedling.web.records_pages import _form, _render, page_user
from dryneedling.web.session import session_id

router = APIRouter(prefix="/records", include_in_schema=False)


def _account(request: Request, user: User, store: Store, status_code: int = 200, **context: Any) -> Response:
    tokens = logins.list_tokens(store, user)
    return _render(request, "account.html", status_code, user=user, tokens=tokens, form={}, **context)


def _error(error: InputError | RecordsError) -> dict[str, Any]:
    if isinstance(error, InputError):
        return error.to_dict()
    return {"field": error.field, "message": error.message}


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, user: User = Depends(page_user), store: Store = Depends(get_store)):
    done = {"password": "Your password is changed; your other sessions are signed out."}.get(
        request.query_params.get("done", "")
    )
    return _account(request, user, store, done=done)


@router.post("/account/password", response_class=HTMLResponse)
async def password_submit(
    request: Request, user: User = Depends(page_user), store: Store = Depends(get_store)
) -> Response:
    form = await _form(request)
    new = str(form.get("new_password") or "")
    try:
        if new != str(form.get("new_password_again") or ""):
            raise InputError("new_password_again", "the two new passwords differ")
        logins.change_password(
            store, user, str(form.get("current_password") or ""), new, keep_session=session_id(request)
        )
    except (InputError, RecordsError) as error:
        status = 422 if isinstance(error, InputError) else error.status
        return _account(request, user, store, status, error=_error(error))
    return RedirectResponse("/records/account?done=password", status_code=303)


@router.post("/account/tokens", response_class=HTMLResponse)
async def token_submit(
    request: Request, user: User = Depends(page_user), store: Store = Depends(get_store)
) -> Response:
    form = await _form(request)
    raw_days = str(form.get("days") or "").strip()
    try:
        try:
            days = int(raw_days) if raw_days else None
        except ValueError:
            raise InputError("days", "must be a whole number of days", value=raw_days) from None
        token, _info = logins.issue_token(store, user, str(form.get("name") or ""), days)
    except InputError as error:
        return _account(request, user, store, 422, error=_error(error))
    return _account(request, user, store, new_token=token)


@router.post("/account/tokens/{token_id}/revoke", response_class=HTMLResponse)
async def token_revoke(
    request: Request, token_id: uuid.UUID, user: User = Depends(page_user), store: Store = Depends(get_store)
) -> Response:
    await _form(request)
    logins.revoke_token(store, user, token_id)
    return RedirectResponse("/records/account", status_code=303)


@router.post("/logout-everywhere")
async def logout_everywhere(
    request: Request, user: User = Depends(page_user), store: Store = Depends(get_store)
) -> Response:
    form = await _form(request)
    logins.sign_out_everywhere(store, user, revoke_tokens=form.get("tokens") in ("on", "true", "1"))
    request.session.clear()
    return RedirectResponse("/records/login", status_code=303)
