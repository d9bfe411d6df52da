"""CLI commands for backup and exchange: ``db backup FILE``, ``db restore FILE [--force]`` and
``export fhir PATIENT_ID [--clinic ID] [-o FILE]``, on the database of ``DRYNEEDLING_DATABASE_URL``."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

import typer

from dryneedling.cli import app
from dryneedling.cli.output import err_console, fail
from dryneedling.cli.records import EXIT_REFUSED, db_app
from dryneedling.errors import InputError

export_app = typer.Typer(help="Export records for another system (FHIR R4).", no_args_is_help=True)
app.add_typer(export_app, name="export")


def _engine():
    from dryneedling.db import database_url
    from dryneedling.db.engine import make_engine

    try:
        return make_engine(database_url())
    except InputError as error:
        fail(error)


def _refuse(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_REFUSED)


@db_app.command("backup")
def db_backup(file: Path = typer.Argument(..., help="The backup file to write (must not exist yet)")) -> None:
    """Write a consistent backup of the records database while it runs (SQLite: online backup;
    PostgreSQL: pg_dump custom format)."""
    from dryneedling.db.backup import BackupError, backup

    try:
        result = backup(_engine(), file)
    except InputError as error:
        fail(error)
    except BackupError as error:
        _refuse(str(error))
    print(f"backup written to {result.path}: {result.rows} rows, migration revision {result.revision}")


@db_app.command("restore")
def db_restore(
    file: Path = typer.Argument(..., help="A backup written by `dryneedling db backup`"),
    force: bool = typer.Option(
        False, "--force", help="Replace a database that holds records (otherwise refused)"
    ),
) -> None:
    """Restore a backup into the records database (stop the server first); refused when the database holds
    records, unless --force; a backup from an older version is migrated after restoring."""
    from dryneedling.db.backup import BackupError, restore

    try:
        result = restore(_engine(), file, force=force)
    except InputError as error:
        fail(error)
    except BackupError as error:
        _refuse(str(error))
    print(f"restored {result.path}: {result.rows} rows, now at the newest migration (was {result.revision})")
    from dryneedling.db import open_store
    from dryneedling.services.audit import verify_all

    store = open_store(migrate=False)
    try:
        chains = verify_all(store)
    finally:
        store.engine.dispose()
    if not chains.holds:
        # The rows are restored; what they say about who did what cannot be trusted. Say so, and exit 1.
        print(f"audit chain BROKEN in the restored copy: {chains.first_break.broken.describe()}")  # type: ignore[union-attr]
        raise typer.Exit(1)
    print(f"audit chains verified: {len(chains.clinics)} clinic(s), every chain holds")


@export_app.command("fhir")
def export_fhir(
    patient_id: str = typer.Argument(..., help="The patient's id"),
    clinic: str = typer.Option(
        None, "--clinic", help="The clinic's id (default: the clinic holding the patient)"
    ),
    output: Path = typer.Option(None, "--output", "-o", help="Write to this file (default: standard output)"),
) -> None:
    """Write the patient's record as a FHIR R4 Bundle (JSON), the same as GET /api/patients/{id}/fhir."""
    from dryneedling.catalog import load_catalog
    from dryneedling.db import SqlStore
    from dryneedling.records.errors import RecordsError
    from dryneedling.services.exchange import fhir_bundle, find_patient_clinic

    ids = {}
    for name, value in (("PATIENT_ID", patient_id), ("--clinic", clinic)):
        if value is None:
            continue
        try:
            ids[name] = uuid.UUID(value)
        except ValueError:
            fail(InputError(name, "is not an id (a UUID)", value=value))
    store = SqlStore(_engine())
    try:
        clinic_id = ids.get("--clinic") or find_patient_clinic(store, ids["PATIENT_ID"])
        bundle = fhir_bundle(store, load_catalog(), clinic_id, ids["PATIENT_ID"])
    except RecordsError as error:
        _refuse(error.message)
    text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        # Owner-only: the file holds a patient's record.
        with open(output, "w", encoding="utf-8", opener=lambda p, f: os.open(p, f, 0o600)) as handle:
            handle.write(text)
        err_console.print(f"wrote {output}", highlight=False)
