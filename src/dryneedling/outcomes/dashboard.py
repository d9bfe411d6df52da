"""The clinic dashboard, assembled from aggregate counts and patient answers by pure functions.

Inputs are small and plain, so the database can compute them with GROUP BY and the patient follow-up (built
apart) can feed them later without changing anything here:

- :class:`TreatmentCount`: per clinician, treatments (visits with needling) and how many had at least one mild
  and at least one significant-or-major clinician-reported adverse event;
- :class:`PatientAnswer`: one answered follow-up: the treating clinician, soreness 0-10 at 24 and 48 h, and
  whether the patient reported a mild or a significant-or-major event;
- :class:`OutcomeChange`: how many episodes of a condition changed by ``change`` on a measure (latest minus
  baseline), a histogram the MCID is applied to here.

Rates carry exact (Clopper-Pearson) 95 % intervals; the published rates (Brady 2014, Boyce 2020) and the
soreness course come from the knowledge base with their sources. Per clinician, rates are placed in a funnel
around the clinic's mean (Spiegelhalter 2005). ``scope`` "own" (a clinician) shows only that clinician's
treatments, answers and episodes; the clinic's mean stays the funnel's centre line (an aggregate).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from dryneedling.knowledge.load import KnowledgeBase
from dryneedling.outcomes.benchmarks import Benchmarks
from dryneedling.outcomes.evidence_line import EvidenceLine
from dryneedling.outcomes.progress import choose_mcid, reached
from dryneedling.outcomes.stats import FUNNEL_LEVELS, funnel_limits, funnel_position, proportion, quartiles

Scope = Literal["clinic", "own"]
Reporter = Literal["clinician", "patient"]
SEVERITIES = ("mild", "serious")
NO_PATIENT_ANSWERS = "No patient answers yet."


@dataclass(frozen=True)
class TreatmentCount:
    clinician_id: str
    treatments: int
    mild: int
    serious: int


@dataclass(frozen=True)
class PatientAnswer:
    clinician_id: str
    soreness_24h: float | None
    soreness_48h: float | None
    mild: bool
    serious: bool
    count: int = 1
    """How many answered visits gave exactly this answer (the database groups them)."""


@dataclass(frozen=True)
class OutcomeChange:
    condition: str | None
    measure: str
    variant: str | None
    change: float
    episodes: int


@dataclass(frozen=True)
class ClinicianInfo:
    id: str
    name: str
    training_hours: float | None


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Rate(_Out):
    events: int
    total: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None


class PublishedRateOut(_Out):
    id: str
    study: str
    severity: str
    events: int
    treatments: int
    percent: float
    ci_low: float
    ci_high: float
    text: str
    reported_by: str
    sources: list[str]


class AdverseEventRates(_Out):
    treatments: int
    clinician_reported: dict[str, Rate]
    patient_answers: int
    patient_reported: dict[str, Rate]
    patient_note: str | None
    published: list[PublishedRateOut]
    severity_note: str
    reporting_note: str
    interval: str = "exact (Clopper-Pearson) 95 % interval"


class SorenessAt(_Out):
    hours: int
    n: int
    q1: float | None
    median: float | None
    q3: float | None


class PublishedSoreness(_Out):
    id: str
    hours: int | None
    value_0_10: float | None
    statistic: str | None
    text: str
    sources: list[str]
    confidence: str


class Soreness(_Out):
    course: list[SorenessAt]
    note: str | None
    published: list[PublishedSoreness]


class McidUsed(_Out):
    value: float
    population: str
    source: str
    specific_to_condition: bool


class ConditionOutcome(_Out):
    condition: str | None
    condition_label: str
    measure: str
    measure_name: str
    variant: str | None
    episodes: int
    reached: int
    share: float | None
    ci_low: float | None
    ci_high: float | None
    mcid: McidUsed | None
    evidence_strength: str | None
    evidence_summary: str
    evidence_source: str | None


class FunnelPoint(_Out):
    clinician_id: str
    name: str
    training_hours: float | None
    events: int
    total: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    position: str | None


class Funnel(_Out):
    reported_by: str
    severity: str
    clinic_mean: float | None
    clinic_events: int
    clinic_total: int
    points: list[FunnelPoint]
    limits: list[dict[str, float]]
    method: str = "Spiegelhalter 2005: p0 +- z sqrt(p0(1-p0)/n), 95 % and 99.8 % limits"


class Dashboard(_Out):
    scope: str
    catalog_version: str
    adverse_events: AdverseEventRates
    soreness: Soreness
    outcomes: list[ConditionOutcome]
    funnels: list[Funnel]
    sources: dict[str, str]


def _rate(events: int, total: int) -> Rate:
    found = proportion(events, total)
    return Rate(events=events, total=total, rate=found.rate, ci_low=found.low, ci_high=found.high)


def clinician_rates(counts: Iterable[TreatmentCount]) -> tuple[int, dict[str, Rate]]:
    """Treatments and the clinician-reported mild and serious rates over ``counts``."""
    counts = list(counts)
    total = sum(c.treatments for c in counts)
    return total, {
        "mild": _rate(sum(c.mild for c in counts), total),
        "serious": _rate(sum(c.serious for c in counts), total),
    }


def _answered(answers: Sequence[PatientAnswer]) -> int:
    return sum(a.count for a in answers)


def patient_rates(answers: Sequence[PatientAnswer]) -> dict[str, Rate]:
    """Patient-reported mild and serious rates per answered follow-up."""
    return {
        "mild": _rate(sum(a.mild * a.count for a in answers), _answered(answers)),
        "serious": _rate(sum(a.serious * a.count for a in answers), _answered(answers)),
    }


def soreness_course(answers: Sequence[PatientAnswer]) -> list[SorenessAt]:
    """Median and quartiles of soreness at 24 and 48 h over the answers that gave it."""
    course = []
    for hours, values in (
        (24, [a.soreness_24h for a in answers if a.soreness_24h is not None for _ in range(a.count)]),
        (48, [a.soreness_48h for a in answers if a.soreness_48h is not None for _ in range(a.count)]),
    ):
        found = quartiles(values)  # type: ignore[arg-type]
        course.append(SorenessAt(hours=hours, n=found.n, q1=found.q1, median=found.median, q3=found.q3))
    return course


def published_rates(benchmarks: Benchmarks) -> list[PublishedRateOut]:
    out = []
    for rate in benchmarks.adverse_event_rates:
        found = proportion(min(rate.events, rate.treatments), rate.treatments)
        out.append(
            PublishedRateOut(
                **rate.model_dump(exclude={"confidence"}),
                ci_low=found.low or 0.0,
                ci_high=found.high or 0.0,
            )
        )
    return out


def condition_outcomes(
    kb: KnowledgeBase, changes: Iterable[OutcomeChange], evidence: Callable[[str], EvidenceLine]
) -> list[ConditionOutcome]:
    """Per condition and measure: episodes, how many reached the MCID that applies, with the evidence line."""
    grouped: dict[tuple[str | None, str, str | None], list[OutcomeChange]] = defaultdict(list)
    for change in changes:
        if change.measure in kb.measures:
            grouped[(change.condition, change.measure, change.variant)].append(change)
    rows = []
    for (condition, measure_id, variant), members in grouped.items():
        measure = kb.measures[measure_id]
        mcid = choose_mcid(measure, condition, variant)  # once per group: a few dozen per dashboard
        episodes = sum(m.episodes for m in members)
        hits = sum(m.episodes for m in members if mcid and reached(measure, m.change, mcid.value))
        share = _rate(hits, episodes) if mcid else None
        line = evidence(condition) if condition in kb.conditions else None
        rows.append(
            ConditionOutcome(
                condition=condition,
                condition_label=kb.conditions[condition].label
                if condition in kb.conditions
                else "Not recorded",
                measure=measure_id,
                measure_name=measure.name,
                variant=variant,
                episodes=episodes,
                reached=hits,
                share=share.rate if share else None,
                ci_low=share.ci_low if share else None,
                ci_high=share.ci_high if share else None,
                mcid=McidUsed(
                    value=mcid.value,
                    population=mcid.context,
                    source=mcid.source,
                    specific_to_condition=mcid.specific,
                )
                if mcid
                else None,
                evidence_strength=line.strength if line else None,
                evidence_summary=line.summary if line else "No condition recorded for these episodes.",
                evidence_source=line.source if line else None,
            )
        )
    rows.sort(key=lambda r: (r.condition_label, r.measure, r.variant or ""))
    return rows


def _funnel_limits(p0: float, largest: int) -> list[dict[str, float]]:
    """Limits along n = 1..largest at about 40 points (what a plot needs to draw the curves)."""
    if largest <= 0:
        return []
    steps = sorted({max(1, round(largest * (i / 40) ** 2)) for i in range(1, 41)} | {largest})
    limits = []
    for n in steps:
        inner = funnel_limits(p0, n, FUNNEL_LEVELS[0])
        outer = funnel_limits(p0, n, FUNNEL_LEVELS[1])
        limits.append(
            {"n": n, "low95": inner[0], "high95": inner[1], "low998": outer[0], "high998": outer[1]}
        )
    return limits


def funnel(
    reporter: Reporter,
    severity: str,
    per_clinician: Mapping[str, tuple[int, int]],
    clinicians: Mapping[str, ClinicianInfo],
    shown: Callable[[str], bool],
) -> Funnel:
    """A funnel of one rate: ``per_clinician`` maps clinician id -> (events, total) over the whole clinic."""
    events = sum(e for e, _ in per_clinician.values())
    total = sum(n for _, n in per_clinician.values())
    p0 = events / total if total else None
    points = []
    for clinician_id, (e, n) in sorted(
        per_clinician.items(),
        key=lambda item: clinicians.get(item[0], ClinicianInfo(item[0], "?", None)).name,
    ):
        if not shown(clinician_id) or n == 0:
            continue
        info = clinicians.get(clinician_id, ClinicianInfo(clinician_id, "Former user", None))
        rate = _rate(e, n)
        points.append(
            FunnelPoint(
                clinician_id=clinician_id,
                name=info.name,
                training_hours=info.training_hours,
                events=e,
                total=n,
                rate=rate.rate,
                ci_low=rate.ci_low,
                ci_high=rate.ci_high,
                position=funnel_position(e / n, p0, n) if p0 is not None else None,
            )
        )
    largest = max((n for _, n in per_clinician.values()), default=0)
    return Funnel(
        reported_by=reporter,
        severity=severity,
        clinic_mean=p0,
        clinic_events=events,
        clinic_total=total,
        points=points,
        limits=_funnel_limits(p0, largest) if p0 is not None else [],
    )


def build_dashboard(
    *,
    kb: KnowledgeBase,
    catalog_version: str,
    benchmarks: Benchmarks,
    scope: Scope,
    viewer_id: str,
    counts: Sequence[TreatmentCount],
    answers: Sequence[PatientAnswer],
    changes: Sequence[OutcomeChange],
    clinicians: Sequence[ClinicianInfo],
    evidence: Callable[[str], EvidenceLine],
) -> Dashboard:
    """The dashboard (see the module docstring). ``counts`` and ``answers`` cover the whole clinic (the funnel
    needs the clinic's mean); ``changes`` are already limited to what the viewer may see."""

    def shown(clinician_id: str) -> bool:
        return scope == "clinic" or clinician_id == viewer_id

    own_counts = [c for c in counts if shown(c.clinician_id)]
    own_answers = [a for a in answers if shown(a.clinician_id)]
    treatments, clinician_reported = clinician_rates(own_counts)
    adverse = AdverseEventRates(
        treatments=treatments,
        clinician_reported=clinician_reported,
        patient_answers=_answered(own_answers),
        patient_reported=patient_rates(own_answers),
        patient_note=None if own_answers else NO_PATIENT_ANSWERS,
        published=published_rates(benchmarks),
        severity_note=" ".join(benchmarks.severity_note.split()),
        reporting_note=" ".join(benchmarks.reporting_note.split()),
    )
    soreness = Soreness(
        course=soreness_course(own_answers),
        note=None if own_answers else NO_PATIENT_ANSWERS,
        published=[PublishedSoreness(**f.model_dump()) for f in benchmarks.soreness_course],
    )
    info = {c.id: c for c in clinicians}
    funnels = []
    for severity in SEVERITIES:
        funnels.append(
            funnel(
                "clinician",
                severity,
                {c.clinician_id: (getattr(c, severity), c.treatments) for c in counts},
                info,
                shown,
            )
        )
    per_patient: dict[str, list[PatientAnswer]] = defaultdict(list)
    for answer in answers:
        per_patient[answer.clinician_id].append(answer)
    for severity in SEVERITIES:
        funnels.append(
            funnel(
                "patient",
                severity,
                {
                    cid: (sum(getattr(a, severity) * a.count for a in found), _answered(found))
                    for cid, found in per_patient.items()
                },
                info,
                shown,
            )
        )
    outcomes = condition_outcomes(kb, changes, evidence)
    cited = [s for rate in benchmarks.adverse_event_rates for s in rate.sources]
    cited += [s for finding in benchmarks.soreness_course for s in finding.sources]
    cited += benchmarks.reporting_sources
    cited += [row.mcid.source for row in outcomes if row.mcid]
    cited += [row.evidence_source for row in outcomes if row.evidence_source]
    sources = {sid: kb.sources[sid].citation for sid in dict.fromkeys(cited) if sid in kb.sources}
    return Dashboard(
        scope=scope,
        catalog_version=catalog_version,
        adverse_events=adverse,
        soreness=soreness,
        outcomes=outcomes,
        funnels=funnels,
        sources=sources,
    )


# -- the numbers under the plots, as CSV -----------------------------------------------------------------
CSV_TABLES = ("adverse_events", "soreness", "outcomes", "funnel")


#: A cell starting with one of these is a formula to a spreadsheet (CSV injection): a clinician's name
#: such as "=HYPERLINK(...)" is written with a leading apostrophe instead.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue()


def dashboard_csv(dashboard: Dashboard, table: str) -> str:
    """One table of the dashboard as CSV (``table`` one of :data:`CSV_TABLES`)."""
    if table == "adverse_events":
        ae = dashboard.adverse_events
        rows = [
            (
                "this clinic" if dashboard.scope == "clinic" else "my patients",
                reporter,
                severity,
                r.events,
                r.total,
                r.rate,
                r.ci_low,
                r.ci_high,
                "",
            )
            for reporter, rates in (("clinician", ae.clinician_reported), ("patient", ae.patient_reported))
            for severity, r in rates.items()
        ]
        rows += [
            (
                p.study,
                p.reported_by,
                p.severity,
                p.events,
                p.treatments,
                p.percent / 100,
                p.ci_low,
                p.ci_high,
                ";".join(p.sources),
            )
            for p in ae.published
        ]
        header = [
            "who",
            "reported_by",
            "severity",
            "events",
            "treatments",
            "rate",
            "ci_low",
            "ci_high",
            "sources",
        ]
        return _csv(header, rows)
    if table == "soreness":
        rows = [
            ("this clinic", s.hours, "median", s.n, s.q1, s.median, s.q3, "")
            for s in dashboard.soreness.course
        ]
        rows += [
            ("published", p.hours, p.statistic or "", "", "", p.value_0_10, "", ";".join(p.sources))
            for p in dashboard.soreness.published
        ]
        return _csv(["who", "hours", "statistic", "n", "q1", "value", "q3", "sources"], rows)
    if table == "outcomes":
        rows = [
            (
                o.condition or "",
                o.condition_label,
                o.measure,
                o.variant,
                o.episodes,
                o.reached,
                o.share,
                o.ci_low,
                o.ci_high,
                o.mcid.value if o.mcid else None,
                o.mcid.source if o.mcid else None,
                o.evidence_strength,
                o.evidence_source,
            )
            for o in dashboard.outcomes
        ]
        header = [
            "condition",
            "condition_label",
            "measure",
            "variant",
            "episodes",
            "reached_mcid",
            "share",
            "ci_low",
            "ci_high",
            "mcid",
            "mcid_source",
            "evidence_strength",
            "evidence_source",
        ]
        return _csv(header, rows)
    if table == "funnel":
        rows = [
            (
                f.reported_by,
                f.severity,
                p.name,
                p.training_hours,
                p.events,
                p.total,
                p.rate,
                p.ci_low,
                p.ci_high,
                f.clinic_mean,
                p.position,
            )
            for f in dashboard.funnels
            for p in f.points
        ]
        header = [
            "reported_by",
            "severity",
            "clinician",
            "training_hours",
            "events",
            "treatments",
            "rate",
            "ci_low",
            "ci_high",
            "clinic_mean",
            "position",
        ]
        return _csv(header, rows)
    raise ValueError(table)
