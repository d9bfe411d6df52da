"""PDF renderings of a Report (WeasyPrint): the same HTML as :func:`render_html`, printed.

The stylesheet's ``@media print`` block sets margins, compact type and "Page n of m" footers; the paper
size (A4 or US letter) and the running footer (patient, time of printing, versions) come from the
:class:`~dryneedling.render.context.DocumentContext`. 'DejaVu Sans' is named explicitly so the PDF looks
the same on every machine. Detail sections are printed in full (no folding on paper).
"""

from __future__ import annotations

import logging
from typing import Any

from dryneedling.render.context import DocumentContext
from dryneedling.render.html import check_audience, render_html

# WeasyPrint logs every unsupported CSS property at WARNING; the report CSS is shared with the screen.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


def pdf_document(report: Any, audience: str = "clinician", document: DocumentContext | None = None):
    """The laid-out WeasyPrint document (its ``pages`` can be counted before writing)."""
    from weasyprint import HTML  # imported late: loading pango/cairo takes a moment

    check_audience(audience)
    return HTML(string=render_html(report, audience, document, fold=False)).render()


def render_pdf(report: Any, audience: str = "clinician", document: DocumentContext | None = None) -> bytes:
    """The report as PDF bytes for ``audience`` ("clinician" or "patient")."""
    return pdf_document(report, audience, document).write_pdf()
