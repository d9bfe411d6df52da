"""The factors that shape this person's result: trigger points, chronicity, sensitisation, age, history.

Each modifier is a rule in the guidance data (``modifiers.yaml``) with its trigger, thresholds, wording and
sources; this module only evaluates the triggers against the profile and fills in the finding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dryneedling.assessment.models import CandidateMuscle, ExcludedMuscle, Modifier
from dryneedling.assessment.profile import PatientProfile
from dryneedling.knowledge.guidance import Distress, ModifierRule

if TYPE_CHECKING:
    from dryneedling.catalog import Catalog


def _muscles(profile: PatientProfile, kind: str | None = None) -> str:
    return ", ".join(
        f"{tp.muscle}" + (f" ({tp.side})" if tp.side else "")
        for tp in profile.trigger_points
        if kind in (None, tp.kind)
    )


def csi_cutoff(rule: ModifierRule, kb: Any) -> float:
    """The CSI cut-off named by the rule, read from the knowledge base measure."""
    return float(kb.measures[rule.trigger.cutoff_from_measure].cutoff.value)


def _distress_finding(trigger: Distress, profile: PatientProfile) -> str | None:
    parts = []
    if profile.needle_fear in trigger.needle_fear:
        parts.append(f"{profile.needle_fear} fear of needles")
    listed = [c.replace("_", " ") for c in trigger.comorbidities if c in profile.comorbidities]
    if listed:
        parts.append(f"{', '.join(listed)} listed")
    return "; ".join(parts).capitalize() + "." if parts else None


def _practitioner_finding(profile: PatientProfile) -> str | None:
    practitioner = profile.practitioner
    if practitioner is None:
        return None
    hours = (
        f"{practitioner.training_hours:g} hours of dry-needling training"
        if practitioner.training_hours is not None
        else "training hours not recorded"
    )
    guidance = (
        "with ultrasound guidance available" if practitioner.ultrasound_guidance else "no ultrasound guidance"
    )
    return f"Practitioner: {hours}, {guidance}."


def _previous_finding(profile: PatientProfile) -> str | None:
    history = profile.previous_dry_needling
    if history.sessions == 0 and not history.vasovagal_reaction:
        return None
    parts = [f"{history.sessions} previous dry-needling session(s)"]
    if history.vasovagal_reaction:
        parts.append("a previous vasovagal (fainting) reaction")
    return "; ".join(parts).capitalize() + "."


def triggered(rule: ModifierRule, profile: PatientProfile, kb: Any) -> dict[str, Any] | None:
    """The values to fill the rule's finding with when it applies to ``profile``, else None."""
    trigger = rule.trigger
    kind = trigger.kind
    values: dict[str, Any] = profile.model_dump()
    if kind == "trigger_point_kind":
        wanted = trigger.kind_value
        if any(tp.kind == wanted for tp in profile.trigger_points):
            return {**values, "muscles": _muscles(profile, wanted)}
    elif kind == "only_latent_trigger_points":
        if profile.trigger_points and all(tp.kind == "latent" for tp in profile.trigger_points):
            return {**values, "muscles": _muscles(profile, "latent")}
    elif kind == "duration_at_least":
        if profile.duration_weeks is not None and profile.duration_weeks >= trigger.weeks:
            return values
    elif kind == "csi_at_least":
        cutoff = csi_cutoff(rule, kb)
        score = profile.central_sensitization_inventory
        if score is not None and score >= cutoff:
            return {**values, "cutoff": cutoff}
    elif kind == "comorbidity_any":
        if set(trigger.ids) & set(profile.comorbidities):
            return values
    elif kind == "distress":
        finding = _distress_finding(trigger, profile)
        if finding:
            return {**values, "distress_finding": finding}
    elif kind == "sex_is":
        if profile.sex == trigger.value:
            return values
    elif kind == "age_at_least":
        if profile.age >= trigger.years:
            return values
    elif kind == "prior_injuries_present":
        if profile.prior_injuries:
            return {**values, "prior_injuries": "; ".join(profile.prior_injuries)}
    elif kind == "practitioner_recorded":
        finding = _practitioner_finding(profile)
        if finding:
            return {**values, "practitioner_finding": finding}
    elif kind == "first_treatment":
        if profile.previous_dry_needling.sessions == 0:
            return values
    elif kind == "previous_sessions":
        finding = _previous_finding(profile)
        if finding:
            return {**values, "previous_finding": finding}
    return None


def assess_modifiers(profile: PatientProfile, catalog: Catalog) -> list[Modifier]:
    """Every modifier in the guidance data that applies to ``profile``, in data order."""
    kb = catalog.kb
    found: list[Modifier] = []
    for rule in catalog.guidance.modifiers:
        values = triggered(rule, profile, kb)
        if values is None:
            continue
        sources = list(rule.sources)
        if rule.trigger.kind == "csi_at_least":
            cutoff_source = kb.measures[rule.trigger.cutoff_from_measure].cutoff.source
            sources = list(dict.fromkeys([cutoff_source, *sources]))
        found.append(
            Modifier(
                id=rule.id,
                label=rule.label,
                finding=rule.finding.format(**values),
                expected_effect=rule.expected_effect,
                what_to_do=rule.what_to_do,
                clinical_reasoning=rule.clinical_reasoning,
                widens_soreness=rule.widens_soreness,
                sources=sources,
                confidence=rule.confidence,
                patient_text=rule.patient_text,
            )
        )
    return found


def respect_screening(
    modifiers: list[Modifier],
    profile: PatientProfile,
    candidates: list[CandidateMuscle],
    excluded: list[ExcludedMuscle],
    catalog: Catalog,
) -> list[Modifier]:
    """Modifier advice that agrees with the screening: nothing restricted or excluded is "prioritised".

    A rule about examined trigger points that names a muscle screening restricts or excludes uses its
    ``what_to_do_when_restricted`` wording, naming those muscles and the items behind them.
    """
    limits: dict[str, list[str]] = {
        c.muscle: [r.label for r in c.restrictions if r.effect == "restricts"] for c in candidates
    }
    limits.update({e.muscle: [e.blocked_by.replace("_", " ")] for e in excluded})
    rules = {rule.id: rule for rule in catalog.guidance.modifiers}
    out = []
    for modifier in modifiers:
        rule = rules[modifier.id]
        if rule.what_to_do_when_restricted and rule.trigger.kind == "trigger_point_kind":
            named = [tp.muscle for tp in profile.trigger_points if tp.kind == rule.trigger.kind_value]
            restricted = [m for m in named if limits.get(m)]
            if restricted:
                allowed = [m for m in named if m not in restricted]
                text = rule.what_to_do_when_restricted.format(
                    restricted=", ".join(f"{m} ({'; '.join(limits[m])})" for m in restricted),
                    allowed=", ".join(allowed) or "none",
                )
                modifier = modifier.model_copy(update={"what_to_do": text})
        out.append(modifier)
    return out
