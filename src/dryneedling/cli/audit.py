"""``dryneedling audit verify``: recompute every clinic's audit hash chain; exit 0 when all hold, 1 naming
the first broken link (an entry changed, removed or inserted behind the application's back)."""

from __future__ import annotations

import typer

from dryneedling.cli import app
from dryneedling.cli.output import emit, fail
from dryneedling.errors import InputError

audit_app = typer.Typer(
    help="The audit log: check that no entry was changed, removed or slipped in.", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")

EXIT_BROKEN = 1


@audit_app.command("verify")
def audit_verify(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Recompute every clinic's hash chain; exit 1 naming the first break. Prints each chain's last hash:
    write it down (or keep the JSON) so that a later run can show nothing was cut off the end."""
    from dryneedling.db import open_store
    from dryneedling.services.audit import verify_all

    try:
        store = open_store(migrate=True)  # as every command: a database from before the chain gets it first
    except InputError as error:
        fail(error, as_json)
    try:
        result = verify_all(store)
    finally:
        store.engine.dispose()

    def render(console) -> None:
        for state in result.clinics:
            if state.holds:
                console.print(
                    f"clinic {state.clinic_id}: {state.entries} entries, chain holds, last hash {state.head_hash}",
                    highlight=False,
                    soft_wrap=True,
                )
            else:
                console.print(
                    f"[bold red]BROKEN[/] {state.broken.describe()}", highlight=False, soft_wrap=True
                )
        if not result.clinics:
            console.print("no clinics yet: nothing to verify")

    emit(result.as_json(), as_json, render)
    if not result.holds:
        raise typer.Exit(EXIT_BROKEN)
