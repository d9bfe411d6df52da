"""The FastAPI application: HTML pages (Jinja2 + vendored htmx) and a JSON API over the domain core.

The app is a thin shell: every answer comes from ``dryneedling.knowledge``, ``dryneedling.assessment``
and ``dryneedling.evidence``; rendering comes from ``dryneedling.render``. The stateless pages and
``POST /api/assess`` store nothing about a patient; the practice records (``/api/patients``, episodes,
visits; :mod:`dryneedling.web.records`) are kept in the database of :mod:`dryneedling.db`, behind API tokens.
Answers about a patient are sent ``no-store``.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from dryneedling import __version__
from dryneedling.catalog import Catalog, load_catalog
from dryneedling.web.errors import install_body_guard, install_error_handlers

WEB_DIR = Path(str(resources.files("dryneedling.web")))


NO_TELEMETRY = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}


class _QuietErrorsApp(FastAPI):
    """The app, without uvicorn's second report of an unexpected error.

    Starlette's outermost layer answers an unexpected error with the app's 500 handler (which logs the
    error's type and place, never its message) and then raises it again for the server, and uvicorn logs
    it once more with its message, which can carry what the request held (a name, a birth date). The 500
    has been sent by then, so the error stops here."""

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except Exception:
            if scope["type"] != "http":
                raise


def create_app(
    catalog: Catalog | None = None, records_store: object | None = None, session_key: str | None = None
) -> FastAPI:
    """Build the web app (pages under ``/``, JSON API under ``/api``, OpenAPI at ``/openapi.json``).

    The catalog is built once here (or passed in by tests) and handed to every request as a dependency.
    The practice records' store is passed in by tests; otherwise it is opened (and migrated) from the
    environment on the first records request (see :mod:`dryneedling.web.records`).
    """
    app = _QuietErrorsApp(
        title="dryneedling",
        version=__version__,
        description=(
            "Evidence-based dry needling decision support: cited referral atlas, graded evidence table and "
            "a personal assessment. Every error has the shape "
            '{"error": {"field", "message", "value", "suggestions", "choices"}}.'
        ),
        # The interactive docs load their scripts from a CDN; the OpenAPI document itself is served.
        docs_url=None,
        redoc_url=None,
        # FastAPI's own OpenTelemetry would start as soon as a provider or FASTAPI_OTEL_AUTO_CONFIGURE is
        # set: its spans carry full URLs (a patient search's name in ?q=) and its logs exception messages,
        # and its processors see request bodies. Health data must not leave that way, so it stays off.
        telemetry=NO_TELEMETRY,
    )
    app.state.catalog = catalog if catalog is not None else load_catalog()
    from dryneedling.web.settings import ENV_PREFIX, load_settings

    # The settings the pages use, read once at start and checked (a bad value stops the app, naming it).
    # Host and port are checked by `dryneedling serve`, whose options may override the environment.
    read_here = {ENV_PREFIX + name for name in ("PAPER", "ENV", "SESSION_IDLE_MINUTES", "SESSION_HOURS")}
    page_settings = {name: value for name, value in os.environ.items() if name in read_here}
    app.state.settings = settings = load_settings(page_settings)
    from datetime import timedelta

    from dryneedling.services.logins import LoginPolicy
    from dryneedling.web.session import secret_key

    if settings.production and session_key is None:
        secret_key()  # production: a missing DRYNEEDLING_SECRET_KEY stops the app here, naming it
    app.state.login_policy = LoginPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_hours),
    )
    app.state.records_store = records_store
    app.state.session_key = session_key  # also signs the readers' question form (dryneedling.web.questions)
    app.state.templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    from dryneedling.render.html import condition_label, region_label

    kb = app.state.catalog.kb
    app.state.templates.env.filters.update(
        region=lambda region_id: region_label(region_id, kb),
        condition=lambda condition_id: condition_label(condition_id, kb),
    )
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    install_error_handlers(app)
    install_body_guard(app)

    from dryneedling.web.api import router as api_router
    from dryneedling.web.pages import router as pages_router
    from dryneedling.web.records import install_records_handlers
    from dryneedling.web.records import router as records_router
    from dryneedling.web.records_pages import install_page_handlers
    from dryneedling.web.records_pages import router as records_pages_router
    from dryneedling.web.session import install_sessions

    install_records_handlers(app)
    install_page_handlers(app)
    install_sessions(app, session_key, secure=settings.production, hours=settings.session_hours)
    app.include_router(api_router)
    app.include_router(records_router)
    app.include_router(records_pages_router)
    app.include_router(pages_router)
    from dryneedling.web.learn import router as learn_router  # public pages for patients (issue 13)

    app.include_router(learn_router)
    from dryneedling.web.questions import router as questions_router  # readers' questions (issue 13)

    app.include_router(questions_router)
    from dryneedling.web.fhir import router as fhir_router  # FHIR R4 export of a patient (issue 12)

    app.include_router(fhir_router)
    from dryneedling.web.followups import install_followups  # follow-up by link (issue 11)

    install_followups(app)
    from dryneedling.web.audit_pages import router as audit_router  # the audit log for auditors (issue 12)
    from dryneedling.web.request_ids import install_request_ids

    app.include_router(audit_router)
    install_request_ids(app)
    from dryneedling.web.account_pages import router as account_router  # sign-in security (issue 12)
    from dryneedling.web.headers import SecurityHeaders
    from dryneedling.web.tokens_api import router as tokens_router

    app.include_router(tokens_router)
    app.include_router(account_router)
    app.add_middleware(SecurityHeaders, production=settings.production)  # outermost: on every answer
    from dryneedling.web.outcomes import pages as outcome_pages
    from dryneedling.web.outcomes import router as outcomes_router  # outcome measures, dashboard (issue 11)

    app.include_router(outcomes_router)
    app.include_router(outcome_pages)
    app.openapi = lambda: _openapi_with_profile(app)
    return app


def _openapi_with_profile(app: FastAPI) -> dict:
    """The OpenAPI document plus the PatientProfile schema that ``POST /api/assess`` reads by hand.

    The assess endpoint parses its body itself so that profile errors read exactly as in the CLI
    (``load_profile``); the schema is added here so clients and fuzzers still see the typed body.
    """
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        from dryneedling.assessment.profile import PatientProfile, profile_schema

        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        profile = PatientProfile.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in profile.pop("$defs", {}).items():
            components.setdefault(name, definition)
        # Same enum of comorbidity ids as `dryneedling assess --schema` publishes.
        published = profile_schema(app.state.catalog)["properties"]["comorbidities"]
        profile["properties"]["comorbidities"] = published
        components["PatientProfile"] = profile
        app.openapi_schema = schema
    return app.openapi_schema


app = create_app()
