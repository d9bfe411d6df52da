"""Assessment guidance: the cited data behind modifiers, screening triggers, heat, aftercare and care plans.

The YAML files live in ``data/guidance/``. :func:`load_guidance` validates them (pydantic, extra keys
forbidden, triggers typed per kind) and checks every source id and every safety item, region, area,
anatomical region and measure id against the knowledge base it is given. Thresholds (ages, weeks, soreness
hours) live here, not in code; the CSI cut-off is read from the KB measure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    model_validator,
)

from dryneedling.errors import DataError, Problem
from dryneedling.vocabulary import Confidence

GUIDANCE_DIR = Path(__file__).parent / "data" / "guidance"


#: The guidance's name for the one data-error type (kept for readers of older code).
GuidanceError = DataError


class _Frozen(BaseModel):
    # defer_build: the validator is built on first validation, not at import, so a command that gets the
    # catalog from the on-disk cache (catalog.py) never pays for validators it does not use.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


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
# WHO ATC: a letter, two digits, a letter, a letter, two digits (levels 1 to 5, e.g. B, B01, B01A, B01AC,
# B01AC06). The group codes stand for names such as "blood thinner" that do not name one substance.
ATC_PATTERN = r"^[A-Z](\d{2}([A-Z]([A-Z](\d{2})?)?)?)?$"
# Where a brand is sold: US, UK, EU, CA, AU or another two-letter country code.
Region = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class Brand(_Frozen):
    """A brand (trade) name of a drug, where it is sold, and the page that names it."""

    name: str = Field(min_length=2)
    regions: tuple[Region, ...] = ()
    sources: tuple[str, ...] = Field(min_length=1)


class Drug(_Frozen):
    id: str
    atc: str = Field(pattern=ATC_PATTERN)
    names: tuple[str, ...] = Field(min_length=1)
    brands: tuple[Brand, ...] = ()
    note: str | None = None
    sources: tuple[str, ...] = Field(min_length=1)

    def all_names(self) -> tuple[str, ...]:
        """Generic names and synonyms first, then brand names."""
        return (*self.names, *(brand.name for brand in self.brands))


class DrugClass(_Frozen):
    id: str
    label: str
    plain: str = Field(description="What the class is, in a patient's words (grade 8).")
    safety_item: str
    sources: tuple[str, ...] = Field(min_length=1)
    confidence: Confidence
    drugs: tuple[Drug, ...]


class Unrecognised(_Frozen):
    safety_item: str
    note: str


class MedicationMatching(_Frozen):
    """Cue words for stopped and unsure entries, and how far a near miss may be."""

    stopped_cues: tuple[str, ...] = ()
    unknown_cues: tuple[str, ...] = ()
    suggestion_max_edits: int = Field(2, ge=0, le=3)
    suggestion_min_length: int = Field(5, ge=3)


class Medications(_Frozen):
    matching: MedicationMatching = Field(default_factory=MedicationMatching)
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
    guardian_consent_item: str
    youngest_age_with_cited_basis: int = Field(ge=0)
    youngest_age_sources: tuple[str, ...] = Field(min_length=1)
    youngest_age_confidence: Confidence
    no_basis_reason: str
    no_basis_patient_text: str


class MuscleRule(_Frozen):
    """A safety item's prose rule as data: the candidate muscles it restricts or blocks, and why."""

    safety_item: str
    anatomical_regions: tuple[str, ...] = ()
    muscles: tuple[str, ...] = ()
    effect: Literal["blocks", "restricts"]
    action: str
    sources: tuple[str, ...] = Field(min_length=1)
    confidence: Confidence

    @model_validator(mode="after")
    def _names_something(self) -> MuscleRule:
        if not self.anatomical_regions and not self.muscles:
            raise ValueError("name anatomical_regions or muscles")
        return self


class PersonalWording(_Frozen):
    """Patient wording for an item that applies to this person, and what would lead to screening again."""

    patient_text: str | None = None
    rescreen_when: str | None = None
    rescreen_patient_text: str | None = None


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
    condition_weight: float = Field(ge=0, lt=1)
    technique_cautions: tuple[Literal["first_treatment", "anatomy_precautions"], ...] = ()
    muscle_rules: tuple[MuscleRule, ...] = ()
    personal: dict[str, PersonalWording] = {}
    rescreen_default: str
    evidence_when_not_needled: str
    rescreen_default_patient_text: str
    candidate_patient_text: str
    excluded_patient_text: str
    decision_text: dict[Literal["suitable", "needle_with_precautions", "do_not_needle"], str]


# ---------------- modifiers ----------------
class _Trigger(_Frozen):
    """What in a profile fires a rule; one model per kind, each with only the keys that kind takes."""


class TriggerPointKind(_Trigger):
    kind: Literal["trigger_point_kind"]
    kind_value: Literal["active", "latent"]


class OnlyLatentTriggerPoints(_Trigger):
    kind: Literal["only_latent_trigger_points"]


class DurationAtLeast(_Trigger):
    kind: Literal["duration_at_least"]
    weeks: float = Field(gt=0)


class CsiAtLeast(_Trigger):
    kind: Literal["csi_at_least"]
    cutoff_from_measure: str


class ComorbidityAny(_Trigger):
    kind: Literal["comorbidity_any"]
    ids: tuple[str, ...] = Field(min_length=1)


class Distress(_Trigger):
    kind: Literal["distress"]
    comorbidities: tuple[str, ...] = Field(min_length=1)
    needle_fear: tuple[Literal["mild", "severe"], ...] = ()


class SexIs(_Trigger):
    kind: Literal["sex_is"]
    value: Literal["female", "male", "other"]


class AgeAtLeast(_Trigger):
    kind: Literal["age_at_least"]
    years: int = Field(gt=0)


class PriorInjuriesPresent(_Trigger):
    kind: Literal["prior_injuries_present"]


class PractitionerRecorded(_Trigger):
    kind: Literal["practitioner_recorded"]


class FirstTreatment(_Trigger):
    kind: Literal["first_treatment"]


class PreviousSessions(_Trigger):
    kind: Literal["previous_sessions"]


class RegionField(_Trigger):
    kind: Literal["region_field"]
    field: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _one_or_many(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("field"), str):
            return {**data, "field": (data["field"],)}
        return data


class BleedingRisk(_Trigger):
    kind: Literal["bleeding_risk"]


Trigger = Annotated[
    TriggerPointKind
    | OnlyLatentTriggerPoints
    | DurationAtLeast
    | CsiAtLeast
    | ComorbidityAny
    | Distress
    | SexIs
    | AgeAtLeast
    | PriorInjuriesPresent
    | PractitionerRecorded
    | FirstTreatment
    | PreviousSessions
    | RegionField
    | BleedingRisk,
    Field(discriminator="kind"),
]


class ModifierRule(_CitedEntry):
    id: str
    label: str
    trigger: Trigger
    threshold_note: str | None = None
    finding: str
    expected_effect: str
    what_to_do: str
    what_to_do_when_restricted: str | None = Field(
        None,
        description="Used instead of what_to_do when screening restricts or excludes muscles the rule names "
        "({restricted}: those muscles and the items; {allowed}: the others).",
    )
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
    evidence_patient_text: str
    not_applicable_text: str
    not_applicable_patient_text: str
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
    without_needling_patient_text: str | None = Field(
        None, description="The patient wording when screening advises against needling (no word of needling)."
    )
    without_needling_clinician_text: str | None = Field(
        None,
        description="The clinician wording when screening advises against needling, without the parts that "
        "are about combining care with needling.",
    )
    without_needling_sources: tuple[str, ...] | None = Field(
        None,
        description="The sources of the without-needling wording when they differ from ``sources`` (a source "
        "that only speaks to needling is not cited for care without it).",
    )

    def applies_to(self, area: str | None) -> bool:
        """True when this component belongs to the plan for a condition in ``area``."""
        return self.areas == "all" or (area is not None and area in self.areas)


class FollowUpRule(_CitedEntry):
    id: str
    needling: bool = Field(False, description="Only for people who are needled (dropped otherwise).")
    when: str
    what: str
    patient_text: str


class CarePlanGuidance(_Frozen):
    components: tuple[CareComponentRule, ...]
    plan_patient_text: str
    plan_without_needling_patient_text: str
    measure_patient_text: str
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
    # Indexes built from these (frozen) data on first use, e.g. the medicine vocabulary; they live and die
    # with this object, so no module keeps data that could outlive or disagree with it.
    _derived: dict[str, Any] = PrivateAttr(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        # Equal data means equal guidance, whichever indexes either object has built so far.
        return isinstance(other, Guidance) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # holds dicts: not hashable, as before

    def derived(self, key: str, build: Callable[[Guidance], Any]) -> Any:
        """``build(self)``, computed once per guidance object and kept under ``key``."""
        if key not in self._derived:
            self._derived[key] = build(self)
        return self._derived[key]

    def drug_index(self) -> dict[str, tuple[Drug, DrugClass]]:
        """Lower-case medication name (generic or brand) -> (drug, class)."""
        index: dict[str, tuple[Drug, DrugClass]] = {}
        for klass in self.medications.classes:
            for drug in klass.drugs:
                for name in drug.all_names():
                    index[name.lower()] = (drug, klass)
        return index


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


def _name_key(name: str) -> str:
    # The same folding the reader applies (case, hyphens, spacing), so that "Sintrom-Uno" and
    # "sintrom uno" count as one name here too.
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name.lower()).split())


def _medication_name_problems(medications: Medications) -> list[str]:
    """Duplicate drug ids, and any name (generic or brand) that maps to two drugs."""
    problems: list[str] = []
    owner: dict[str, str] = {}
    ids: set[str] = set()
    for klass in medications.classes:
        for drug in klass.drugs:
            if drug.id in ids:
                problems.append(f"medications.{klass.id}.{drug.id}: drug id used twice")
            ids.add(drug.id)
            for name in drug.all_names():
                key = _name_key(name)
                if not key:
                    problems.append(f"medications.{klass.id}.{drug.id}: empty name {name!r}")
                elif owner.get(key, drug.id) != drug.id:
                    problems.append(
                        f"medications.{klass.id}.{drug.id}: name {name!r} also names {owner[key]!r}"
                    )
                owner.setdefault(key, drug.id)
    return problems


def _check_against_kb(guidance: Guidance, kb: Any) -> list[Problem]:
    problems: list[Problem] = []

    def add(where: str, message: str) -> None:
        section, _, rest = where.lstrip(".").partition(".")
        problems.append(
            Problem(f"guidance/{SECTION_FILES.get(section, section)}.yaml", rest or "-", "", message)
        )

    for where, sid in _walk_sources(guidance, ""):
        if sid not in kb.sources:
            add(where, f"unknown source id {sid!r}")

    def need(table: Any, ids: Any, where: str, kind: str) -> None:
        for item in [ids] if isinstance(ids, str) else ids:
            if item not in table:
                add(where, f"unknown {kind} id {item!r}")

    safety = kb.safety_items
    for klass in guidance.medications.classes:
        need(safety, klass.safety_item, f"medications.{klass.id}", "safety item")
    for text in _medication_name_problems(guidance.medications):
        where, _, message = text.partition(": ")
        add(where, message)
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
    need(
        safety,
        rules.children.guardian_consent_item,
        "screening.children.guardian_consent_item",
        "safety item",
    )
    need(safety, list(rules.personal), "screening.personal", "safety item")
    for index, rule in enumerate(rules.muscle_rules):
        where = f"screening.muscle_rules[{index}]"
        need(safety, rule.safety_item, where, "safety item")
        need(kb.anatomical_regions, rule.anatomical_regions, where, "anatomical region")
        need(kb.muscles, rule.muscles, where, "muscle")
    need(kb.regions, rules.pregnancy.avoid_regions, "screening.pregnancy.avoid_regions", "body region")
    comorbidity_ids = set(guidance.comorbidities)
    for rule in [*guidance.modifiers, *guidance.heat.contraindications]:
        if rule.trigger.kind == "comorbidity_any":
            need(comorbidity_ids, rule.trigger.ids, f"{_section(rule)}.{rule.id}.trigger", "comorbidity")
        if rule.trigger.kind == "distress":
            need(comorbidity_ids, rule.trigger.comorbidities, f"modifiers.{rule.id}.trigger", "comorbidity")
        if rule.trigger.kind == "csi_at_least":
            measure = kb.measures.get(rule.trigger.cutoff_from_measure)
            if measure is None or getattr(measure, "cutoff", None) is None:
                add(f"modifiers.{rule.id}.trigger", "cutoff_from_measure needs a KB measure with a cutoff")
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
        add("aftercare.soreness", "low_hours must be below high_hours")
    from dryneedling.knowledge.tiers import guidance_facts, tier_problems

    for file, entry, field_name, message in tier_problems(guidance_facts(guidance), kb.sources):
        problems.append(Problem(file, entry, field_name, message))
    return problems


SECTION_FILES = {"care_plan": "care_plan", "comorbidities": "comorbidities", "heat": "heat"}


def _section(rule: Any) -> str:
    return "heat" if isinstance(rule, HeatContraindication) else "modifiers"


def _pydantic_problems(exc: ValidationError, raw: dict[str, Any]) -> list[Problem]:
    """One Problem per pydantic error: the file from the section, the entry id where there is one."""
    problems = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        section = loc[0] if loc else "-"
        node: Any = raw.get(section)
        entry_parts: list[str] = []
        for part in loc[1:-1]:
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
                entry_parts.append(
                    str(node.get("id", f"#{int(part) + 1}")) if isinstance(node, dict) else part
                )
            elif isinstance(node, dict):
                node = node.get(part)
                entry_parts.append(part)
            else:
                entry_parts.append(part)
        message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        if err["type"] == "missing":
            message = "missing required field"
        problems.append(
            Problem(f"guidance/{section}.yaml", ".".join(entry_parts) or "-", loc[-1] if loc else "", message)
        )
    return problems


def load_guidance(directory: Path, kb: Any) -> Guidance:
    """Load and validate the guidance YAML in ``directory`` against ``kb``.

    Raises :class:`~dryneedling.errors.DataError` with every problem, each naming file, entry and field.
    """
    import yaml  # here, not at the top: a catalog read from the cache needs no YAML parser

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # safe loaders only; the C one is faster
    raw: dict[str, Any] = {}
    problems: list[Problem] = []
    for name in ("medications", "comorbidities", "screening", "modifiers", "heat", "aftercare", "care_plan"):
        path = directory / f"{name}.yaml"
        try:
            with path.open(encoding="utf-8") as handle:
                raw[name] = yaml.load(handle, Loader=loader)
        except OSError:
            problems.append(Problem(f"guidance/{name}.yaml", "-", "", "file missing or unreadable"))
        except UnicodeDecodeError:
            problems.append(Problem(f"guidance/{name}.yaml", "-", "", "not a text file (UTF-8)"))
        except yaml.YAMLError as exc:
            problems.append(Problem(f"guidance/{name}.yaml", "-", "", f"not valid YAML: {exc}"))
    if problems:
        raise DataError(problems)
    try:
        comorbidities = (raw["comorbidities"] or {}).get("comorbidities") or []
        data = {
            **raw,
            "comorbidities": {entry["id"]: entry for entry in comorbidities},
            "modifiers": (raw["modifiers"] or {}).get("modifiers"),
        }
    except (AttributeError, KeyError, TypeError) as exc:
        raise DataError([Problem("guidance/", "-", "", f"unexpected structure: {exc!r}")]) from None
    try:
        guidance = Guidance.model_validate(data)
    except ValidationError as exc:
        raise DataError(_pydantic_problems(exc, data)) from None
    problems = _check_against_kb(guidance, kb)
    if problems:
        raise DataError(problems)
    return guidance
