"""Signed-cookie sessions for the records pages, and their CSRF tokens.

The cookie (Starlette's SessionMiddleware, signed with itsdangerous) holds only a random session id and a
CSRF token; the session itself (user, times, revoked) is a row in the database
(:mod:`dryneedling.services.logins`), so it can expire and be ended from anywhere. The cookie is HttpOnly
and SameSite=Lax, and Secure when ``DRYNEEDLING_ENV=production``. It is read under ``/records`` (the pages) and ``/api`` (the
records JSON API, which accepts a session as well as a bearer token); every other page stays cookie-free. The signing key is ``DRYNEEDLING_SECRET_KEY`` or, when it
is not set, a random key kept in ``dryneedling.secret`` in ``DRYNEEDLING_DATA_DIR`` (made on first start,
readable by its owner only), so sessions survive a restart with no set-up. In production
(``DRYNEEDLING_ENV=production``) the key must be set: the app refuses to start without it.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from dryneedling.records.errors import Forbidden
from dryneedling.server_secret import (  # noqa: F401 (re-exported)
    ENV_ENV,
    MIN_SECRET,
    SECRET_ENV,
    SECRET_FILE,
    is_production,
    secret_key,
)
from dryneedling.services.logins import DEFAULT_POLICY, LoginPolicy

SESSION_HOURS = 12
RECORDS_PREFIX = "/records"
SESSION_PREFIXES = (RECORDS_PREFIX, "/api/")
SESSION_COOKIE = "dn_session"
CSRF_HEADER = "X-CSRF-Token"


class RecordsSessions:
    """ASGI middleware: a signed-cookie session under ``/records`` and ``/api/`` only (the other pages stay
    cookie-free; the cookie's path is ``/`` so that a browser sends it to the JSON API too).

    The key is read on the first records request, so importing or building the app writes nothing.
    """

    def __init__(
        self, app: ASGIApp, key: str | None = None, secure: bool = False, hours: int = SESSION_HOURS
    ) -> None:
        self.app = app
        self.hours = hours
        self.key = key
        self.secure = secure
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
                max_age=self.hours * 3600,
                path="/",
                same_site="lax",
                https_only=self.secure,
            )
        await self.sessions(scope, receive, send)


def _api_without_cookie(scope: Scope) -> bool:
    """A JSON API request that brings no session cookie (a bearer-token client): it has no session to read,
    and the API never starts one (sign-in is a page), so the session layer is skipped."""
    if not scope["path"].startswith("/api/"):
        return False
    marker = SESSION_COOKIE.encode() + b"="
    return not any(name == b"cookie" and marker in value for name, value in scope["headers"])


def install_sessions(
    app: FastAPI, key: str | None = None, secure: bool = False, hours: int = SESSION_HOURS
) -> None:
    app.add_middleware(RecordsSessions, key=key, secure=secure, hours=hours)


SESSION_ID = "sid"


def login_policy(request: Request) -> LoginPolicy:
    """The app's rate limit and session lifetimes (from the web settings)."""
    return getattr(request.app.state, "login_policy", None) or DEFAULT_POLICY


def session_id(request: Request) -> str | None:
    """The random id of the server-side session (:mod:`dryneedling.services.logins`), or None."""
    value = (request.scope.get("session") or {}).get(SESSION_ID)
    return value if isinstance(value, str) else None


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
