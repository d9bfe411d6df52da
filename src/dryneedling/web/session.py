"""Signed-cookie sessions for the records pages, and their CSRF tokens.

The cookie (Starlette's SessionMiddleware, signed with itsdangerous) holds only the user's id and clinic id
and a CSRF token; it is HttpOnly and SameSite=Lax. It is read under ``/records`` (the pages) and ``/api`` (the
records JSON API, which accepts a session as well as a bearer token); every other page stays cookie-free. The signing key is ``DRYNEEDLING_SECRET_KEY`` or, when it
is not set, a random key kept in ``dryneedling.secret`` in ``DRYNEEDLING_DATA_DIR`` (made on first start,
readable by its owner only), so sessions survive a restart with no set-up.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from dryneedling.errors import InputError
from dryneedling.records.errors import Forbidden

SECRET_ENV = "DRYNEEDLING_SECRET_KEY"
SECRET_FILE = "dryneedling.secret"
SESSION_HOURS = 12
MIN_SECRET = 32
RECORDS_PREFIX = "/records"
SESSION_PREFIXES = (RECORDS_PREFIX, "/api/")
SESSION_COOKIE = "dn_session"
CSRF_HEADER = "X-CSRF-Token"


def secret_key(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    configured = environ.get(SECRET_ENV, "").strip()
    if configured:
        if len(configured) < MIN_SECRET:
            raise InputError(SECRET_ENV, f"must be at least {MIN_SECRET} characters")
        return configured
    path = Path(environ.get("DRYNEEDLING_DATA_DIR", "").strip() or ".") / SECRET_FILE
    if path.is_file():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key


class RecordsSessions:
    """ASGI middleware: a signed-cookie session under ``/records`` and ``/api/`` only (the other pages stay
    cookie-free; the cookie's path is ``/`` so that a browser sends it to the JSON API too).

    The key is read on the first records request, so importing or building the app writes nothing.
    """

    def __init__(self, app: ASGIApp, key: str | None = None) -> None:
        self.app = app
        self.key = key
        self.sessions: SessionMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(SESSION_PREFIXES)
            or _api_without_cookie(scope)
        ):
            await self.app(scope, receive, send)
            return
        if self.sessions is None:
            self.sessions = SessionMiddleware(
                self.app,
                secret_key=self.key or secret_key(),
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_HOURS * 3600,
                path="/",
                same_site="lax",
            )
        await self.sessions(scope, receive, send)


def _api_without_cookie(scope: Scope) -> bool:
    """A JSON API request that brings no session cookie (a bearer-token client): it has no session to read,
    and the API never starts one (sign-in is a page), so the session layer is skipped."""
    if not scope["path"].startswith("/api/"):
        return False
    marker = SESSION_COOKIE.encode() + b"="
    return not any(name == b"cookie" and marker in value for name, value in scope["headers"])


def install_sessions(app: FastAPI, key: str | None = None) -> None:
    app.add_middleware(RecordsSessions, key=key)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


FORM_EXPIRED = "the form expired or did not come from this site; reload the page and try again"


def check_csrf(request: Request, submitted: str | None, message: str = FORM_EXPIRED) -> None:
    expected = request.session.get("csrf")
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise Forbidden(message)
