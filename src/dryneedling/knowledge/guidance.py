"""Assessment guidance: the cited data behind modifiers, screening triggers, heat, aftercare and care plans.

The YAML files live in ``data/guidance/``. :func:`load_guidance` validates them (pydantic, extra keys
forbidden) and checks every source id against ``load_knowledge().sources`` and every safety item, region,
area, anatomical region and measure id against the knowledge base. Thresholds (ages, weeks, soreness
hours) live here, not in code; the CSI cut-off is read from the KB measure.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dryneedling.knowledge.models import Confidence

GUIDANCE_DIR = Path(__file__).parent / "data" / "guidance"


class GuidanceError(Exception):
    """The guidance data is inconsistent (a bad id, a missing source); lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("guidance data problems:\n  " + "\n  ".join(problems))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _CitedEntry(_Frozen):
    sources: tuple[str, ...] = ()
    confidence: Confidence
    clinical_reasoning: bool = False

    @model_validator(mode="after")
    def _needs_sources_unless_reasoning(self) -> _CitedEntry:
        if not self.sources and not self.clinical_reasoning:
            raise ValueError("needs sources (or clinical_reasoning: true)")
        if self.clinical_reasoning and self.confidence != "low":
            raise ValueError("clinical reasoning must carry confidence low")
        return self


# ---------------- medications ----------------
class Drug(_Frozen):
    id: str
    names: tuple[str, ...] = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)


class DrugClass(_Frozen):
    id: str
    label: str
    safety_item: str
    sources: tuple[str, ...] = Field(min_length=1)
    confidence: Confidence
    drugs: tuple[Drug, ...]


class Unrecognised(_Frozen):
    safety_item: str
    note: str


class Medications(_Frozen):
    classes: tuple[DrugClass, ...]
    unrecognised: Unrecognised


# ---------------- comorbidities and screening ----------------
class Comorbidity(_Frozen):
    id: str
    label: str
    safety_items: tuple[str, ...] = ()


class ChildrenRule(_Frozen):
    safety_item: str
    under_age: int
    threshold_note: str
    confidence: Confidence


class TrainingRule(_Frozen):
    safety_item: str
    blocks_when_hours_at_most: float


class PregnancyRule(_Frozen):
    safety_item: str
    blocks_all_in_trimesters: tuple[int, ...]
    blocks_all_when_unknown_trimester: bool
    blocks_all_when_first_treatment: bool
    avoid_regions: tuple[str, ...]
    sources: tuple[str, ...] = Field(min_length=1)
    confidence: Confidence


class ScreeningRules(_Frozen):
    region_fields: dict[str, str]
    precaution_region_fields: dict[str, str] = {}
    needle_fear: dict[Literal["mild", "severe"], str]
    consent_missing: str
    children: ChildrenRule
    first_treatment: str
    vasovagal_history: str
    training: TrainingRule
    pregnancy: PregnancyRule
    anatomy_precautions: dict[str, str]
    examined_trigger_point_boost: dict[Literal["active", "latent"], float]


# ---------------- modifiers ----------------
class Trigger(_Frozen):
    model_config = ConfigDict(frozen=True, extra="allow")
    kind: Literal[
        "trigger_point_kind",
        "only_latent_trigger_points",
        "duration_at_least",
        "csi_at_least",
        "comorbidity_any",
        "distress",
        "sex_is",
        "age_at_least",
        "prior_injuries_present",
        "practitioner_recorded",
        "first_treatment",
        "previous_sessions",
        "region_field",
        "bleeding_risk",
    ]

    def param(self, name: str, default: Any = None) -> Any:
        """A trigger parameter (weeks, ids, value ...) from the YAML."""
        return (self.model_extra or {}).get(name, default)


class ModifierRule(_CitedEntry):
    id: str
    label: str
    trigger: Trigger
    threshold_note: str | None = None
    finding: str
    expected_effect: str
    what_to_do: str
    patient_text: str
    widens_soreness: bool = False


# ---------------- heat ----------------
class HeatDefault(_CitedEntry):
    recommended_by_default: bool
    reason: str
    how: str
    patient_text: str


class HeatContraindication(_CitedEntry):
    id: str
    label: str
    trigger: Trigger
    applies_to: tuple[Literal["before", "after"], ...] = Field(min_length=1)
    reason: str
    patient_text: str


class HeatGuidance(_Frozen):
    before: HeatDefault
    after: HeatDefault
    evidence_note: str
    evidence_sources: tuple[str, ...] = Field(min_length=1)
    contraindications: tuple[HeatContraindication, ...]


# ---------------- aftercare ----------------
class SorenessGuidance(_CitedEntry):
    low_hours: int = Field(ge=0)
    high_hours: int = Field(gt=0)
    text: str
    patient_text: str
    widened_text: str
    widened_patient_text: str


class AftercareTipRule(_CitedEntry):
    id: str
    label: str
    who: Literal["clinician", "patient"]
    helps: bool
    clinician_text: str
    patient_text: str


class ShowWhen(_Frozen):
    kind: Literal["always", "candidate_region", "bleeding_risk"]
    regions: tuple[str, ...] = ()


class WarningSignRule(_CitedEntry):
    id: str
    show_when: ShowWhen
    urgency: Literal["emergency", "urgent", "call"]
    sign: str
    action: str
    patient_text: str


class AftercareGuidance(_Frozen):
    soreness: SorenessGuidance
    what_helps: tuple[AftercareTipRule, ...]
    warning_signs: tuple[WarningSignRule, ...]


# ---------------- care plan ----------------
class CareComponentRule(_CitedEntry):
    id: str
    label: str
    areas: Literal["all"] | tuple[str, ...]
    clinician_text: str
    patient_text: str

    def applies_to(self, area: str | None) -> bool:
        """True when this component belongs to the plan for a condition in ``area``."""
        return self.areas == "all" or (area is not None and area in self.areas)


class FollowUpRule(_CitedEntry):
    id: str
    when: str
    what: str
    patient_text: str


class CarePlanGuidance(_Frozen):
    components: tuple[CareComponentRule, ...]
    follow_up: tuple[FollowUpRule, ...]


class Guidance(_Frozen):
    """All assessment guidance, validated against the knowledge base."""

    medications: Medications
    comorbidities: dict[str, Comorbidity]
    screening: ScreeningRules
    modifiers: tuple[ModifierRule, ...]
    heat: HeatGuidance
    aftercare: AftercareGuidance
    care_plan: CarePlanGuidance

    def drug_index(self) -> dict[str, tuple[Drug, DrugClass]]:
        """Lower-case medication name -> (drug, class)."""
        index: dict[str, tuple[Drug, DrugClass]] = {}
        for klass in self.medications.classes:
            for drug in klass.drugs:
                for name in drug.names:
                    index[name.lower()] = (drug, klass)
        return index


def _read(directory: Path, name: str) -> Any:
    path = directory / f"{name}.yaml"
    with path.open(encoding="utf-8") as handle:
        # libyaml's safe loader when installed (as knowledge.load does): the pure-Python one took
        # ~0.1 s of every report.
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _walk_sources(node: Any, where: str) -> list[tuple[str, str]]:
    """Every (location, source id) under ``node`` (keys ``sources``, ``evidence_sources``)."""
    found: list[tuple[str, str]] = []
    if isinstance(node, BaseModel):
        node = node.model_dump()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("sources", "evidence_sources") and isinstance(value, list | tuple):
                found.extend((f"{where}.{key}", sid) for sid in value)
            else:
                found.extend(_walk_sources(value, f"{where}.{key}" if where else str(key)))
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            label = value.get("id", index) if isinstance(value, dict) else index
            found.extend(_walk_sources(value, f"{where}[{label}]"))
    return found


def _check_against_kb(guidance: Guidance, kb: Any) -> list[str]:
    problems: list[str] = []
    for where, sid in _walk_sources(guidance, ""):
        if sid not in kb.sources:
            problems.append(f"{where}: unknown source id {sid!r}")

    def need(table: Any, ids: Any, where: str, kind: str) -> None:
        for item in [ids] if isinstance(ids, str) else ids:
            if item not in table:
                problems.append(f"{where}: unknown {kind} id {item!r}")

    safety = kb.safety_items
    for klass in guidance.medications.classes:
        need(safety, klass.safety_item, f"medications.{klass.id}", "safety item")
    need(safety, guidance.medications.unrecognised.safety_item, "medications.unrecognised", "safety item")
    for comorbidity in guidance.comorbidities.values():
        need(safety, comorbidity.safety_items, f"comorbidities.{comorbidity.id}", "safety item")
    rules = guidance.screening
    need(safety, list(rules.region_fields.values()), "screening.region_fields", "safety item")
    need(
        safety,
        list(rules.precaution_region_fields.values()),
        "screening.precaution_region_fields",
        "safety item",
    )
    need(safety, list(rules.needle_fear.values()), "screening.needle_fear", "safety item")
    need(safety, list(rules.anatomy_precautions.values()), "screening.anatomy_precautions", "safety item")
    need(
        kb.anatomical_regions,
        list(rules.anatomy_precautions),
        "screening.anatomy_precautions",
        "anatomical region",
    )
    for name in ("consent_missing", "first_treatment", "vasovagal_history"):
        need(safety, getattr(rules, name), f"screening.{name}", "safety item")
    for name in ("children", "training", "pregnancy"):
        need(safety, getattr(rules, name).safety_item, f"screening.{name}", "safety item")
    need(kb.regions, rules.pregnancy.avoid_regions, "screening.pregnancy.avoid_regions", "body region")
    comorbidity_ids = set(guidance.comorbidities)
    for rule in [*guidance.modifiers, *guidance.heat.contraindications]:
        if rule.trigger.kind == "comorbidity_any":
            need(comorbidity_ids, rule.trigger.param("ids", []), f"{rule.id}.trigger", "comorbidity")
        if rule.trigger.kind == "csi_at_least":
            measure = kb.measures.get(rule.trigger.param("cutoff_from_measure", ""))
            if measure is None or getattr(measure, "cutoff", None) is None:
                problems.append(f"modifiers.{rule.id}: cutoff_from_measure needs a KB measure with a cutoff")
    for sign in guidance.aftercare.warning_signs:
        need(
            kb.anatomical_regions,
            sign.show_when.regions,
            f"aftercare.warning_signs.{sign.id}",
            "anatomical region",
        )
    for component in guidance.care_plan.components:
        if component.areas != "all":
            need(kb.areas, component.areas, f"care_plan.{component.id}.areas", "area")
    soreness = guidance.aftercare.soreness
    if soreness.low_hours >= soreness.high_hours:
        problems.append("aftercare.soreness: low_hours must be below high_hours")
    return problems


def load_guidance_from(directory: Path, kb: Any) -> Guidance:
    """Load and validate the guidance YAML in ``directory`` against ``kb`` (raises GuidanceError)."""
    try:
        comorbidities = _read(directory, "comorbidities")["comorbidities"]
        guidance = Guidance.model_validate(
            {
                "medications": _read(directory, "medications"),
                "comorbidities": {entry["id"]: entry for entry in comorbidities},
                "screening": _read(directory, "screening"),
                "modifiers": _read(directory, "modifiers")["modifiers"],
                "heat": _read(directory, "heat"),
                "aftercare": _read(directory, "aftercare"),
                "care_plan": _read(directory, "care_plan"),
            }
        )
    except ValidationError as exc:
        raise GuidanceError(
            [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        ) from None
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise GuidanceError([f"{directory}: {exc!r}"]) from None
    problems = _check_against_kb(guidance, kb)
    if problems:
        raise GuidanceError(problems)
    return guidance


@lru_cache(maxsize=1)
def load_guidance() -> Guidance:
    """The project's guidance data, validated against ``load_knowledge()`` (cached)."""
    from dryneedling.knowledge import load_knowledge

    return load_guidance_from(GUIDANCE_DIR, load_knowledge())
