"""One error shape for the whole web app: ``{"error": {field, message, value, suggestions, choices}}``.

The core raises :class:`~dryneedling.errors.InputError`; FastAPI's own validation errors, malformed JSON,
unknown paths and unexpected failures are converted into the same shape so a client handles one format.
:class:`BodyGuard` checks every request body before any endpoint (or pydantic) sees it: at most
:data:`MAX_BODY_BYTES`, and a JSON body must parse strictly (finite numbers, nesting at most
:data:`~dryneedling.safe_input.MAX_DEPTH` deep).
"""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dryneedling.errors import InputError, plain_value, validation_message
from dryneedling.safe_input import MAX_DEPTH, loads_json

log = logging.getLogger(__name__)

# Parts of a validation error location that say where the value came from, not which field it is.
_LOCATION_PREFIXES = {"body", "query", "path", "header", "cookie"}


class ErrorDetail(BaseModel):
    """What went wrong, which input field it concerns (None when no field is to blame) and what is valid."""

    field: str | None
    message: str
    value: Any = None
    suggestions: list[str] = []
    choices: list[str] | None = None
    errors: list[dict[str, Any]] | None = Field(
        None, description="Every problem of a profile, each in this shape (the first is repeated above)."
    )


class ErrorResponse(BaseModel):
    """The single error envelope returned by every endpoint."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ErrorResponse,
        "description": "Bad input: names the field and the valid or closest choices",
    },
    413: {"model": ErrorResponse, "description": "Request body larger than the limit"},
}

MAX_BODY_BYTES = 1_000_000
"""Largest request body accepted (a profile is about a kilobyte)."""


def parse_json_body(raw: bytes | str, limit: int = MAX_DEPTH) -> Any:
    """A request body parsed strictly as JSON; InputError (HTTP 422) naming the problem otherwise."""
    try:
        return loads_json(raw, field="body", limit=limit)
    except json.JSONDecodeError as exc:
        raise InputError("body", f"malformed JSON: {exc}") from None


def _is_json(headers: Headers) -> bool:
    # FastAPI parses a body without a content type as JSON too.
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type in ("", "application/json") or media_type.endswith("+json")


def error_body(
    field: str | None,
    message: str,
    value: Any = None,
    suggestions: list[str] | None = None,
    choices: list[str] | None = None,
) -> dict[str, Any]:
    """Build the JSON error envelope."""
    return {
        "error": {
            "field": field,
            "message": message,
            "value": plain_value(value),
            "suggestions": suggestions or [],
            "choices": choices,
        }
    }


def validation_error_body(error: RequestValidationError) -> dict[str, Any]:
    """Turn FastAPI's first validation error into the envelope, naming the field by its dotted path."""
    details = error.errors()
    first = details[0] if details else {"loc": (), "msg": "invalid request", "type": ""}
    if first.get("type") == "json_invalid":
        return error_body("body", "malformed JSON: " + str(first.get("ctx", {}).get("error", first["msg"])))
    loc = [str(part) for part in first.get("loc", ())]
    while loc and loc[0] in _LOCATION_PREFIXES:
        loc = loc[1:]
    field = ".".join(loc) or "body"
    ctx = first.get("ctx") or {}
    choices = None
    expected = ctx.get("expected")
    if isinstance(expected, str) and "'" in expected:
        choices = sorted(
            part.strip(" '") for part in expected.replace(" or ", ",").split(",") if part.strip(" '")
        )
    message = validation_message(first)
    return error_body(
        field, message, first.get("input") if first.get("type") != "missing" else None, None, choices
    )


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api") or request.url.path == "/openapi.json":
        return False
    return "text/html" in request.headers.get("accept", "")


def _html_error(
    request: Request, body: dict[str, Any], status: int, headers: dict[str, str] | None
) -> HTMLResponse:
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "error.html", {"error": body["error"], "status": status}, status_code=status, headers=headers
    )


def _respond(
    request: Request, body: dict[str, Any], status: int, headers: dict[str, str] | None = None
) -> JSONResponse | HTMLResponse:
    if _wants_html(request):
        return _html_error(request, body, status, headers)
    return JSONResponse(body, status_code=status, headers=headers)


class BodyGuard:
    """ASGI middleware: refuse a body over ``max_bytes`` (413) and a JSON body that does not parse strictly
    (422: malformed, non-finite numbers, nested deeper than ``max_depth``), in the one error shape, before
    routing, so every JSON endpoint gets the same rule. Accepted bodies are replayed to the app unchanged.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_DEPTH) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        too_large = error_body("body", f"request body is larger than the limit of {self.max_bytes} bytes")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, too_large, 413, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(scope, too_large, 413, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _is_json(headers):
            try:
                parse_json_body(body, self.max_depth)
            except InputError as error:
                await self._reject(scope, {"error": error.to_dict()}, 422, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _reject(scope: Scope, body: dict[str, Any], status: int, send: Send) -> None:
        async def no_body() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        response = _respond(
            Request(scope, no_body), body, status, {"Connection": "close"} if status == 413 else None
        )
        await response(scope, no_body, send)


def install_body_guard(app: FastAPI, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_DEPTH) -> None:
    """Check every request body (size, strict JSON) before routing; see :class:`BodyGuard`."""
    app.add_middleware(BodyGuard, max_bytes=max_bytes, max_depth=max_depth)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this path: Starlette names only the first matching route's, which is
    wrong when one path has several routes (GET and PATCH /api/visits/{id})."""
    allowed: set[str] = set()
    for route in request.app.router.routes:
        methods = getattr(route, "methods", None)
        if methods and route.matches(request.scope)[0] != Match.NONE:
            allowed |= set(methods)
    return sorted(allowed)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the same envelope (HTML page for browsers)."""

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError):
        return _respond(request, {"error": exc.to_dict()}, 422)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        return _respond(request, validation_error_body(exc), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            message = f"not found: {request.url.path}"
        elif exc.status_code == 405:
            message = f"method {request.method} not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        # Keep the exception's headers: a 405 must say which methods are allowed (RFC 9110 Allow).
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
        return _respond(request, error_body(None, message), exc.status_code, headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        from dryneedling.web.logs import loggable_path

        # The path without a follow-up token; the type and place of the error, not its message or the
        # values it carried (a database error's message can quote a statement's values).
        log.error(
            "unexpected error on %s: %s\n%s",
            loggable_path(request.url.path),
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        return _respond(request, error_body(None, "internal error; the request was not processed"), 500)
