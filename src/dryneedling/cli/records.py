"""CLI commands for the practice records' set-up and scripting: ``db upgrade``, ``clinic add``,
``user add``, ``user token``, ``user tokens`` and ``user revoke-token``. They work on the database of ``DRYNEEDLING_DATABASE_URL`` (default: the
SQLite file ``dryneedling.db`` in ``DRYNEEDLING_DATA_DIR``, itself defaulting to the working directory).
"""

from __future__ import annotations

import sys
import uuid
from datetime import date
from typing import TYPE_CHECKING, NoReturn

import typer

from dryneedling.cli import app
from dryneedling.cli.output import emit, err_console, fail
from dryneedling.errors import InputError

if TYPE_CHECKING:  # the database layer is imported only when a command runs
    from dryneedling.records.errors import RecordsError
    from dryneedling.records.repository import Store

db_app = typer.Typer(help="The records database: apply its migrations.", no_args_is_help=True)
clinic_app = typer.Typer(help="Clinics: each keeps its own patients and records.", no_args_is_help=True)
user_app = typer.Typer(help="Users of a clinic and their personal API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(clinic_app, name="clinic")
app.add_typer(user_app, name="user")

JsonOption = typer.Option(False, "--json", help="Print JSON.")
EXIT_REFUSED = 1


def _store(migrate: bool = True) -> Store:
    from dryneedling.db import open_store

    try:
        return open_store(migrate=migrate)
    except InputError as error:
        fail(error)


def _refused(error: RecordsError) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {error.message}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_REFUSED)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to the records database (``dryneedling serve`` also does this at start)."""
    from dryneedling.db import database_url
    from dryneedling.db.engine import current_revision, make_engine, upgrade

    try:
        url = database_url()
    except InputError as error:
        fail(error)
    engine = make_engine(url)
    upgrade(engine)
    print(f"database at revision {current_revision(engine)}: {url.render_as_string(hide_password=True)}")


@clinic_app.command("add")
def clinic_add(name: str = typer.Argument(..., help="The clinic's name"), as_json: bool = JsonOption) -> None:
    """Create a clinic and print its id (needed by ``user add --clinic``)."""
    from dryneedling.services.accounts import add_clinic

    try:
        clinic = add_clinic(_store(), name)
    except InputError as error:
        fail(error, as_json)
    emit({"id": str(clinic.id), "name": clinic.name}, as_json, lambda console: console.print(str(clinic.id)))


@user_app.command("add")
def user_add(
    email: str = typer.Argument(..., help="E-mail address (the login)"),
    clinic: str = typer.Option(..., "--clinic", help="The clinic's id (from `clinic add`)"),
    role: str = typer.Option(..., "--role", help="owner, clinician, assistant or auditor"),
    name: str = typer.Option(None, "--name", help="Full name (default: the e-mail's local part)"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of standard input"
    ),
    training_hours: float = typer.Option(None, "--training-hours", help="Dry needling training, hours"),
    training_course: str = typer.Option(None, "--training-course", help="Course or certificate"),
    training_jurisdiction: str = typer.Option(None, "--training-jurisdiction", help="Where it qualifies"),
    training_date: str = typer.Option(None, "--training-date", help="Completed on (YYYY-MM-DD)"),
    as_json: bool = JsonOption,
) -> None:
    """Add a user to a clinic; the password is read from stdin and stored only as an argon2id hash."""
    from dryneedling.records.entities import Training
    from dryneedling.records.errors import RecordsError
    from dryneedling.services.accounts import add_user

    try:
        clinic_id = uuid.UUID(clinic)
    except ValueError:
        fail(
            InputError(
                "--clinic", "is not a clinic id (as printed by `dryneedling clinic add`)", value=clinic
            )
        )
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        completed = date.fromisoformat(training_date) if training_date else None
    except ValueError:
        fail(InputError("--training-date", "must be a date YYYY-MM-DD", value=training_date))
    training = None
    if any(v is not None for v in (training_hours, training_course, training_jurisdiction, completed)):
        training = Training(
            hours=training_hours,
            course=training_course,
            jurisdiction=training_jurisdiction,
            completed_on=completed,
        )
    try:
        user = add_user(_store(), clinic_id, email, role, password, name=name, training=training)
    except InputError as error:
        fail(error, as_json)
    except RecordsError as error:
        _refused(error)
    emit(
        {"id": str(user.id), "email": user.email, "role": user.role, "clinic_id": str(user.clinic_id)},
        as_json,
        lambda console: console.print(str(user.id)),
    )


@user_app.command("token")
def user_token(
    email: str = typer.Argument(..., help="The user's e-mail address"),
    name: str = typer.Option("personal", "--name", help="A label for the token"),
    days: int = typer.Option(None, "--days", help="Valid for this many days (default: until revoked)"),
) -> None:
    """Print a new personal API token for the user (shown once; only its hash is stored)."""
    from dryneedling.records.errors import RecordsError
    from dryneedling.services.accounts import issue_token

    try:
        token = issue_token(_store(), email, name=name, days=days)
    except InputError as error:
        fail(error)
    except RecordsError as error:
        _refused(error)
    print(token)


@user_app.command("tokens")
def user_tokens(
    email: str = typer.Argument(..., help="The user's e-mail address"), as_json: bool = JsonOption
) -> None:
    """List the user's API tokens: id, name, start, times and state (never a secret)."""
    from dryneedling.records.errors import RecordsError
    from dryneedling.services.logins import tokens_of

    try:
        tokens = tokens_of(_store(), email)
    except RecordsError as error:
        _refused(error)

    def render(console) -> None:
        from rich.table import Table

        table = Table("id", "name", "starts with", "created", "last used", "expires", "state")
        for token in tokens:
            table.add_row(
                str(token.id),
                token.name,
                token.prefix,
                f"{token.created_at:%Y-%m-%d %H:%M}",
                f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never",
                f"{token.expires_at:%Y-%m-%d %H:%M}" if token.expires_at else "never",
                "revoked" if token.revoked_at else "active",
            )
        console.print(table)

    emit([token.model_dump(mode="json") for token in tokens], as_json, render)


@user_app.command("revoke-token")
def user_revoke_token(
    token_id: str = typer.Argument(..., help="The token's id (from `dryneedling user tokens`)"),
) -> None:
    """Revoke an API token at once: requests with it are refused from now on."""
    from dryneedling.records.errors import RecordsError
    from dryneedling.services.logins import revoke_token_by_id

    try:
        parsed = uuid.UUID(token_id)
    except ValueError:
        fail(
            InputError(
                "token_id", "is not a token id (as listed by `dryneedling user tokens`)", value=token_id
            )
        )
    try:
        revoked = revoke_token_by_id(_store(), parsed)
    except RecordsError as error:
        _refused(error)
    print(f"revoked {revoked.id} ({revoked.name})")


demo_app = typer.Typer(help="A demo clinic with synthetic patients to look around in.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")


@demo_app.command("seed")
def demo_seed(
    patients: int = typer.Option(50, "--patients", min=1, max=1_000_000, help="How many synthetic patients"),
    seed: int = typer.Option(1, "--seed", help="Random seed (the same seed gives the same records)"),
    as_json: bool = JsonOption,
) -> None:
    """Fill a new, clearly marked demo clinic with synthetic patients, episodes, consent, visits and adverse
    events; prints the clinic id and a token of its owner."""
    from dataclasses import asdict

    from dryneedling.catalog import load_catalog
    from dryneedling.services.demo import seed as seed_demo

    summary = seed_demo(_store(), load_catalog(), patients, random_seed=seed)

    def render(console) -> None:
        console.print(
            f"demo clinic {summary.clinic_id}: {summary.patients} patients, {summary.episodes} episodes, "
            f"{summary.visits} visits, {summary.adverse_events} adverse events, "
            f"{summary.outcome_scores} outcome scores"
        )
        console.print(f"owner {summary.owner_email}, API token: {summary.owner_token}", soft_wrap=True)

    emit(asdict(summary), as_json, render)
