"""An unexpected error is answered with the one 500 shape and logged once, by type and place: the message,
which can quote what the request carried, reaches no log (neither ours nor the server's)."""

from __future__ import annotations

import logging

import httpx

from dryneedling.web.app import create_app
from live import serve

HELD = "Ann Example born 1980-02-03"


def test_an_unexpected_error_reaches_the_logs_without_its_message(catalog, capfd, caplog):
    app = create_app(catalog)

    def fails_with_patient_details() -> None:
        held = HELD  # as a database or validation error quotes the values it was given
        raise RuntimeError(held)

    app.add_api_route("/api/fails", fails_with_patient_details)
    with caplog.at_level(logging.ERROR), serve(app) as url:
        response = httpx.get(f"{url}/api/fails", timeout=10)
    assert response.status_code == 500
    assert response.json()["error"]["message"] == "internal error; the request was not processed"
    assert HELD not in response.text
    printed = capfd.readouterr()
    logged = caplog.text + printed.out + printed.err
    assert "unexpected error on /api/fails: RuntimeError" in logged  # ours: the type and the place
    assert HELD not in logged
    assert "Exception in ASGI application" not in logged  # the server's second report, with the message


def test_fastapis_own_telemetry_stays_off_even_when_the_environment_asks_for_it(catalog, monkeypatch):
    """Its spans would carry full URLs (a search's name) and its logs exception messages."""
    monkeypatch.setenv("FASTAPI_OTEL_AUTO_CONFIGURE", "true")
    app = create_app(catalog)
    assert not app._native_telemetry.enabled()
    assert not any(
        app._telemetry[key] for key in ("tracing", "metrics", "logs", "operation_spans", "auto_configure")
    )
