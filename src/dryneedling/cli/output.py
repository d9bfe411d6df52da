"""Output helpers shared by every command: JSON for machines, Rich for people, one-line errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import typer
from rich.console import Console

from dryneedling.errors import InputError

# emoji=False: curated text is printed as written (":b:" in a citation is not an emoji), and Rich's
# emoji table is not loaded on every command.
console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)

EXIT_BAD_INPUT = 2


def emit(data: Any, as_json: bool, render: Callable[[Console], None]) -> None:
    """Print ``data`` as JSON when ``as_json`` is set, otherwise let ``render`` draw it with Rich."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        render(console)


def fail(error: InputError, as_json: bool = False) -> NoReturn:
    """Report bad input as one clear line (or the JSON error shape) and exit with code 2."""
    if as_json:
        sys.stdout.write(json.dumps({"error": error.to_dict()}, indent=2) + "\n")
    else:
        err_console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def split_ids(text: str | None) -> list[str]:
    """Split a comma-separated option value into ids, dropping blanks and surrounding spaces."""
    if not text:
        return []
    return [part.strip() for part in text.split(",") if part.strip()]
