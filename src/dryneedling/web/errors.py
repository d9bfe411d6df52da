"""One error shape for the whole web app: ``{"error": {field, message, value, suggestions, choices}}``.

The core raises :class:`~dryneedling.errors.InputError`; FastAPI's own validation errors, malformed JSON,
unknown paths and unexpected failures are converted into the same shape so a client handles one format.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from dryneedling.errors import InputError

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
}


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
            "value": value if isinstance(value, str | int | float | bool | type(None)) else str(value),
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
    message = first.get("msg", "invalid value")
    if first.get("type") == "missing":
        message = "is required"
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
        return _respond(request, error_body(None, message), exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return _respond(request, error_body(None, "internal error; the request was not processed"), 500)
