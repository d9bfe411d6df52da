"""PDF renderings of a Report (WeasyPrint): the report's HTML, printed.

WeasyPrint prints :func:`~dryneedling.render.html.render_printed_html`: the words of :func:`render_html`
with the paper stylesheet (``report_print.css``: margins, compact type, "Page n of m" footers) instead of
the screen one, and without the screen-only parts. The paper
size (A4 or US letter) and the running footer (patient, time of printing, versions) come from the
:class:`~dryneedling.render.context.DocumentContext`. 'DejaVu Sans' is named explicitly so the PDF looks
the same on every machine. Detail sections are printed in full (no folding on paper).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from dryneedling.render.context import DocumentContext
from dryneedling.render.html import check_audience, render_printed_html

if TYPE_CHECKING:
    from dryneedling.catalog import Catalog

# WeasyPrint logs every unsupported CSS property at WARNING; the report CSS is shared with the screen.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


def pdf_document(
    report: Any, audience: str = "clinician", document: DocumentContext | None = None, *, catalog: Catalog
):
    """The laid-out WeasyPrint document (its ``pages`` can be counted before writing).

    ``catalog``: the one the report was built with (see :func:`~dryneedling.render.html.render_printed_html`)."""
    from weasyprint import HTML  # imported late: loading pango/cairo takes a moment

    check_audience(audience)
    return HTML(string=render_printed_html(report, audience, document, catalog=catalog)).render()


def render_pdf(
    report: Any, audience: str = "clinician", document: DocumentContext | None = None, *, catalog: Catalog
) -> bytes:
    """The report as PDF bytes for ``audience`` ("clinician" or "patient")."""
    return pdf_document(report, audience, document, catalog=catalog).write_pdf()
