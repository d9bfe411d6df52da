"""Renderings of the one Report object: HTML and PDF (clinician report and patient handout) and the body
chart. The web app and the CLI call these; the domain core never imports them."""

from dryneedling.render.body_chart import body_chart_svg, highlight_for
from dryneedling.render.html import AUDIENCES, render_html, render_report_fragment
from dryneedling.render.pdf import render_pdf

__all__ = [
    "AUDIENCES",
    "body_chart_svg",
    "highlight_for",
    "render_html",
    "render_pdf",
    "render_report_fragment",
]
