"""The visit note as HTML and PDF (WeasyPrint), in SOAP order, on A4 or Letter.

Input is the plain mapping of :class:`~dryneedling.services.records.VisitNote` plus the muscle names and
CPT wording from the catalog; amendments are printed after the signed original, each with author and time.
"""

from __future__ import annotations

import logging
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)

PAPER_SIZES = ("A4", "Letter")

_env = Environment(
    loader=PackageLoader("dryneedling.render", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_note_html(note: dict[str, Any], labels: dict[str, Any], paper: str = "A4") -> str:
    return _env.get_template("visit_note.html").render(note=note, labels=labels, paper=paper)


def render_note_pdf(note: dict[str, Any], labels: dict[str, Any], paper: str = "A4") -> bytes:
    from weasyprint import HTML  # late: loading pango takes a moment

    return HTML(string=render_note_html(note, labels, paper)).write_pdf()
