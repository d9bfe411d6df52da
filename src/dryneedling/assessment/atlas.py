"""The trigger point referral atlas as a query: painful body regions -> ranked candidate muscles.

Pure domain code: it reads the knowledge base and returns pydantic objects; no shell imports.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, computed_field

from dryneedling.errors import InputError
from dryneedling.knowledge import KnowledgeBase, Muscle
from dryneedling.vocabulary import CONFIDENCE_ORDER

if TYPE_CHECKING:
    from dryneedling.catalog import Catalog

SIDES = ("left", "right")


class CandidateSafety(BaseModel):
    """A needling hazard of a candidate muscle, tied to an anatomical high-risk region (or None)."""

    model_config = ConfigDict(frozen=True)

    anatomical_region: str | None
    note: str
    anatomy_sourced: bool

    @computed_field
    @property
    def region(self) -> str | None:
        """Alias of ``anatomical_region`` (the key the CLI JSON promises)."""
        return self.anatomical_region


class Candidate(BaseModel):
    """One muscle that may explain the painful regions, with how well it explains them and why."""

    model_config = ConfigDict(frozen=True)

    muscle: str
    name: str
    area: str
    score: float
    matched_regions: list[str]
    unmatched_regions: list[str]
    confidence: str
    condition_match: bool
    side: str | None
    safety: list[CandidateSafety]
    sources: list[str]


def _check_regions(kb: KnowledgeBase, pain: Iterable[str], field: str) -> list[str]:
    regions = list(dict.fromkeys(pain))
    for region in regions:
        if region not in kb.regions:
            raise InputError.unknown(field, region, kb.regions.keys(), kind="body region")
    return regions


def _candidate(
    muscle: Muscle, pain: list[str], condition: str | None, side: str | None, condition_weight: float
) -> Candidate | None:
    zones = set(muscle.referral_zones)  # doubtful zones are deliberately left out of ranking
    matched = [r for r in pain if r in zones]
    if not matched:
        return None
    coverage = len(matched) / len(pain)
    condition_match = condition is not None and condition in muscle.conditions
    if condition is None:
        score = coverage
    else:
        score = (1 - condition_weight) * coverage + condition_weight * condition_match
    return Candidate(
        muscle=muscle.id,
        name=muscle.name,
        area=muscle.area,
        score=round(score, 4),
        matched_regions=matched,
        unmatched_regions=[r for r in pain if r not in zones],
        confidence=muscle.confidence,
        condition_match=condition_match,
        side=side if muscle.side_specific else None,
        safety=[
            CandidateSafety(
                anatomical_region=h.anatomical_region, note=h.note, anatomy_sourced=h.anatomy_sourced
            )
            for h in muscle.needling_safety
        ],
        sources=list(muscle.sources),
    )


def rank_muscles(
    catalog: Catalog,
    pain: list[str],
    condition: str | None = None,
    side: str | None = None,
    excluded_regions: frozenset[str] = frozenset(),
) -> list[Candidate]:
    """Rank the atlas muscles by how well their referral zones explain the painful regions.

    Scoring (the same rule is documented in README.md):

    * ``coverage`` = matched painful regions / all painful regions (duplicates counted once), where a
      region is matched when it is one of the muscle's referral zones. Zones the source audit marks
      as doubtful (``doubtful_referral_zones``) never count.
    * Without a condition, ``score = coverage``. With a condition, ``score = (1 - w) * coverage +
      w * (1 if the muscle is listed for the condition else 0)`` with ``w = condition_weight`` from the
      guidance data (0.2), so the condition is a bounded bonus and explaining more regions ranks higher.
    * Ties are broken by confidence (high > moderate > low), then by muscle name.
    * Muscles that explain none of the painful regions are not listed.

    ``side`` ("left"/"right") is recorded on side-specific muscles (referral is assumed to be on the
    same side). ``excluded_regions`` are body-region ids where needling is not allowed (e.g. a
    regional contraindication): a muscle whose body area contains any of them is left out, because
    the atlas records a muscle's area, not its exact extent - a conservative choice.

    Raises :class:`~dryneedling.errors.InputError` for an empty pain list, an unknown region,
    condition or excluded region, or a side other than left/right.
    """
    kb: KnowledgeBase = catalog.kb
    weight = catalog.guidance.screening.condition_weight
    if not pain:
        raise InputError("pain", "give at least one painful body region", choices=kb.regions.keys())
    regions = _check_regions(kb, pain, "pain")
    if condition is not None and condition not in kb.conditions:
        raise InputError.unknown("condition", condition, kb.conditions.keys(), kind="condition")
    if side is not None and side not in SIDES:
        raise InputError("side", f"side must be left or right, not {side!r}", value=side, choices=SIDES)
    blocked_areas = {kb.regions[r].area for r in _check_regions(kb, excluded_regions, "excluded_regions")}

    candidates = [
        c
        for muscle in kb.muscles.values()
        if muscle.area not in blocked_areas and (c := _candidate(muscle, regions, condition, side, weight))
    ]
    candidates.sort(key=lambda c: (-c.score, CONFIDENCE_ORDER[c.confidence], c.name))
    return candidates
