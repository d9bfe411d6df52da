"""The visit note as HTML and PDF (WeasyPrint), in SOAP order, on A4 or Letter.

Input is the plain mapping of :class:`~dryneedling.services.records.VisitNote` plus the muscle names and
CPT wording from the catalog; amendments are printed after the signed original, each with author and time.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)

PAPER_SIZES = ("A4", "Letter")


def when(value: Any) -> str:
    """A stored time (ISO text) as people read it: ``2026-11-30 04:36 UTC``."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


_env = Environment(
    loader=PackageLoader("dryneedling.render", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["when"] = when


def render_note_html(note: dict[str, Any], labels: dict[str, Any], paper: str = "A4") -> str:
    return _env.get_template("visit_note.html").render(note=note, labels=labels, paper=paper)


def render_note_pdf(note: dict[str, Any], labels: dict[str, Any], paper: str = "A4") -> bytes:
    from weasyprint import HTML  # late: loading pango takes a moment

    return HTML(string=render_note_html(note, labels, paper)).write_pdf()
