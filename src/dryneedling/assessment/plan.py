"""The plan: where to needle (limited by screening), heat before/after, aftercare and the care plan.

All wording, thresholds and sources come from the guidance data and the knowledge base; this module
decides which entries apply to one person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dryneedling.assessment.models import (
    Aftercare,
    AftercareTip,
    CandidateMuscle,
    CareComponent,
    CarePlan,
    EvidenceSection,
    ExcludedMuscle,
    FollowUp,
    HeatAdvice,
    HeatPlan,
    MeasureMcid,
    Modifier,
    OutcomeMeasure,
    Restriction,
    SafetyNote,
    Screening,
    ScreeningItem,
    SorenessWindow,
    WarningSign,
)
from dryneedling.assessment.profile import PatientProfile
from dryneedling.assessment.screening import bleeding_risk, expand_regions, make_screening
from dryneedling.evidence.table import EvidenceRow
from dryneedling.knowledge.guidance import Trigger
from dryneedling.knowledge.regions import describe_regions
from dryneedling.vocabulary import weakest_confidence

if TYPE_CHECKING:
    from dryneedling.catalog import Catalog


def _weakest(*levels: str) -> str:
    return weakest_confidence(levels)


# ---------------- candidate muscles ----------------
def _applies_to_treatment_side(item: ScreeningItem, side: str | None) -> bool:
    if item.side in (None, "bilateral") or side in (None, "bilateral"):
        return True
    return item.side == side


def _blocking_items(screening: Screening, profile: PatientProfile) -> list[ScreeningItem]:
    return [
        item
        for item in screening.items
        if item.effect == "blocks_regions" and _applies_to_treatment_side(item, profile.side)
    ]


def _block_reason(muscle: Any, items: list[ScreeningItem], kb: Any) -> ScreeningItem | None:
    """The first blocking item whose regions lie in the muscle's area (the needle would go there)."""
    for item in items:
        areas = {kb.regions[r].area for r in item.regions if r in kb.regions}
        if muscle.area in areas:
            return item
    return None


def _patient_text_for(safety: list[SafetyNote], restrictions: list[Restriction], catalog: Catalog) -> str:
    generic = catalog.guidance.screening.candidate_patient_text
    limits = [r for r in restrictions if r.effect == "restricts"]
    if limits:
        return f"{generic} {limits[0].patient_text}"
    for note in safety:
        region = catalog.kb.anatomical_regions.get(note.anatomical_region or "")
        if region is not None:
            return f"{generic} {region.patient_text}"
    return generic


def _safety_notes(raw: Any) -> list[SafetyNote]:
    notes = []
    for entry in raw or []:
        data = entry if isinstance(entry, dict) else entry.model_dump()
        notes.append(SafetyNote(**{k: data.get(k) for k in ("anatomical_region", "note", "anatomy_sourced")}))
    return notes


def _muscle_rule_hits(item_ids: set[str], muscle: Any, catalog: Catalog) -> list[Any]:
    """The guidance's muscle rules of the present items that name this muscle (directly or by anatomy)."""
    kb = catalog.kb
    hits = []
    for rule in catalog.guidance.screening.muscle_rules:
        if rule.safety_item not in item_ids:
            continue
        at_risk = {
            m for region in rule.anatomical_regions for m in kb.anatomical_regions[region].muscles_at_risk
        }
        if muscle.id in rule.muscles or muscle.id in at_risk:
            hits.append(rule)
    return hits


def _restrictions(
    muscle: Any, screening: Screening, profile: PatientProfile, catalog: Catalog
) -> tuple[ScreeningItem | None, list[Restriction]]:
    """The item that blocks this muscle (or None) and the restrictions that apply to it."""
    kb, rules = catalog.kb, catalog.guidance.screening
    items = {item.id: item for item in screening.items}
    blocker = next((i for i in screening.items if i.effect == "blocks_all"), None)
    blocker = blocker or _block_reason(muscle, _blocking_items(screening, profile), kb)
    restrictions: list[Restriction] = []
    for rule in _muscle_rule_hits(set(items), muscle, catalog):
        item = items[rule.safety_item]
        if rule.effect == "blocks" and blocker is None:
            blocker = item.model_copy(update={"reason": f"{item.reason} - {rule.action}"})
        elif rule.effect == "restricts":
            restrictions.append(_restriction(item, "restricts", rule.action, item.reason, rule))
    for item in screening.items:  # regional precautions: prefer other sites in these regions
        if item.effect != "precaution" or item.scope != "regional" or not item.regions:
            continue
        if not _applies_to_treatment_side(item, profile.side):
            continue
        if muscle.area in {kb.regions[r].area for r in item.regions if r in kb.regions}:
            restrictions.append(_restriction(item, "restricts", item.action, item.reason, item))
    for region_id, safety_id in rules.anatomy_precautions.items():
        if any(h.anatomical_region == region_id for h in muscle.needling_safety):
            safety = kb.safety_items[safety_id]
            effect = "caution" if "anatomy_precautions" in rules.technique_cautions else "restricts"
            reason = f"lies over {region_id}"
            restrictions.append(_restriction(safety, effect, safety.clinician_action, reason, safety))
    return blocker, restrictions


def _restriction(item: Any, effect: str, action: str, reason: str, cited: Any) -> Restriction:
    """A Restriction for the screening or safety ``item``; ``cited`` carries the sources and confidence."""
    return Restriction(
        id=item.id,
        label=item.label,
        effect=effect,
        action=action,
        reason=reason,
        sources=list(cited.sources),
        confidence=cited.confidence,
        patient_text=item.patient_text,
    )


def _rank_key(candidate: CandidateMuscle) -> tuple:
    """Unrestricted before restricted; an examined active point that explains the pain first; then score."""
    active_explains = candidate.examined == "active" and bool(candidate.matched_regions)
    return (candidate.restricted, not active_explains, -candidate.score, candidate.muscle)


def candidates_for(
    profile: PatientProfile, screening: Screening, catalog: Catalog
) -> tuple[list[CandidateMuscle], list[ExcludedMuscle]]:
    """Atlas ranking for the painful regions, governed by screening, examined trigger points boosted.

    Every candidate carries the screening items that apply to it (``restrictions``). A muscle an item blocks
    (a regional block on the treatment side, a muscle rule of the guidance, or do-not-needle) moves to the
    excluded list with that item. Restricted muscles rank below unrestricted ones; an examined active trigger
    point that explains the pain ranks above the rest; the examination boost is added without a cap.
    """
    from dryneedling.assessment.atlas import rank_muscles

    kb, guidance = catalog.kb, catalog.guidance
    side = profile.side if profile.side in ("left", "right") else None  # the atlas takes one side or none
    ranked = rank_muscles(catalog, list(profile.pain_regions), profile.condition, side)
    boost = guidance.screening.examined_trigger_point_boost
    examined = {tp.muscle: tp.kind for tp in profile.trigger_points}
    entries: dict[str, dict[str, Any]] = {}
    for candidate in ranked:
        entries[candidate.muscle] = {
            "muscle": candidate.muscle,
            "name": candidate.name,
            "score": float(candidate.score),
            "matched_regions": list(candidate.matched_regions),
            "condition_match": bool(candidate.condition_match),
            "side": candidate.side,
            "safety": _safety_notes(candidate.safety),
            "sources": list(candidate.sources),
            "confidence": candidate.confidence,
        }
    for muscle_id, kind in examined.items():
        if muscle_id not in entries:
            muscle = kb.muscles[muscle_id]
            entries[muscle_id] = {
                "muscle": muscle_id,
                "name": muscle.name,
                "score": 0.0,
                "matched_regions": [],
                "condition_match": profile.condition in muscle.conditions,
                "side": profile.side,
                "safety": _safety_notes([n.model_dump() for n in muscle.needling_safety]),
                "sources": list(muscle.sources),
                "confidence": muscle.confidence,
            }
        entry = entries[muscle_id]
        entry["score"] = round(entry["score"] + boost[kind], 4)
        entry["examined"] = kind
        entry["boosted"] = True
    candidates: list[CandidateMuscle] = []
    excluded: list[ExcludedMuscle] = []
    for entry in entries.values():
        muscle = kb.muscles[entry["muscle"]]
        blocker, restrictions = _restrictions(muscle, screening, profile, catalog)
        if blocker is not None:
            excluded.append(
                ExcludedMuscle(
                    muscle=entry["muscle"],
                    name=entry["name"],
                    reason=_exclusion_reason(
                        blocker.label, blocker.reason, blocker.effect, blocker.regions, blocker.side, kb
                    ),
                    blocked_by=blocker.id,
                    regions=list(blocker.regions),
                    sources=list(blocker.sources),
                    confidence=blocker.confidence,
                    patient_text=guidance.screening.excluded_patient_text,
                )
            )
            continue
        candidates.append(
            CandidateMuscle(
                **entry,
                restrictions=restrictions,
                patient_text=_patient_text_for(entry["safety"], restrictions, catalog),
            )
        )
    candidates.sort(key=_rank_key)
    excluded.sort(key=lambda e: -entries[e.muscle]["score"])
    return candidates, excluded


def _exclusion_reason(
    label: str, reason: str, effect: str, regions: list[str], side: str | None, kb: Any
) -> str:
    """Why a muscle is kept free of needles, as an excluded muscle's ``reason`` says it."""
    if effect in ("blocks_all", "precaution"):
        return f"{label}: {reason}"
    where = describe_regions(regions, kb) or "the whole body"
    if side in ("left", "right"):
        where = f"{side} side: {where}"
    return f"lies in a region kept needle-free ({where}) - {label}"


def stored_blocks(
    items: list[dict[str, Any]], catalog: Catalog, muscle_ids: Any
) -> dict[str, tuple[str, str, str | None]]:
    """What in a stored screening (a Report's ``screening.items``, as JSON) keeps needles out of each of
    ``muscle_ids``: muscle id -> ``(item id, reason, side it applies to or None)``; unblocked muscles and ids
    the atlas does not know are left out.

    The Report lists as excluded only the muscles the atlas offered for this pain; a clinician may needle any
    muscle, and one that lies in a region screening keeps needle-free (lymphoedema of that arm, an implant),
    or that a muscle rule leaves out (deep targets under anticoagulation), is blocked just the same, on
    whichever side is needled (the caller compares the side).
    """
    kb = catalog.kb

    def side_of(item: dict[str, Any]) -> str | None:
        return item.get("side") if item.get("side") in ("left", "right") else None

    whole = next((item for item in items if item.get("effect") == "blocks_all"), None)
    regional = []  # (index, the item's regions, the areas they lie in)
    for index, item in enumerate(items):
        if item.get("effect") == "blocks_regions":
            regions = [r for r in item.get("regions") or [] if isinstance(r, str)]
            regional.append((index, regions, {kb.regions[r].area for r in regions if r in kb.regions}))
    region_blocks: dict[int, tuple[str, str, str | None]] = {}  # index -> its block, worded on first use
    present = {item.get("id"): item for item in items if isinstance(item.get("id"), str)}
    rules = []  # (rule, its item, the muscles it names directly or by anatomy)
    for rule in catalog.guidance.screening.muscle_rules:
        if rule.effect == "blocks" and rule.safety_item in present:
            named = set(rule.muscles)
            for region in rule.anatomical_regions:
                named.update(kb.anatomical_regions[region].muscles_at_risk)
            rules.append((rule, present[rule.safety_item], named))
    found: dict[str, tuple[str, str, str | None]] = {}
    for muscle_id in muscle_ids:
        muscle = kb.muscles.get(muscle_id)
        if muscle is None:
            continue
        if whole is not None:
            found[muscle_id] = (whole.get("id", ""), whole.get("reason") or whole.get("label", ""), None)
            continue
        hit = next(((index, regions) for index, regions, areas in regional if muscle.area in areas), None)
        if hit is not None:
            index, regions = hit
            if index not in region_blocks:
                item = items[index]
                reason = _exclusion_reason(
                    item.get("label", ""), "", "blocks_regions", regions, side_of(item), kb
                )
                region_blocks[index] = (item.get("id", ""), reason, side_of(item))
            found[muscle_id] = region_blocks[index]
            continue
        for rule, item, named in rules:
            if muscle_id in named:
                reason = _exclusion_reason(
                    item.get("label", ""),
                    f"{item.get('reason', '')} - {rule.action}",
                    item.get("effect", ""),
                    list(item.get("regions") or []),
                    side_of(item),
                    kb,
                )
                found[muscle_id] = (rule.safety_item, reason, side_of(item))
                break
    return found


def finish_screening(
    screening: Screening,
    candidates: list[CandidateMuscle],
    excluded: list[ExcludedMuscle],
    catalog: Catalog,
) -> Screening:
    """Add anatomy precautions raised by the candidates (e.g. thorax) and settle the decision.

    When screening blocked regions and no candidate muscle is left, needling this complaint is not advised.
    """
    kb, guidance = catalog.kb, catalog.guidance
    items = list(screening.items)
    present = {item.id for item in items}
    technique = "anatomy_precautions" in guidance.screening.technique_cautions
    for region_id, safety_id in guidance.screening.anatomy_precautions.items():
        muscles = [c.name for c in candidates if any(n.anatomical_region == region_id for n in c.safety)]
        if muscles and safety_id not in present:
            safety = kb.safety_items[safety_id]
            items.append(
                ScreeningItem(
                    id=safety.id,
                    label=safety.label,
                    klass=safety.klass,
                    scope=safety.scope,
                    effect="technique" if technique else "precaution",
                    reason=f"candidate muscles over {region_id}: {', '.join(muscles)}",
                    action=safety.clinician_action,
                    regions=list(kb.anatomical_regions[region_id].body_regions),
                    sources=list(safety.sources),
                    confidence=safety.confidence,
                    patient_text=safety.patient_text,
                )
            )
    decision = None
    # Every candidate lies in a region kept needle-free: needling this complaint is not advised. A muscle
    # rule (e.g. deep targets under anticoagulation) excludes muscles, not the person: the decision stays.
    region_blocks = {i.id for i in items if i.effect in ("blocks_regions", "blocks_all")}
    if (
        not candidates
        and excluded
        and screening.decision != "do_not_needle"
        and all(e.blocked_by in region_blocks for e in excluded)
    ):
        decision = "do_not_needle"
    return make_screening(items, list(screening.medications), guidance, decision)


# ---------------- heat ----------------
def _trigger_hits(
    trigger: Trigger,
    profile: PatientProfile,
    screening: Screening,
    candidates: list[CandidateMuscle],
    catalog: Catalog,
) -> tuple[list[str], bool]:
    """What in the profile fires a heat rule, and whether it stops heat everywhere it would go.

    A regional rule (lymphoedema, inflammation ...) counts only for regions in an area that would be
    heated (the painful regions or the candidate muscles). It withholds heat when it covers every painful
    area; otherwise heat stays advised, just not over those regions.
    """
    kb = catalog.kb
    if trigger.kind == "comorbidity_any":
        return sorted(set(trigger.ids) & set(profile.comorbidities)), True
    if trigger.kind == "bleeding_risk":
        hit = bleeding_risk(profile, catalog.guidance, list(screening.medications))
        return (["bleeding risk (bleeding disorder or antithrombotic medication)"] if hit else []), True
    if trigger.kind == "region_field":
        fields = list(trigger.field)
        pain_areas = {kb.regions[r].area for r in profile.pain_regions}
        treated = pain_areas | {kb.muscles[c.muscle].area for c in candidates}
        hits: list[str] = []
        blocked_areas: set[str] = set()
        for field in fields:
            regions = [
                r for r in expand_regions(getattr(profile, field), kb) if kb.regions[r].area in treated
            ]
            if regions:
                hits.append(f"{field.replace('_', ' ')}: {describe_regions(regions, kb)}")
                blocked_areas |= {kb.regions[r].area for r in regions}
        return hits, pain_areas <= blocked_areas
    return [], False


def _advice(default: Any, blockers: list, cautions: list) -> HeatAdvice:
    if blockers:
        reason = " ".join(f"{rule.label} ({'; '.join(hits)}): {rule.reason}" for rule, hits in blockers)
        return HeatAdvice(
            recommended=False,
            reason=f"Heat withheld. {reason}",
            sources=list(dict.fromkeys(s for rule, _ in blockers for s in rule.sources)),
            confidence=_weakest(*(rule.confidence for rule, _ in blockers)),
            patient_text=" ".join(dict.fromkeys(rule.patient_text for rule, _ in blockers)),
        )
    caveat = " ".join(f"Not over {'; '.join(hits)} - {rule.reason}" for rule, hits in cautions)
    return HeatAdvice(
        recommended=default.recommended_by_default,
        reason=f"{default.reason} {caveat}".strip(),
        how=default.how,
        sources=list(dict.fromkeys([*default.sources, *(s for rule, _ in cautions for s in rule.sources)])),
        confidence=_weakest(default.confidence, *(rule.confidence for rule, _ in cautions)),
        patient_text=" ".join(
            dict.fromkeys([default.patient_text, *(rule.patient_text for rule, _ in cautions)])
        ),
    )


def heat_plan(
    profile: PatientProfile,
    screening: Screening,
    candidates: list[CandidateMuscle],
    catalog: Catalog,
) -> HeatPlan:
    """Heat before needling (to ease guarding) and gentle heat after, unless a heat rule withholds it."""
    heat = catalog.guidance.heat
    advice: dict[str, HeatAdvice] = {}
    for moment in ("before", "after"):
        default = getattr(heat, moment)
        blockers, cautions = [], []
        for rule in heat.contraindications:
            if moment in rule.applies_to:
                hits, everywhere = _trigger_hits(rule.trigger, profile, screening, candidates, catalog)
                if hits:
                    (blockers if everywhere else cautions).append((rule, hits))
        if screening.decision == "do_not_needle":
            advice[moment] = HeatAdvice(
                recommended=False,
                reason=heat.not_applicable_text,
                sources=list(default.sources),
                confidence=default.confidence,
                patient_text=heat.not_applicable_patient_text,
            )
        else:
            advice[moment] = _advice(default, blockers, cautions)
    return HeatPlan(
        before=advice["before"],
        after=advice["after"],
        evidence_note=heat.evidence_note,
        sources=list(heat.evidence_sources),
        confidence="low",
        patient_text=heat.evidence_patient_text,
    )


# ---------------- aftercare ----------------
def aftercare_plan(
    profile: PatientProfile,
    screening: Screening,
    candidates: list[CandidateMuscle],
    modifiers: list[Modifier],
    catalog: Catalog,
) -> Aftercare:
    """Soreness window (widened by modifiers), what helps, and the warning signs that apply."""
    guidance = catalog.guidance
    data = guidance.aftercare
    rule = data.soreness
    widening = [m for m in modifiers if m.widens_soreness]
    text, patient_text = rule.text, rule.patient_text
    if widening:
        names = ", ".join(m.label.lower() for m in widening)
        text = f"{text} {rule.widened_text.format(modifiers=names)}"
        patient_text = f"{patient_text} {rule.widened_patient_text}"
    soreness = SorenessWindow(
        low_hours=rule.low_hours,
        high_hours=rule.high_hours,
        may_last_longer=bool(widening),
        widened_by=[m.id for m in widening],
        text=text,
        sources=list(rule.sources),
        confidence=_weakest(rule.confidence, *(m.confidence for m in widening))
        if widening
        else rule.confidence,
        patient_text=patient_text,
    )
    tips = [
        AftercareTip(
            id=tip.id,
            label=tip.label,
            clinician_text=tip.clinician_text,
            helps=tip.helps,
            who=tip.who,
            sources=list(tip.sources),
            confidence=tip.confidence,
            patient_text=tip.patient_text,
        )
        for tip in data.what_helps
    ]
    candidate_regions = {n.anatomical_region for c in candidates for n in c.safety if n.anatomical_region}
    bleeding = bleeding_risk(profile, guidance, list(screening.medications))
    signs = []
    for sign in data.warning_signs:
        kind = sign.show_when.kind
        if kind == "always":
            because = "shown to everyone who is needled"
        elif kind == "candidate_region":
            hit = sorted(candidate_regions & set(sign.show_when.regions))
            if not hit:
                continue
            muscles = [c.name for c in candidates if any(n.anatomical_region in hit for n in c.safety)]
            because = f"candidate muscles over {', '.join(hit)}: {', '.join(muscles)}"
        elif kind == "bleeding_risk":
            if not bleeding:
                continue
            because = "bleeding disorder or antithrombotic medication"
        else:  # pragma: no cover - the loader only admits the kinds above
            continue
        signs.append(
            WarningSign(
                id=sign.id,
                sign=sign.sign,
                action=sign.action,
                urgency=sign.urgency,
                shown_because=because,
                sources=list(sign.sources),
                confidence=sign.confidence,
                patient_text=sign.patient_text,
            )
        )
    # A person who must not be needled gets no aftercare at all: describe_no_needling (report.py) drops it.
    return Aftercare(
        soreness=soreness,
        what_helps=tips,
        warning_signs=signs,
        sources=list(rule.sources),
        confidence=soreness.confidence,
        patient_text=soreness.patient_text,
    )


# ---------------- care plan ----------------
def _measure(measure_id: str, catalog: Catalog) -> OutcomeMeasure:
    measure = catalog.kb.measures[measure_id]
    mcids = [
        MeasureMcid(value=m.value, text=m.text, population=m.context, source=m.source)
        for m in measure.mcid
        if getattr(m, "scale_verified", True)
    ]
    patient_text = catalog.guidance.care_plan.measure_patient_text
    return OutcomeMeasure(
        id=measure.id,
        name=measure.name,
        range=list(measure.range) if measure.range else None,
        direction=measure.direction,
        mcid=mcids,
        sources=list(dict.fromkeys([*measure.sources, *(m.source for m in mcids)])),
        confidence=measure.confidence,
        patient_text=patient_text,
    )


def _is_combined(row: EvidenceRow) -> bool:
    text = " ".join(str(row.get(k) or "") for k in ("comparator", "favours", "condition")).lower()
    return "combined" in text or "plus" in text or "added" in text or "adjunct" in text


def care_plan(profile: PatientProfile, evidence: EvidenceSection, catalog: Catalog) -> CarePlan:
    """Components of care for this condition's area, combined-care evidence, measures and follow-up."""
    kb, guidance = catalog.kb, catalog.guidance
    area = kb.conditions[profile.condition].area
    components = [
        CareComponent(
            id=c.id,
            label=c.label,
            clinician_text=c.clinician_text
            + (
                " (clinical reasoning)"
                if c.clinical_reasoning and "reasoning" not in c.clinician_text
                else ""
            ),
            sources=list(c.sources),
            confidence=c.confidence,
            patient_text=c.patient_text,
        )
        for c in guidance.care_plan.components
        if c.applies_to(area)
    ]
    measures = [_measure(m, catalog) for m in kb.conditions[profile.condition].measures if m in kb.measures]
    follow_up = [
        FollowUp(
            id=f.id,
            when=f.when,
            what=f.what,
            sources=list(f.sources),
            confidence=f.confidence,
            patient_text=f.patient_text,
        )
        for f in guidance.care_plan.follow_up
    ]
    return CarePlan(
        components=components,
        combined_evidence=[row for row in evidence.rows if _is_combined(row)],
        measures=measures,
        follow_up=follow_up,
        sources=list(dict.fromkeys(s for c in components for s in c.sources)),
        confidence="moderate",
        patient_text=guidance.care_plan.plan_patient_text,
    )
