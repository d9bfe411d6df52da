"""The pieces of a Report: one pydantic model per kind of finding.

Every item carries clinician wording, the source ids behind it, a confidence mark and ``patient_text``
in plain language. Renderers (text, HTML, PDF) and the web app template against these models.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dryneedling.evidence.table import EvidenceGap, EvidenceRow
from dryneedling.vocabulary import Confidence

Decision = Literal["suitable", "needle_with_precautions", "do_not_needle"]


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, serialize_by_alias=True, populate_by_name=True)


class Cited(_Item):
    """Sources, confidence and a plain-language sentence: what every item of the report carries."""

    sources: list[str] = Field(default_factory=list)
    confidence: Confidence = "low"
    patient_text: str = ""


class ScreeningItem(Cited):
    """One contraindication or precaution that applies to this person (id = safety item id)."""

    id: str
    label: str
    klass: Literal["absolute", "relative", "precaution"] = Field(alias="class")
    scope: Literal["whole_body", "regional"]
    effect: Literal["blocks_all", "blocks_regions", "precaution", "technique"] = Field(
        description=(
            "What the finding does to needling: stop it, stop it in some regions, change how for this person, "
            "or a caution of technique that applies to everyone in this situation (first session, needles over "
            "the thorax) and alone does not change the decision."
        )
    )
    reason: str = Field(description="What in the profile triggered it.")
    action: str = Field(description="What the clinician should do (from the safety data).")
    regions: list[str] = Field(default_factory=list, description="Body regions or areas it applies to.")
    side: Literal["left", "right", "bilateral"] | None = Field(
        None, description="Side of the listed regions; None = both sides or not recorded."
    )
    recorded: list[str] = Field(
        default_factory=list, description="What the profile recorded that raised it, in plain words."
    )


class MedicationFinding(_Item):
    """How one named medication was read."""

    name: str = Field(description="The medicine as the person wrote it.")
    recognised: bool
    drug: str | None = None
    drug_class: str | None = None
    atc: str | None = Field(None, description="WHO ATC code of the recognised drug.")
    status: Literal["current", "stopped", "unknown"] = Field(
        "current", description="stopped medicines are listed but do not count for screening."
    )
    dose: str | None = None
    suggestion: str | None = Field(
        None, description="A known name close to an unrecognised one ('did you mean'); never counted."
    )
    note: str


class Screening(Cited):
    """Is needling suitable, and where: the decision and every finding behind it."""

    decision: Decision
    items: list[ScreeningItem] = Field(default_factory=list)
    rescreen: list[str] = Field(
        default_factory=list, description="What would lead to screening again (when needling is not advised)."
    )
    rescreen_patient_text: str = ""
    blocked_regions: list[str] = Field(
        default_factory=list, description="Region ids where needles must not go."
    )
    medications: list[MedicationFinding] = Field(default_factory=list)


class SafetyNote(_Item):
    """High-risk anatomy under a candidate muscle."""

    anatomical_region: str | None = None
    note: str
    anatomy_sourced: bool = True


class Restriction(Cited):
    """A screening item that limits how (or whether) one candidate muscle may be needled."""

    id: str = Field(description="The safety item id.")
    label: str
    effect: Literal["restricts", "caution"] = Field(
        description="restricts: needle only with the action and prefer other muscles; caution: technique."
    )
    action: str
    reason: str


class CandidateMuscle(Cited):
    """A muscle whose trigger points may explain the pain, with its risky anatomy and its restrictions."""

    muscle: str
    name: str
    score: float
    matched_regions: list[str] = Field(default_factory=list)
    condition_match: bool = False
    side: str | None = None
    examined: Literal["active", "latent"] | None = Field(
        None, description="A trigger point found on examination in this muscle, if any."
    )
    boosted: bool = False
    safety: list[SafetyNote] = Field(default_factory=list)
    restrictions: list[Restriction] = Field(
        default_factory=list, description="Screening items that apply to this muscle (empty: none)."
    )

    @property
    def restricted(self) -> bool:
        """True when a screening item restricts this muscle (a technique caution alone does not)."""
        return any(r.effect == "restricts" for r in self.restrictions)


class ExcludedMuscle(Cited):
    """A muscle the atlas suggested but screening keeps needles away from."""

    muscle: str
    name: str
    reason: str
    blocked_by: str = Field(description="The safety item id that blocks it.")
    regions: list[str] = Field(default_factory=list)


class EvidenceSection(Cited):
    """What the research shows for this condition's region (rows from the evidence table)."""

    region: str | None
    condition: str
    rows: list[EvidenceRow] = Field(default_factory=list)
    gaps: list[EvidenceGap] = Field(default_factory=list)
    rule: str = ""
    summary: str = ""
    patient_highlights: list[EvidenceRow] = Field(
        default_factory=list,
        description="The few patient-safe rows a handout lists: one per comparator, pain first.",
    )


class Modifier(Cited):
    """A factor that shapes this person's result."""

    id: str
    label: str
    finding: str = Field(description="What in the profile triggered it.")
    expected_effect: str
    what_to_do: str
    clinical_reasoning: bool = Field(
        False, description="True when no source states it: reasoning, not evidence."
    )
    widens_soreness: bool = False


class HeatAdvice(Cited):
    """Heat before or after needling: whether, why and how."""

    recommended: bool
    reason: str
    how: str = ""


class HeatPlan(Cited):
    """Heat before and after needling, with what has and has not been tested."""

    before: HeatAdvice
    after: HeatAdvice
    evidence_note: str


class SorenessWindow(Cited):
    """How long post-needling soreness is expected to last for this person."""

    low_hours: int
    high_hours: int
    may_last_longer: bool = False
    widened_by: list[str] = Field(default_factory=list, description="Modifier ids that widen the window.")
    text: str


class AftercareTip(Cited):
    """Something that may help (or was tested and did not help) after needling."""

    id: str
    label: str
    clinician_text: str
    helps: bool = True
    who: Literal["clinician", "patient"] = "patient"


class WarningSign(Cited):
    """A symptom after needling that needs a call or urgent care."""

    id: str
    sign: str
    action: str
    urgency: Literal["emergency", "urgent", "call"]
    shown_because: str


class Aftercare(Cited):
    """What to expect after needling, what helps and when to call."""

    soreness: SorenessWindow | None = Field(
        description="The expected soreness window; None when screening advises against needling."
    )
    what_helps: list[AftercareTip] = Field(default_factory=list)
    warning_signs: list[WarningSign] = Field(default_factory=list)


class CareComponent(Cited):
    """One part of care that needling fits into (manual therapy, exercise, ergonomics ...)."""

    id: str
    label: str
    clinician_text: str


class MeasureMcid(_Item):
    """One published minimal clinically important change of a measure."""

    value: float | None = None
    text: str
    population: str = ""
    source: str


class OutcomeMeasure(Cited):
    """A recommended outcome measure with its MCIDs."""

    id: str
    name: str
    range: list[float] | None = None
    direction: str | None = None
    mcid: list[MeasureMcid] = Field(default_factory=list)


class FollowUp(Cited):
    """When to check back, and what to measure."""

    id: str
    when: str
    what: str


class CarePlan(Cited):
    """How needling fits with other care, how to measure progress and when to follow up."""

    components: list[CareComponent] = Field(default_factory=list)
    combined_evidence: list[EvidenceRow] = Field(default_factory=list)
    measures: list[OutcomeMeasure] = Field(default_factory=list)
    follow_up: list[FollowUp] = Field(default_factory=list)
