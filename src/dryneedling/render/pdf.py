"""PDF renderings of a Report (WeasyPrint): the same HTML as :func:`render_html`, printed on A4.

The stylesheet's ``@media print`` block sets A4 pages, margins and "Page n of m" footers through
``@page`` counters, and names 'DejaVu Sans' explicitly so the PDF looks the same on every machine.
"""

from __future__ import annotations

import logging
from typing import Any

from dryneedling.render.html import check_audience, render_html

# WeasyPrint logs every unsupported CSS property at WARNING; the report CSS is shared with the screen.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


def render_pdf(report: Any, audience: str = "clinician") -> bytes:
    """The report as PDF bytes for ``audience`` ("clinician" or "patient")."""
    from weasyprint import HTML  # imported late: loading pango/cairo takes a moment

    check_audience(audience)
    return HTML(string=render_html(report, audience)).write_pdf()
