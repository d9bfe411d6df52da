"""The evidence table: the best published estimate per region x comparator x outcome x time point.

>>> from dryneedling.catalog import load_catalog
>>> from dryneedling.evidence.table import evidence_table
>>> table = evidence_table(load_catalog(), region="shoulder", audience="patient")
>>> table.rows[0].strength in ("Moderate", "Emerging", "Limited")
True

Rows carry the review's own certainty where it published one ("as rated by the review") and our own
GRADE-style check beside it. Patient output (``audience="patient"``) never includes rows the reference
marks unreliable (``patient_safe`` False). Where no pooled dry-needling estimate exists the table says
so in ``gaps``. The selection rule is in ``EvidenceTable.rule`` and in knowledge/data/evidence/grade_rules.yaml.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from dryneedling.errors import InputError
from dryneedling.evidence.certainty import (
    CertaintyCheck,
    CertaintyInputs,
    Level,
    Strength,
    patient_sentence,
    rate_certainty,
    reported_certainty,
    strength_for,
)
from dryneedling.evidence.readable import Readable as _Readable
from dryneedling.evidence.rules import GradeRules
from dryneedling.evidence.syntheses import MEAN_DIFFERENCES, EvidenceData, Synthesis
from dryneedling.vocabulary import AUDIENCES, Audience, Confidence

if TYPE_CHECKING:
    from dryneedling.catalog import Catalog

_CERTAINTY_RANK = {None: 0, "very_low": 1, "low": 2, "moderate": 3, "high": 4}
_MEAN_DIFFERENCES = MEAN_DIFFERENCES


class EvidenceRow(_Readable):
    """One pooled estimate as shown in the table (see the module docstring)."""

    id: str
    region: str
    region_label: str
    condition: str
    comparator: str
    comparator_label: str
    outcome: str
    outcome_label: str
    timepoint: str
    timepoint_label: str
    effect_measure: str
    effect_measure_label: str
    scale: str | None
    scale_label: str | None
    unit: str | None
    effect_text: str
    study_counts: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    k: int | None
    n: int | None
    i2: float | None
    certainty: Level | None
    certainty_basis: str
    published_certainty: str | None
    certainty_reasons: list[str]
    our_check: CertaintyCheck
    strength: Strength
    favours: str
    favours_label: str
    plain_summary: str
    clinician_summary: str
    source: str
    citation: str
    source_link: str | None
    source_tier: int | None
    year: int | None
    dn_specific: bool
    verification: str
    patient_safe: bool
    exclusion_reason: str | None
    notes: str
    best: bool
    superseded_by: str | None


class EvidenceGap(_Readable):
    """A region (or part of one) with no pooled dry-needling estimate, said plainly, with sources."""

    region: str
    region_label: str
    scope: str
    statement: str
    plain: str
    sources: list[str]
    citations: list[str]
    confidence: Confidence


class EvidenceTable(BaseModel):
    """The table: rows (best estimate per cell, or every estimate), gaps, and the rules applied."""

    model_config = ConfigDict(frozen=True)

    rows: list[EvidenceRow]
    gaps: list[EvidenceGap]
    rule: str
    strength_rule: str
    patient_rule: str
    plain_rule: str
    audience: Audience


def _mcid(row: Synthesis, kb, rules: GradeRules) -> tuple[float | None, str | None]:
    """Smallest usable published MCID of the row's scale, with a label naming value and source."""
    if row.scale is None or kb is None or row.scale not in kb.measures:
        return None, None
    usable = [m for m in kb.measures[row.scale].mcid if m.usable]
    if not usable:
        return None, None
    if rules.certainty.imprecision.mcid_choice != "smallest":
        raise ValueError("only mcid_choice: smallest is implemented")
    chosen = min(usable, key=lambda m: m.value)
    return chosen.value, f"{row.scale} MCID {chosen.value:g} ({chosen.source})"


def _check(row: Synthesis, data: EvidenceData, kb) -> CertaintyCheck:
    mcid, label = _mcid(row, kb, data.rules)
    measure = data.vocabulary.effect_measures[row.effect_measure]
    return rate_certainty(
        CertaintyInputs(
            estimate=row.estimate,
            ci_low=row.ci_low,
            ci_high=row.ci_high,
            null_value=measure.null_value,
            outcome_type="binary" if row.effect_measure == "RR" else "continuous",
            k=row.k,
            n=row.n,
            i2=row.i2,
            mcid=mcid,
            mcid_label=label,
            dn_specific=row.dn_specific,
            review_judgements=row.review_judgements,
        ),
        data.rules,
    )


def _wording_kind(row: Synthesis, data: EvidenceData) -> str | None:
    arm = data.vocabulary.favours[row.favours].arm
    return {"needling": "benefit", "comparator": "comparator_better", "neither": "no_difference"}.get(arm)


def _who(row: Synthesis) -> str:
    if not row.dn_specific:
        return "Needling (acupuncture and dry needling counted together)"
    if row.favours == "dry_needling_combined":
        return "Dry needling plus other care"
    return "Dry needling"


def _plain_summary(row: Synthesis, strength: Strength, data: EvidenceData) -> str:
    kind = _wording_kind(row, data)
    if kind is None or not row.patient_safe:
        return "This result is not shown to patients because part of it is missing or unclear."
    vocab = data.vocabulary
    time = vocab.timepoints[row.timepoint].plain
    return patient_sentence(
        strength,
        kind,
        data.rules,
        who=_who(row),
        outcome=vocab.outcomes[row.outcome].plain,
        comparator=vocab.comparators[row.comparator].plain,
        time=f" {time}" if time else "",
    )


def _num(value: float) -> str:
    return f"{value:g}"


#: Effect measures clinicians know by their abbreviation; every other (internal) id prints its label.
_ABBREVIATED = ("MD", "WMD", "SMD", "RR")


def _scale_words(row: Synthesis, kb, short: bool = False) -> str | None:
    """The scale a mean difference is on, in words: the knowledge-base measure (its abbreviation when
    ``short`` and the name gives one, e.g. NPRS) with its range, or the stated unit; None when the row
    names neither (such rows are kept from patients by the loader)."""
    if row.scale is not None and kb is not None and row.scale in kb.measures:
        measure = kb.measures[row.scale]
        name = f"the {measure.name}"
        abbreviation = re.search(r"\(([A-Z][A-Za-z0-9-]+)[ /)]", measure.name)
        if short and abbreviation:
            name = f"the {abbreviation.group(1)}"
        span = f", {_num(measure.range[0])}-{_num(measure.range[1])}" if measure.range else ""
        unit = measure.units or "points"
        return f"{unit} on {name}{span}"
    return row.unit


def _effect_text(row: Synthesis, data: EvidenceData, scale: str | None) -> str:
    """The estimate in clinician words: measure, value, scale, 95% CI. No internal labels."""
    label = data.vocabulary.effect_measures[row.effect_measure].label
    if row.effect_measure in _ABBREVIATED:
        label = row.effect_measure
    if row.effect_measure in _MEAN_DIFFERENCES:
        unit = scale or "on a scale the review does not name"
    else:
        unit = f"({row.unit})" if row.unit else ""
    if row.estimate is None:
        text = f"{label}{f' in {unit}' if unit else ''}: point estimate not reported"
    else:
        text = f"{label} {_num(row.estimate)}{f' {unit}' if unit else ''}"
    if row.ci_low is not None and row.ci_high is not None:
        text += f" (95% CI {_num(row.ci_low)} to {_num(row.ci_high)})"
    return text


def _study_counts(row: Synthesis) -> str:
    """Studies, participants and I² in words; what the review did not report is said, not abbreviated."""
    if row.k is None and row.n is None and row.i2 is None:
        return "studies, participants and I² not reported for this estimate"
    parts = [
        "studies not reported" if row.k is None else f"{row.k} studies",
        "participants not reported" if row.n is None else f"{row.n} participants",
        "I² not reported" if row.i2 is None else f"I² {row.i2:g}%",
    ]
    return ", ".join(parts)


def _comparison(row: Synthesis, data: EvidenceData) -> str:
    label = data.vocabulary.comparators[row.comparator].label
    return label if label.startswith("DN ") else f"DN vs {label}"


def _clinician_summary(
    row: Synthesis,
    certainty: Level | None,
    basis: str,
    check: CertaintyCheck,
    data: EvidenceData,
    citation: str,
    effect: str,
) -> str:
    vocab = data.vocabulary
    rated = f"Certainty {certainty.replace('_', ' ')} ({basis})" if certainty else f"Certainty {basis}"
    notes = f" {row.notes}" if row.notes else ""
    return (
        f"{_comparison(row, data)}, {vocab.outcomes[row.outcome].label}, "
        f"{vocab.timepoints[row.timepoint].label}: {effect}; {_study_counts(row)}; "
        f"favours {vocab.favours[row.favours].label}. "
        f"{rated}; our check: {check.describe()}.{notes} "
        f"Source: {citation}."
    )


def _to_row(row: Synthesis, data: EvidenceData, kb, best: bool, superseded_by: str | None) -> EvidenceRow:
    vocab = data.vocabulary
    certainty, basis = reported_certainty(row.published_certainty, data.rules)
    check = _check(row, data, kb)
    strength = strength_for(certainty, data.rules)
    source = kb.sources.get(row.source) if kb is not None else None
    citation = source.citation if source is not None else row.source
    scale = _scale_words(row, kb)
    effect = _effect_text(row, data, _scale_words(row, kb, short=True))
    reasons = [f"reported certainty: {basis}"] + [f"our check: {line}" for line in check.reasons]
    return EvidenceRow(
        id=row.id,
        region=row.region,
        region_label=vocab.regions[row.region].label,
        condition=row.condition,
        comparator=row.comparator,
        comparator_label=vocab.comparators[row.comparator].label,
        outcome=row.outcome,
        outcome_label=vocab.outcomes[row.outcome].label,
        timepoint=row.timepoint,
        timepoint_label=vocab.timepoints[row.timepoint].label,
        effect_measure=row.effect_measure,
        effect_measure_label=vocab.effect_measures[row.effect_measure].label,
        scale=row.scale,
        scale_label=scale,
        unit=row.unit,
        effect_text=effect,
        study_counts=_study_counts(row),
        estimate=row.estimate,
        ci_low=row.ci_low,
        ci_high=row.ci_high,
        k=row.k,
        n=row.n,
        i2=row.i2,
        certainty=certainty,
        certainty_basis=basis,
        published_certainty=row.published_certainty,
        certainty_reasons=reasons,
        our_check=check,
        strength=strength,
        favours=row.favours,
        favours_label=vocab.favours[row.favours].label,
        plain_summary=_plain_summary(row, strength, data),
        clinician_summary=_clinician_summary(row, certainty, basis, check, data, citation, effect),
        source=row.source,
        citation=citation,
        source_link=source.link if source is not None else None,
        source_tier=source.tier if source is not None else None,
        year=row.year,
        dn_specific=row.dn_specific,
        verification=row.verification,
        patient_safe=row.patient_safe,
        exclusion_reason=row.exclusion_reason,
        notes=row.notes,
        best=best,
        superseded_by=superseded_by,
    )


def _scale_rank(row: Synthesis) -> int:
    """2 for a mean difference on a named knowledge-base scale, 0 for one on no named scale or unit
    (its size cannot be read), 1 for every other measure."""
    if row.effect_measure not in _MEAN_DIFFERENCES:
        return 1
    if row.scale is not None:
        return 2
    return 1 if row.unit else 0


def preference_key(row: Synthesis, rules: GradeRules) -> tuple:
    """Sort key of the best-estimate rule (higher is preferred); see grade_rules.yaml best_estimate."""
    certainty, _ = reported_certainty(row.published_certainty, rules)
    return (
        row.dn_specific,
        row.estimate is not None,
        row.year or 0,
        _CERTAINTY_RANK[certainty],
        row.k or 0,
        _scale_rank(row),
        -int(row.id.removeprefix("ES")),
    )


def choose_best(rows: list[Synthesis], rules: GradeRules) -> dict[tuple[str, str, str, str], list[Synthesis]]:
    """Group rows per region x comparator x outcome x time point, best first within each cell."""
    cells: dict[tuple[str, str, str, str], list[Synthesis]] = {}
    for row in rows:
        cells.setdefault((row.region, row.comparator, row.outcome, row.timepoint), []).append(row)
    return {
        cell: sorted(members, key=lambda r: preference_key(r, rules), reverse=True)
        for cell, members in cells.items()
    }


def _resolve(field: str, value: str | None, choices: dict, kind: str) -> str | None:
    if value is None:
        return None
    if value not in choices:
        raise InputError.unknown(field, value, list(choices), kind=kind)
    return value


def _gap(region: str, scope: str, statement: str, plain: str, sources, confidence, data, kb) -> EvidenceGap:
    citations = [kb.sources[s].citation if kb is not None and s in kb.sources else s for s in sources]
    return EvidenceGap(
        region=region,
        region_label=data.vocabulary.regions[region].label,
        scope=scope,
        statement=statement,
        plain=plain,
        sources=list(sources),
        citations=citations,
        confidence=confidence,
    )


def evidence_table(
    catalog: Catalog,
    region: str | None = None,
    comparator: str | None = None,
    outcome: str | None = None,
    condition: str | None = None,
    audience: Audience = "clinician",
    timepoint: str | None = None,
    all_estimates: bool = False,
) -> EvidenceTable:
    """Build the evidence table, filtered by region (id or alias), comparator, outcome, condition, time.

    ``condition`` is a knowledge-base condition id; its ``evidence_region`` selects the region.
    ``all_estimates`` keeps superseded estimates (marked ``best=False`` with ``superseded_by``).
    Unknown filter values raise InputError naming the field and the closest valid values.
    """
    if audience not in AUDIENCES:
        raise InputError.unknown("audience", audience, AUDIENCES)
    data, kb = catalog.evidence, catalog.kb
    vocab = data.vocabulary
    if region is not None:
        resolved = vocab.resolve_region(region)
        if resolved is None:
            raise InputError.unknown("region", region, vocab.region_names(), kind="region")
        region = resolved
    comparator = _resolve("comparator", comparator, vocab.comparators, "comparator")
    outcome = _resolve("outcome", outcome, vocab.outcomes, "outcome")
    timepoint = _resolve("timepoint", timepoint, vocab.timepoints, "time point")
    if condition is not None:
        # A condition without an evidence_region in the knowledge base may still be named as an alias of
        # a region here (e.g. hip conditions, for which only a gap statement exists).
        linked = kb.condition(condition).evidence_region
        linked_region = vocab.resolve_region(linked or condition)
        if region is not None and linked_region not in (None, region):
            raise InputError(
                "condition", f"condition {condition!r} belongs to region {linked_region!r}, not {region!r}"
            )
        if linked_region is None:
            label = kb.condition(condition).label
            no_link = EvidenceGap(
                region="",
                region_label="",
                scope=f"condition {condition}",
                statement=f"No pooled dry-needling estimate in this table is linked to {label}.",
                plain=f"We have no pooled research on dry needling for {label.lower()}.",
                sources=[],
                citations=[],
                confidence="high",
            )
            return _table([], [no_link], audience, data)
        region = linked_region

    candidates = [
        row
        for row in data.syntheses
        if (region is None or row.region == region)
        and (comparator is None or row.comparator == comparator)
        and (outcome is None or row.outcome == outcome)
        and (timepoint is None or row.timepoint == timepoint)
        and (audience == "clinician" or row.patient_safe)
    ]
    rows: list[EvidenceRow] = []
    for members in choose_best(candidates, data.rules).values():
        best = members[0]
        rows.append(_to_row(best, data, kb, best=True, superseded_by=None))
        if all_estimates:
            rows.extend(_to_row(other, data, kb, best=False, superseded_by=best.id) for other in members[1:])
    region_order = list(vocab.regions)
    rows.sort(
        key=lambda r: (
            region_order.index(r.region),
            r.comparator,
            r.outcome,
            vocab.timepoints[r.timepoint].order,
            not r.best,
            r.id,
        )
    )

    scope = [region] if region is not None else region_order
    gaps = [
        _gap(g.region, g.scope, g.clinician, g.plain, g.sources, g.confidence, data, kb)
        for g in data.gaps
        if g.region in scope
    ]
    unfiltered = comparator is None and outcome is None and timepoint is None
    shown_regions = {r.region for r in rows}
    explained = {g.region for g in gaps}
    extra_gaps: list[EvidenceGap] = []
    for missing in scope:
        if unfiltered and missing not in shown_regions and missing not in explained:
            label = vocab.regions[missing].label
            extra_gaps.append(
                _gap(
                    missing,
                    "whole region",
                    f"No pooled estimate for {label} is available to this audience.",
                    f"We have no pooled research on dry needling for the {vocab.regions[missing].plain} to show.",
                    [],
                    "high",
                    data,
                    kb,
                )
            )
    return _table(rows, gaps + extra_gaps, audience, data)


def _table(
    rows: list[EvidenceRow], gaps: list[EvidenceGap], audience: Audience, data: EvidenceData
) -> EvidenceTable:
    return EvidenceTable(
        rows=rows,
        gaps=gaps,
        rule=data.rules.best_estimate.rule,
        strength_rule=data.rules.strength.rule,
        patient_rule=data.rules.patient_display.rule,
        plain_rule=data.rules.patient_display.plain,
        audience=audience,
    )
