"""Screening: contraindications and precautions for one person, region-aware.

Every finding maps to a safety item of the knowledge base (class, clinician action and sources come from
there); the guidance data says which profile fields raise which item. Whole-body absolute items stop
needling (``do_not_needle``); regional items keep needles out of the listed regions only; relative items
and precautions change how to needle (``needle_with_precautions``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dryneedling.assessment.medications import counts_for_screening, read_entries
from dryneedling.assessment.models import MedicationFinding, Screening, ScreeningItem
from dryneedling.assessment.profile import (
    REGION_LIST_FIELDS,
    MedicationEntry,
    PatientProfile,
    RegionMark,
)
from dryneedling.knowledge.guidance import Guidance
from dryneedling.vocabulary import weakest_confidence

if TYPE_CHECKING:
    from dryneedling.catalog import Catalog


def expand_regions(marks: Iterable[RegionMark], kb: Any) -> list[str]:
    """Body-region ids covered by ``marks``; an area id (e.g. shoulder_arm) stands for all its regions."""
    regions: list[str] = []
    for mark in marks:
        if mark.region in kb.regions:
            covered = [mark.region]
        else:
            covered = sorted(rid for rid, region in kb.regions.items() if region.area == mark.region)
        regions.extend(r for r in covered if r not in regions)
    return regions


def _place_label(region_or_area: str, kb: Any) -> str:
    """The plain label of a body region or area id (lower case, for patient sentences)."""
    place = kb.regions.get(region_or_area) or kb.areas.get(region_or_area)
    return place.label.lower() if place else region_or_area.replace("_", " ")


def _mark_label(mark: RegionMark) -> str:
    return f"{mark.side} {mark.region}" if mark.side else mark.region


def _item(
    kb: Any,
    safety_id: str,
    reason: str,
    *,
    regions: list[str] | None = None,
    effect: str | None = None,
    extra_sources: Iterable[str] = (),
    recorded: str | None = None,
    patient_text: str | None = None,
) -> ScreeningItem:
    safety = kb.safety_items[safety_id]
    scope = safety.scope
    if effect is None:
        if safety.klass == "absolute" and scope == "whole_body":
            effect = "blocks_all"
        elif regions:
            effect = "blocks_regions"
        else:
            effect = "precaution"
    sources = list(dict.fromkeys([*safety.sources, *extra_sources]))
    return ScreeningItem(
        id=safety.id,
        label=safety.label,
        klass=safety.klass,
        scope=scope,
        effect=effect,
        reason=reason,
        action=safety.clinician_action,
        regions=regions or [],
        sources=sources,
        confidence=safety.confidence,
        patient_text=patient_text or safety.patient_text,
        recorded=[recorded] if recorded else [],
    )


def read_medications(names: Iterable[str | MedicationEntry], guidance: Guidance) -> list[MedicationFinding]:
    """Recognise anticoagulants and antiplatelets by generic or brand name (see assessment.medications)."""
    return read_entries(names, guidance)


def bleeding_risk(
    profile: PatientProfile, guidance: Guidance, findings: list[MedicationFinding] | None = None
) -> bool:
    """True when the person has a bleeding disorder or takes an anticoagulant/antiplatelet.

    ``findings`` are the medicines as screening read them (read again when not given).
    """
    if "bleeding_disorder" in profile.comorbidities:
        return True
    if findings is None:
        findings = read_medications(profile.medications, guidance)
    return any(f.recognised and counts_for_screening(f) for f in findings)


def _regional_items(profile: PatientProfile, kb: Any, guidance: Guidance) -> list[ScreeningItem]:
    items: list[ScreeningItem] = []
    rules = guidance.screening
    for field in REGION_LIST_FIELDS:
        safety_id = rules.region_fields.get(field) or rules.precaution_region_fields.get(field)
        effect = "blocks_regions" if field in rules.region_fields else "precaution"
        marks = getattr(profile, field)
        if not safety_id or not marks:
            continue
        by_side: dict[str | None, list[RegionMark]] = {}
        for mark in marks:
            by_side.setdefault(mark.side, []).append(mark)
        for side, side_marks in by_side.items():
            labels = ", ".join(_mark_label(m) for m in side_marks)
            consequence = (
                "no needles in or over these regions"
                if effect == "blocks_regions"
                else "prefer other sites; needle here only with the precautions below"
            )
            places = ", ".join(
                f"{m.side + ' ' if m.side else ''}{_place_label(m.region, kb)}" for m in side_marks
            )
            item = _item(
                kb,
                safety_id,
                f"{field.replace('_', ' ')}: {labels} - {consequence}",
                regions=expand_regions(side_marks, kb),
                effect=effect,
                recorded=places,
            )
            items.append(item.model_copy(update={"side": side}))
    return items


def _pregnancy_items(profile: PatientProfile, kb: Any, guidance: Guidance) -> list[ScreeningItem]:
    if not profile.pregnancy.pregnant:
        return []
    rule = guidance.screening.pregnancy
    trimester = profile.pregnancy.trimester
    first_ever = profile.previous_dry_needling.sessions == 0
    if trimester in rule.blocks_all_in_trimesters:
        reason, effect = f"pregnant, trimester {trimester}: default is no dry needling", "blocks_all"
    elif trimester is None and rule.blocks_all_when_unknown_trimester:
        reason, effect = (
            "pregnant, trimester not recorded: treated as first trimester until known",
            "blocks_all",
        )
    elif first_ever and rule.blocks_all_when_first_treatment:
        reason, effect = (
            f"pregnant (trimester {trimester}) with no previous dry needling: not started for the first time in "
            "pregnancy",
            "blocks_all",
        )
    else:
        reason, effect = (
            f"pregnant, trimester {trimester}: needling previously tolerated; avoid abdomen, lumbosacral region "
            "and the listed sites",
            "blocks_regions",
        )
    when = f"trimester {trimester}" if trimester else "trimester not recorded"
    return [
        _item(
            kb,
            rule.safety_item,
            reason,
            regions=list(rule.avoid_regions),
            effect=effect,
            extra_sources=rule.sources,
            recorded=when,
        )
    ]


def screening_items(
    profile: PatientProfile, catalog: Catalog, medications: list[MedicationFinding] | None = None
) -> list[ScreeningItem]:
    """Every safety finding for ``profile`` (before looking at candidate muscles)."""
    kb, guidance = catalog.kb, catalog.guidance
    rules = guidance.screening
    items: list[ScreeningItem] = []
    if not profile.consent:
        items.append(
            _item(
                kb,
                rules.consent_missing,
                "consent: not willing or not able to give informed consent",
                recorded="consent was not given",
            )
        )
    items.extend(_age_items(profile, kb, guidance))
    if profile.needle_fear in rules.needle_fear:
        items.append(
            _item(
                kb,
                rules.needle_fear[profile.needle_fear],
                f"needle fear: {profile.needle_fear}",
                recorded=f"{profile.needle_fear} fear of needles",
            )
        )
    hours = profile.practitioner.training_hours if profile.practitioner else None
    if hours is not None and hours <= rules.training.blocks_when_hours_at_most:
        reason = f"practitioner: {hours:g} hours of dry-needling training recorded"
        items.append(_item(kb, rules.training.safety_item, reason))
    for comorbidity_id in profile.comorbidities:
        comorbidity = guidance.comorbidities[comorbidity_id]
        for safety_id in comorbidity.safety_items:
            items.append(
                _item(kb, safety_id, f"comorbidity: {comorbidity.label}", recorded=comorbidity.label.lower())
            )
    if medications is None:
        medications = read_medications(profile.medications, guidance)
    by_item: dict[str, list[str]] = {}
    plain: dict[str, list[str]] = {}
    for finding in medications:
        if not counts_for_screening(finding):
            continue  # stopped or not taken: listed in the report, no safety item
        if finding.recognised:
            klass = next(c for c in guidance.medications.classes if c.id == finding.drug_class)
            by_item.setdefault(klass.safety_item, []).append(f"{finding.name} ({finding.drug_class})")
            # A group name ("blood thinners", ATC group code) already says what it is.
            group = finding.atc is not None and len(finding.atc) < 7
            said = f"you take {klass.plain}" if group else f"you take {finding.name}, {klass.plain}"
            plain.setdefault(klass.safety_item, []).append(said)
        else:
            unknown_item = guidance.medications.unrecognised.safety_item
            by_item.setdefault(unknown_item, []).append(f"{finding.name} (not recognised - check manually)")
            plain.setdefault(unknown_item, []).append(finding.name)
    for safety_id, names in by_item.items():
        class_sources = [
            s for c in guidance.medications.classes if c.safety_item == safety_id for s in c.sources
        ]
        items.append(
            _item(
                kb,
                safety_id,
                "medication: " + ", ".join(names),
                extra_sources=class_sources,
                recorded="; ".join(plain[safety_id]),
            )
        )
    if profile.previous_dry_needling.vasovagal_reaction:
        items.append(
            _item(
                kb,
                rules.vasovagal_history,
                "previous vasovagal (fainting) reaction to needles",
                recorded="You have fainted with needles before",
            )
        )
    elif profile.previous_dry_needling.sessions == 0:
        technique = "first_treatment" in rules.technique_cautions
        items.append(
            _item(
                kb,
                rules.first_treatment,
                "first dry-needling session",
                effect="technique" if technique else None,
                recorded="This is your first dry needling session",
            )
        )
    items.extend(_pregnancy_items(profile, kb, guidance))
    items.extend(_regional_items(profile, kb, guidance))
    return personalise(_merge(items), catalog)


def _age_items(profile: PatientProfile, kb: Any, guidance: Guidance) -> list[ScreeningItem]:
    """A minor: the children item, a guardian's consent, and no needling below the cited ages."""
    rule = guidance.screening.children
    if profile.age >= rule.under_age:
        return []
    items = []
    if profile.age < rule.youngest_age_with_cited_basis:
        reason = rule.no_basis_reason.format(age=profile.age, youngest=rule.youngest_age_with_cited_basis)
        items.append(
            _item(
                kb,
                rule.safety_item,
                reason,
                effect="blocks_all",
                extra_sources=rule.youngest_age_sources,
                patient_text=rule.no_basis_patient_text,
            ).model_copy(update={"confidence": rule.youngest_age_confidence})
        )
    else:
        reason = f"age {profile.age} (under {rule.under_age}, project convention)"
        items.append(_item(kb, rule.safety_item, reason, recorded=f"age {profile.age}"))
    if profile.consent and profile.consent_by != "guardian":
        items.append(
            _item(
                kb,
                rule.guardian_consent_item,
                f"a minor (age {profile.age}): consent is recorded from the person, not from a parent or guardian",
                recorded="you are under 18 and a parent or guardian has not given consent yet",
            )
        )
    return items


def personalise(items: list[ScreeningItem], catalog: Catalog) -> list[ScreeningItem]:
    """Patient wording that speaks to what was recorded, where the guidance has such wording.

    Wording a rule already chose for this person (e.g. an age the evidence does not cover) is kept.
    """
    personal = catalog.guidance.screening.personal
    out = []
    for item in items:
        wording = personal.get(item.id)
        text = wording.patient_text if wording else None
        if item.patient_text != catalog.kb.safety_items[item.id].patient_text:
            text = None
        if text and item.recorded:
            item = item.model_copy(update={"patient_text": text.format(recorded="; ".join(item.recorded))})
        elif text and "{recorded}" not in text:
            item = item.model_copy(update={"patient_text": text})
        out.append(item)
    return out


def _merge(items: list[ScreeningItem]) -> list[ScreeningItem]:
    """One entry per safety item: reasons joined, regions united, the strongest effect kept."""
    strength = {"blocks_all": 0, "blocks_regions": 1, "precaution": 2, "technique": 3}
    merged: dict[tuple[str, str | None], ScreeningItem] = {}
    for item in items:
        key = (item.id, item.side)
        if key not in merged:
            merged[key] = item
            continue
        old = merged[key]
        merged[key] = old.model_copy(
            update={
                "reason": f"{old.reason}; {item.reason}",
                "regions": list(dict.fromkeys([*old.regions, *item.regions])),
                "effect": min(old.effect, item.effect, key=strength.__getitem__),
                "sources": list(dict.fromkeys([*old.sources, *item.sources])),
                "recorded": list(dict.fromkeys([*old.recorded, *item.recorded])),
                "patient_text": item.patient_text
                if strength[item.effect] < strength[old.effect]
                else old.patient_text,
            }
        )
    order = {"absolute": 0, "relative": 1, "precaution": 2}
    return sorted(merged.values(), key=lambda i: (strength[i.effect], order[i.klass]))


def decide(items: list[ScreeningItem]) -> str:
    """The screening decision from what is specific to this person.

    A caution of technique (every first session, every needle over the thorax) is shown on the plan and the
    muscles it concerns but does not, alone, move a person from ``suitable``.
    """
    if any(item.effect == "blocks_all" for item in items):
        return "do_not_needle"
    if any(item.effect != "technique" for item in items):
        return "needle_with_precautions"
    return "suitable"


def _rescreen(items: list[ScreeningItem], guidance: Guidance) -> tuple[list[str], str]:
    """What would lead to screening again after a decision not to needle, for clinician and patient."""
    rules = guidance.screening
    when: list[str] = []
    plain: list[str] = []
    for item in items:
        if item.effect != "blocks_all":
            continue
        wording = rules.personal.get(item.id)
        when.append(
            f"{item.label}: {wording.rescreen_when if wording and wording.rescreen_when else rules.rescreen_default}"
        )
        if wording and wording.rescreen_patient_text:
            plain.append(wording.rescreen_patient_text)
    when.append(rules.rescreen_default)
    plain.append(rules.rescreen_default_patient_text)
    return list(dict.fromkeys(when)), " ".join(dict.fromkeys(plain))


def make_screening(
    items: list[ScreeningItem],
    medications: list[MedicationFinding],
    guidance: Guidance,
    decision: str | None = None,
) -> Screening:
    """Assemble the Screening object (blocked regions, overall confidence, patient text)."""
    decision = decision or decide(items)
    blocked = list(
        dict.fromkeys(
            r for item in items if item.effect in ("blocks_regions", "blocks_all") for r in item.regions
        )
    )
    confidence = weakest_confidence(item.confidence for item in items)
    rescreen, rescreen_patient_text = _rescreen(items, guidance) if decision == "do_not_needle" else ([], "")
    return Screening(
        decision=decision,
        rescreen=rescreen,
        rescreen_patient_text=rescreen_patient_text,
        items=items,
        blocked_regions=blocked,
        medications=medications,
        sources=list(dict.fromkeys(s for item in items for s in item.sources)),
        confidence=confidence,
        patient_text=guidance.screening.decision_text[decision],
    )


def screen(profile: PatientProfile, catalog: Catalog) -> Screening:
    """Screen ``profile``: items, blocked regions, recognised medications and the decision."""
    medications = read_medications(profile.medications, catalog.guidance)
    items = screening_items(profile, catalog, medications)
    return make_screening(items, medications, catalog.guidance)
