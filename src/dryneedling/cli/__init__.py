"""The ``dryneedling`` command line: a thin Typer shell over the domain core.

Each area registers its commands from its own module so that the areas stay independent.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="dryneedling",
    help="Evidence-based dry needling: cited knowledge base, evidence engine, personal assessment.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each area registers its commands on `app` when its module is imported.
from dryneedling.cli import assess as _assess  # noqa: E402,F401
from dryneedling.cli import audit as _audit  # noqa: E402,F401
from dryneedling.cli import evidence as _evidence  # noqa: E402,F401
from dryneedling.cli import exchange as _exchange  # noqa: E402,F401
from dryneedling.cli import knowledge as _knowledge  # noqa: E402,F401
from dryneedling.cli import records as _records  # noqa: E402,F401
from dryneedling.cli import serve as _serve  # noqa: E402,F401


def main() -> None:
    """Console-script entry point."""
    app()
