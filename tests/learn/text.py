"""Reading a rendered learn page as a person sees it: visible text by part, and the numbers in it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


class _Text(HTMLParser):
    """Visible text of <main>, without footnote markers, split into the body and the sources list."""

    def __init__(self) -> None:
        super().__init__()
        self.body: list[str] = []
        self.sources: list[str] = []
        self._stack: list[tuple[str, bool, bool]] = []  # tag, skip (footnote marker), in sources
        self._in_main = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag in ("br", "img", "input", "meta", "link", "hr"):
            return
        parent_skip = self._stack[-1][1] if self._stack else False
        parent_sources = self._stack[-1][2] if self._stack else False
        self._stack.append(
            (
                tag,
                parent_skip or "fn" in classes or tag in ("script", "style"),
                parent_sources or "sources" in classes,
            )
        )
        if tag == "main":
            self._in_main += 1

    def handle_endtag(self, tag):
        while self._stack:
            open_tag, _, _ = self._stack.pop()
            if open_tag == "main":
                self._in_main -= 1
            if open_tag == tag:
                break

    def handle_data(self, data):
        if not self._in_main or not self._stack or self._stack[-1][1]:
            return
        (self.sources if self._stack[-1][2] else self.body).append(data)


def visible(html: str) -> tuple[str, str]:
    """(body text, sources text) of the page's <main>, footnote markers left out."""
    parser = _Text()
    parser.feed(html)
    squash = lambda parts: " ".join(" ".join(parts).split())  # noqa: E731
    return squash(parser.body), squash(parser.sources)


def numbers(text: str) -> set[str]:
    """Every number written in ``text``, thousands separators removed (1,024 -> 1024)."""
    return {n.replace(",", "") for n in NUMBER.findall(text)}


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def forbidden_in(text: str, forbidden: list[str]) -> list[str]:
    """The forbidden words or phrases that ``text`` uses (whole words; phrases as written)."""
    found = words(text)
    lowered = " ".join(text.lower().split())
    return [w for w in forbidden if (w in lowered if " " in w else w in found)]
