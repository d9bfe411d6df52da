"""Pydantic models for the knowledge base: one frozen model per kind of fact.

Every clinical entry carries its ``sources`` (ids in the bibliography) and a ``confidence`` mark;
the loader (:mod:`dryneedling.knowledge.load`) checks that both are present and that every id resolves.
Models forbid unknown keys so that a typo in a YAML file is reported instead of silently ignored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from dryneedling.vocabulary import CONFIDENCE_ORDER, Confidence  # noqa: F401 (one definition)

Tier = Literal[1, 2, 3]
TIER_LABELS: dict[int, str] = {
    1: "peer-reviewed article or systematic review",
    2: "textbook, professional body, regulator or guideline",
    3: "other web page",
}


class _Frozen(BaseModel):
    # defer_build: the validator is built on first validation, not at import, so a command that gets the
    # catalog from the on-disk cache (catalog.py) never pays for validators it does not use.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Source(_Frozen):
    """One entry of the bibliography (merged from every file in ``data/sources/``).

    ``tier`` says how far a clinician can trust the kind of source: 1 = peer-reviewed article or
    systematic review, 2 = textbook, professional body, regulator or guideline, 3 = any other web page.
    Every source has a link: ``url``, or a ``doi`` from which :attr:`link` derives one; only a printed
    book with no legitimate online copy (``print_only``) has none.
    """

    id: str
    citation: str
    tier: Tier = Field(
        description="1 peer-reviewed, 2 textbook/professional body/regulator/guideline, 3 other"
    )
    authors: str | None = None
    year: int | None = None
    title: str | None = None
    journal: str | None = None
    pmid: str | None = None
    doi: str | None = None
    url: str | None = None
    print_only: bool = Field(
        default=False,
        description="a printed book (tier 2) with no legitimate online copy: cited by edition and chapter, no link",
    )
    note: str | None = None

    @model_validator(mode="after")
    def _needs_a_link(self) -> Source:
        if self.print_only and self.tier != 2:
            raise ValueError("print_only is for printed books (tier 2)")
        if self.url is None and self.doi is None and not self.print_only:
            raise ValueError("needs a url or a doi (or print_only for a printed book)")
        if self.url is not None and not self.url.startswith(("https://", "http://")):
            raise ValueError(f"url must be an http(s) address, not {self.url!r}")
        return self

    @property
    def link(self) -> str | None:
        """The address to show: ``url``, else the https://doi.org/ link of ``doi``; None for a printed book."""
        if self.url is not None:
            return self.url
        return f"https://doi.org/{self.doi}" if self.doi is not None else None

    @property
    def tier_label(self) -> str:
        """What the tier means, in words."""
        return TIER_LABELS[self.tier]


class Area(_Frozen):
    """One of the 13 coarse body areas that group the body regions (head_face, neck, ...)."""

    id: str
    label: str


class BodyRegion(_Frozen):
    """A body region of the controlled vocabulary (where pain is felt or where a muscle refers pain)."""

    id: str
    label: str
    area: str


class NeedlingSafety(_Frozen):
    """A needling hazard for one muscle, tied to an anatomical high-risk region when there is one.

    ``anatomy_sourced`` is False when the named structure comes from general anatomy added by the
    project, not from a stored source: a clinician should verify it.
    """

    anatomical_region: str | None
    note: str
    anatomy_sourced: bool = True


class Muscle(_Frozen):
    """A muscle of the referral atlas: where its trigger points refer pain and how to needle it safely."""

    id: str
    name: str
    area: str
    side_specific: bool
    referral_zones: tuple[str, ...] = Field(min_length=1)
    doubtful_referral_zones: tuple[str, ...] = Field(
        default=(),
        description="zones kept for the record but not used for ranking (source audit doubts them)",
    )
    conditions: tuple[str, ...] = ()
    notes: str
    evidence_notes: str | None = None
    needling_safety: tuple[NeedlingSafety, ...] = Field(min_length=1)
    confidence: Confidence
    sources: tuple[str, ...] = Field(min_length=1)
    audit: str | None = None


class Icd10(_Frozen):
    """An ICD-10-CM code verified in the project's billing notes."""

    code: str
    label: str
    source: str
    note: str | None = None


class Condition(_Frozen):
    """A clinical presentation: label, typical painful regions, outcome measures and evidence region."""

    id: str
    label: str
    area: str | None = Field(description="body area, or None for whole-body conditions")
    description: str
    icd10: tuple[Icd10, ...] = ()
    icd10_note: str | None = None
    measures: tuple[str, ...] = ()
    evidence_region: str | None = Field(
        description="body_region value of the evidence table (evidence_syntheses.csv); None = no pooled evidence"
    )
    evidence_note: str | None = None
    painful_regions: tuple[str, ...] = ()
    sources: tuple[str, ...] = Field(min_length=1)
    confidence: Confidence


class SafetyItem(_Frozen):
    """A contraindication or precaution for dry needling."""

    id: str
    label: str
    klass: Literal["absolute", "relative", "precaution"]
    scope: Literal["whole_body", "regional"]
    rationale: str
    clinician_action: str
    patient_text: str
    sources: tuple[str, ...] = Field(min_length=1)
    confidence: Confidence
    tier_note: str | None = Field(
        default=None, description="why the item rests only on tier-3 sources (required when it does)"
    )
    audit: str | None = None


class AnatomicalRegion(_Frozen):
    """An anatomical high-risk region (lung, spinal canal, heart, ...) with the body regions above it."""

    id: str
    label: str
    hazard: str
    facts: tuple[str, ...] = ()
    precautions: tuple[str, ...] = Field(min_length=1)
    patient_text: str
    body_regions: tuple[str, ...] = ()
    muscles_at_risk: tuple[str, ...] = ()
    sources: tuple[str, ...] = Field(min_length=1)
    confidence: Confidence
    audit: str | None = None


class Mcid(_Frozen):
    """A published minimal clinically important change/difference, with its population and source.

    ``value`` is the single number when the source gives one; ``text`` keeps the value as published
    (a range such as "1.5 to 3.5" has ``value`` None). ``scale_verified`` False marks a value whose
    scale (raw or percent) the stored source did not state: it must not be applied to a score.
    """

    value: float | None
    text: str
    context: str
    source: str
    scale_verified: bool = True
    conditions: tuple[str, ...] = Field(
        (),
        description="Condition ids whose population this value was measured in (a project reading of context)",
    )
    variant: str | None = Field(None, description="The measure variant (subscale) it applies to, if any")

    @computed_field
    @property
    def usable(self) -> bool:
        """True when the value can be compared with a change score (a number on a known scale)."""
        return self.value is not None and self.scale_verified


class Mdc(_Frozen):
    """A minimal detectable change (measurement error threshold)."""

    value: float | None
    text: str
    context: str
    source: str
    scale_verified: bool = True


class Band(_Frozen):
    """An interpretation band of a score (e.g. NDI 5-14 = mild)."""

    low: float
    high: float
    label: str


class Cutoff(_Frozen):
    """A screening cut-off with its context and caveats."""

    value: float
    context: str
    source: str
    caveats: str | None = None
    caveat_sources: tuple[str, ...] = ()


class ItemScoring(_Frozen):
    """How item answers make the score, when the knowledge base has it from a source.

    ``count`` None: the patient names the items (PSFS). ``total``: ``sum`` of the items, or their ``mean``.
    """

    count: int | None = Field(None, ge=1)
    min: float
    max: float
    total: Literal["sum", "mean"]
    min_answered: int | None = Field(None, ge=1)
    source: str


class MeasureEntry(_Frozen):
    """How the records take a score of this measure: by items (where the licence lets items be shown and the
    scoring is sourced) or as a total only; ``recordable`` False when no score can be checked (no verified
    range). ``lowest``/``highest`` bound a physical measurement that has no published scale."""

    items_shown: bool = False
    items: ItemScoring | None = None
    recordable: bool = True
    unit: str | None = None
    lowest: float | None = None
    highest: float | None = None
    note: str


class MeasureVariant(_Frozen):
    """A version of a measure with its own range (TSK-17 vs TSK-11, 15- vs 11-point GROC)."""

    id: str
    label: str
    range: tuple[float, float]


class Measure(_Frozen):
    """An outcome measure: range, direction, MCIDs with context, licensing. Never questionnaire items."""

    id: str
    name: str
    range: tuple[float, float] | None = None
    range_note: str | None = None
    variants: tuple[MeasureVariant, ...] = ()
    units: str | None = None
    direction: Literal["higher_worse", "higher_better"]
    direction_verified: bool = True
    scoring: str | None = None
    mcid: tuple[Mcid, ...] = ()
    mcid_note: str | None = None
    mdc: tuple[Mdc, ...] = ()
    bands: tuple[Band, ...] = ()
    bands_source: str | None = None
    cutoff: Cutoff | None = None
    licensing: str
    licensing_sources: tuple[str, ...] = ()
    notes: str | None = None
    sources: tuple[str, ...] = Field(min_length=1)
    confidence: Confidence
    audit: str | None = None
    entry: MeasureEntry | None = None

    @property
    def usable_mcids(self) -> tuple[Mcid, ...]:
        """The MCIDs that can be applied to a change score (numeric and on a verified scale)."""
        return tuple(m for m in self.mcid if m.usable)
