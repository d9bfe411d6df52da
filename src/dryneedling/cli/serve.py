"""CLI command: ``dryneedling serve`` starts the web app (FastAPI under uvicorn)."""

from __future__ import annotations

import typer

from dryneedling.cli import app
from dryneedling.cli.output import fail
from dryneedling.errors import InputError


@app.command("serve")
def serve(
    host: str = typer.Option(
        None, "--host", help="Interface to bind [env DRYNEEDLING_HOST, default 127.0.0.1]."
    ),
    port: int = typer.Option(None, "--port", help="TCP port [env DRYNEEDLING_PORT, default 8000]."),
) -> None:
    """Serve the web app: atlas, evidence table, assessment with HTML/PDF reports, and the JSON API."""
    from dryneedling.web.settings import load_settings

    try:
        settings = load_settings(host=host, port=port)
    except InputError as error:
        fail(error)
    from dryneedling.db import database_url
    from dryneedling.db.engine import make_engine, upgrade
    from dryneedling.web.session import secret_key

    try:
        url = database_url()  # the practice records: migrated before the first request
        secret_key()  # the records pages' session key: checked (or made) now, not on the first request
    except InputError as error:
        fail(error)
    upgrade(make_engine(url))
    import uvicorn

    from dryneedling.web.logs import uvicorn_log_config

    # Access logs show paths only, without query strings (a patient search carries a name there);
    # assessment and records data travel in bodies, which are never logged.
    uvicorn.run(
        "dryneedling.web.app:app",
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=uvicorn_log_config(),
    )
