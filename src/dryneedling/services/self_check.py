"""Use case: the public self-check "Is dry needling right for me?" (/learn/self-check).

A few plain answers become a profile mapping of the assessment (:func:`profile_from_answers`), which the
assessment's own screening reads (:func:`dryneedling.services.assess.assess`): the self-check has no rules of
its own. The answer (:class:`SelfCheckResult`) holds the screening decision with the patient wording of every
finding, what the evidence table says for that part of the body, and cited questions to ask a clinician.
The choices offered are built from the catalog (body areas, the children rule's ages, the chronic-pain
modifier's weeks). Nothing is stored. No web imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dryneedling.catalog import Catalog
from dryneedling.errors import InputError, validation_message
from dryneedling.services.assess import assess
from dryneedling.services.learn import (
    Claim,
    Footnote,
    Group,
    _evidence_groups,
    _fact,
    _gap_groups,
    learn_data,
    number_sources,
)

Pregnancy = Literal["no", "1", "2", "3", "unsure"]
BloodThinner = Literal["no", "yes", "unsure"]
Implant = Literal["none", "pacemaker", "here", "elsewhere"]
Reactions = Literal["never", "fine", "fainted"]
AgeBand = Literal["young_child", "minor", "adult"]
Duration = Literal["short", "long"]

#: The medicine name used when someone takes a blood thinner but does not know which (a name the
#: medication vocabulary reads as "blood thinner, not named").
UNNAMED_BLOOD_THINNER = "blood thinner"


class Answers(BaseModel):
    """The self-check's answers (every field has a plain choice; ids are checked against the catalog)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    area: str
    duration: Duration = "short"
    pregnancy: Pregnancy = "no"
    blood_thinner: BloodThinner = "no"
    blood_thinner_name: str = Field("", max_length=80)
    implant: Implant = "none"
    needle_fear: Literal["none", "mild", "severe"] = "none"
    reactions: Reactions = "never"
    age: AgeBand = "adult"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


def choices(catalog: Catalog) -> dict[str, list[Choice]]:
    """The options of each question, with labels built from the catalog's data."""
    kb, rules = catalog.kb, catalog.guidance.screening
    children = rules.children
    labels = learn_data(catalog).self_check.choice_labels
    chronic_weeks = _chronic_weeks(catalog)
    return {
        "area": [
            Choice(area_id, area.label)
            for area_id, area in kb.areas.items()
            if _condition_for(catalog, area_id)
        ],
        "duration": [
            Choice("short", f"Less than {chronic_weeks:g} weeks"),
            Choice("long", f"{chronic_weeks:g} weeks or more"),
        ],
        **{
            question: [Choice(value, label) for value, label in options.items()]
            for question, options in labels.items()
        },
        "age": [
            Choice("young_child", f"Under {children.youngest_age_with_cited_basis}"),
            Choice("minor", f"{children.youngest_age_with_cited_basis} to {children.under_age - 1}"),
            Choice("adult", f"{children.under_age} or older"),
        ],
    }


def defaults() -> dict[str, str]:
    """The answer each question starts with (the Answers model's defaults)."""
    return {name: f.default for name, f in Answers.model_fields.items() if isinstance(f.default, str)}


def _chronic_weeks(catalog: Catalog) -> float:
    rule = next(m for m in catalog.guidance.modifiers if m.trigger.kind == "duration_at_least")
    return rule.trigger.weeks  # type: ignore[union-attr]


def _condition_for(catalog: Catalog, area: str) -> str | None:
    """A condition of ``area`` for the profile (one with pooled evidence first); None when the area has none."""
    conditions = [(cid, c) for cid, c in catalog.kb.conditions.items() if c.area == area]
    conditions.sort(key=lambda pair: pair[1].evidence_region is None)
    return conditions[0][0] if conditions else None


def _age(catalog: Catalog, band: str) -> int:
    """A representative age of the band, at the children rule's own edges."""
    children = catalog.guidance.screening.children
    if band == "young_child":
        return max(children.youngest_age_with_cited_basis - 1, 0)
    if band == "minor":
        return children.youngest_age_with_cited_basis
    return children.under_age


def read_answers(raw: Any, catalog: Catalog) -> Answers:
    """Validate raw answers (a mapping); InputError names the first field that is wrong."""
    try:
        answers = Answers.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "answers"
        raise InputError(field, validation_message(first), value=first.get("input")) from None
    valid = [c.value for c in choices(catalog)["area"]]
    if answers.area not in valid:
        raise InputError.unknown("area", answers.area, valid)
    return answers


def profile_from_answers(answers: Answers, catalog: Catalog) -> dict[str, Any]:
    """The assessment profile mapping these answers stand for (read by the same screening as any profile)."""
    kb = catalog.kb
    age = _age(catalog, answers.age)
    medications: list[str] = []
    if answers.blood_thinner != "no":
        medications.append(answers.blood_thinner_name.strip() or UNNAMED_BLOOD_THINNER)
    implant_regions: list[dict[str, str]] = []
    if answers.implant == "pacemaker":
        implant_regions.append({"region": "chest"})
    elif answers.implant == "here":
        implant_regions.append({"region": answers.area})
    profile: dict[str, Any] = {
        "age": age,
        "condition": _condition_for(catalog, answers.area),
        "pain_regions": sorted(rid for rid, region in kb.regions.items() if region.area == answers.area),
        "duration_weeks": _chronic_weeks(catalog) if answers.duration == "long" else 1,
        "needle_fear": answers.needle_fear,
        "medications": medications,
        "implant_regions": implant_regions,
        "consent": True,
        # A minor's self-check is read as a parent or guardian's: the result says a guardian must agree.
        "consent_by": "guardian" if age < catalog.guidance.screening.children.under_age else "self",
        "previous_dry_needling": {
            "sessions": 0 if answers.reactions == "never" else 1,
            "vasovagal_reaction": answers.reactions == "fainted",
        },
    }
    if answers.pregnancy != "no":
        trimester = None if answers.pregnancy == "unsure" else int(answers.pregnancy)
        profile["pregnancy"] = {"pregnant": True, "trimester": trimester}
    return profile


def _rephrase(text: str, phrases: dict[str, str]) -> str:
    """The screening's wording with the learn data's replacements (longest phrase first)."""
    for old in sorted(phrases, key=len, reverse=True):
        text = text.replace(old, phrases[old])
    return text


@dataclass(frozen=True)
class SelfCheckResult:
    decision: str
    decision_heading: str
    decision_text: str
    reasons: tuple[Claim, ...]
    item_ids: tuple[str, ...]  # the screening items behind ``reasons``
    rescreen_text: str
    evidence: tuple[Group, ...]
    no_evidence_text: str
    ask: tuple[Claim, ...]
    handoff: str
    area_label: str
    numbers: dict[str, int]
    footnotes: tuple[Footnote, ...]

    def claims(self) -> list[Claim]:
        return [*self.reasons, *(c for g in self.evidence for c in g.claims), *self.ask]


def self_check(catalog: Catalog, raw: Any) -> SelfCheckResult:
    """Read the answers, screen them with the assessment and gather what to show; InputError for bad answers."""
    answers = read_answers(raw, catalog)
    learn = learn_data(catalog)
    wording = learn.self_check
    report = assess(catalog, profile_from_answers(answers, catalog), "patient")
    screening = report.screening
    shown = [item for item in screening.items if item.effect != "technique" and item.patient_text]
    reasons = tuple(
        _fact(catalog, _rephrase(item.patient_text, wording.rephrase), item.sources, item.confidence)
        for item in shown
    )
    regions = sorted(
        {
            c.evidence_region
            for c in catalog.kb.conditions.values()
            if c.area == answers.area and c.evidence_region is not None
        }
    )
    groups: list[Group] = []
    for region in regions:
        groups.extend(_evidence_groups(catalog, region))
        groups.extend(_gap_groups(catalog, region))
    ask = tuple(
        _fact(catalog, s.text, s.sources, s.confidence) for s in (learn.statement(i) for i in wording.ask)
    )
    numbers, footnotes = number_sources(catalog, [*reasons, *(c for g in groups for c in g.claims), *ask])
    return SelfCheckResult(
        decision=screening.decision,
        decision_heading=wording.decision_headings[screening.decision],
        decision_text=screening.patient_text,
        reasons=reasons,
        item_ids=tuple(item.id for item in shown),
        rescreen_text=screening.rescreen_patient_text,
        evidence=tuple(groups),
        no_evidence_text="" if groups else " ".join(wording.no_region_evidence.split()),
        ask=ask,
        handoff=" ".join(wording.handoff.split()),
        area_label=catalog.kb.areas[answers.area].label,
        numbers=numbers,
        footnotes=footnotes,
    )
