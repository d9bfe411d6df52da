"""Use case: painful regions to ranked candidate muscles (``dryneedling atlas`` and ``GET /api/atlas``)."""

from __future__ import annotations

from pydantic import BaseModel

from dryneedling.assessment.atlas import Candidate, rank_muscles
from dryneedling.catalog import Catalog
from dryneedling.errors import InputError


class AtlasAnswer(BaseModel):
    """Candidate muscles for painful regions, best first."""

    pain: list[str]
    condition: str | None
    side: str | None
    candidates: list[Candidate]


def atlas(
    catalog: Catalog, pain: list[str], condition: str | None = None, side: str | None = None
) -> AtlasAnswer:
    """Rank the atlas muscles for ``pain``; an empty list or unknown id raises InputError naming the field."""
    if not pain:
        raise InputError("pain", "name at least one painful body region", choices=list(catalog.kb.regions))
    candidates = rank_muscles(catalog, pain, condition=condition or None, side=side or None)
    return AtlasAnswer(pain=pain, condition=condition or None, side=side or None, candidates=candidates)
