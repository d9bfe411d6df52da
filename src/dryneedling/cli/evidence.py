"""CLI group ``dryneedling evidence``: the evidence table and pooling of a researcher's own data."""

from __future__ import annotations

import typer

from dryneedling.cli import app

evidence_app = typer.Typer(
    help="What the research shows: the graded evidence table and meta-analysis.", no_args_is_help=True
)
app.add_typer(evidence_app, name="evidence")

# Each command lives in its own module and registers itself on evidence_app.
from dryneedling.cli import evidence_pool as _pool  # noqa: E402,F401
from dryneedling.cli import evidence_table as _table  # noqa: E402,F401
