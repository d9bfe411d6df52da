"""The words every part of dryneedling shares: audiences and confidence marks, with their order.

One definition each, imported by the knowledge base, the evidence engine, the assessment, the renderers
and both shells, so that a new audience or confidence level is added in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

Audience = Literal["clinician", "patient"]
AUDIENCES: tuple[str, ...] = ("clinician", "patient")

Confidence = Literal["high", "moderate", "low"]
#: Rank of each confidence mark, strongest first (used to sort and to find the weakest link).
CONFIDENCE_ORDER: dict[str, int] = {"high": 0, "moderate": 1, "low": 2}


def weakest_confidence(levels: Iterable[str], default: str = "moderate") -> str:
    """The lowest confidence among ``levels`` (a chain of facts is as sure as its weakest link)."""
    return max(levels, key=CONFIDENCE_ORDER.__getitem__, default=default)
