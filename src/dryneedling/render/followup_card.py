"""The patient's follow-up card: the link of each follow-up as a QR code (SVG, segno) and as text, what to
expect, and the warning signs that need action; as HTML and as a one-page PDF (WeasyPrint) to take home.
"""

from __future__ import annotations

from typing import Any

import segno
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_env = Environment(
    loader=PackageLoader("dryneedling.render", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def qr_svg(url: str, scale: int = 4) -> str:
    """``url`` as an inline SVG QR code (error correction M, with its quiet zone)."""
    return segno.make(url, error="m").svg_inline(scale=scale, title="QR code of the follow-up link")


def render_card_html(card: dict[str, Any]) -> str:
    """The card: ``card`` holds title, text, links [{hours, url, expires}], soreness, warnings, call, emergency."""
    links = [{**link, "qr": qr_svg(link["url"])} for link in card["links"]]
    return _env.get_template("followup_card.html").render(card={**card, "links": links})


def render_card_pdf(card: dict[str, Any], paper: str = "A4") -> bytes:
    from weasyprint import HTML

    html = render_card_html({**card, "paper": paper})
    return HTML(string=html).write_pdf()
