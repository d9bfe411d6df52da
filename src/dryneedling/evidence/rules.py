"""The typed form of ``grade_rules.yaml``: certainty thresholds, the strength rule, wording, display rules.

Every section is a frozen model that rejects unknown keys, so a curator's typo (``i2_serios``) is reported
with its file and key instead of being silently ignored while the code falls back to a default.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dryneedling.vocabulary import Confidence

Strength = Literal["Moderate", "Emerging", "Limited"]
WordingKind = Literal["benefit", "comparator_better", "no_difference"]


class _Rules(BaseModel):
    # defer_build: the validator is built on first validation, not at import, so a command that gets the
    # catalog from the on-disk cache (catalog.py) never pays for validators it does not use.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Cited(_Rules):
    sources: tuple[str, ...] = Field(min_length=1)
    confidence: Confidence = "moderate"


class Inconsistency(Cited):
    i2_serious: float = Field(ge=0, le=100)
    i2_very_serious: float = Field(ge=0, le=100)
    prediction_interval_crossing_null: int = Field(ge=0, le=2)
    max_levels: int = Field(ge=0, le=3)


class Imprecision(Cited):
    ci_crossing_null: int = Field(ge=0, le=2)
    ci_crossing_mcid: int = Field(ge=0, le=2)
    ois_continuous: int = Field(gt=0)
    mcid_choice: Literal["smallest"]
    max_levels: int = Field(ge=0, le=3)


class Indirectness(Cited):
    not_dn_specific: int = Field(ge=0, le=2)
    max_levels: int = Field(ge=0, le=3)


class PublicationBias(Cited):
    #: The one place the "about ten studies for a funnel-plot test" rule lives (used by `evidence pool` too).
    min_studies_for_test: int = Field(ge=3)


class CertaintyRules(_Rules):
    levels: tuple[str, ...] = Field(min_length=2)
    start: dict[Literal["rct"], str]
    published_aliases: dict[str, str]
    inconsistency: Inconsistency
    imprecision: Imprecision
    risk_of_bias: Cited
    indirectness: Indirectness
    publication_bias: PublicationBias
    judgement_levels: dict[Literal["not_serious", "serious", "very_serious"], int]


class Wording(_Rules):
    benefit: str
    comparator_better: str
    no_difference: str


class StrengthRules(_Rules):
    rule: str
    by_certainty: dict[Literal["high", "moderate", "low", "very_low", "not_rated"], Strength]
    wording: dict[Strength, Wording]
    forbidden_always: tuple[str, ...]
    forbidden_by_strength: dict[Strength, tuple[str, ...]]


class PatientDisplay(_Rules):
    rule: str
    plain: str
    never_for_patients: tuple[str, ...]


class BestEstimate(_Rules):
    rule: str


class GradeRules(_Rules):
    """grade_rules.yaml as one validated object (see the file's comments for the why of each number)."""

    certainty: CertaintyRules
    strength: StrengthRules
    patient_display: PatientDisplay
    best_estimate: BestEstimate
