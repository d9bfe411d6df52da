"""The evidence section of a report: evidence-table rows for the person's condition and its region."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dryneedling.assessment.models import EvidenceSection
from dryneedling.assessment.profile import PatientProfile
from dryneedling.evidence.table import EvidenceRow, evidence_table
from dryneedling.vocabulary import weakest_confidence

if TYPE_CHECKING:
    from dryneedling.catalog import Catalog

CERTAINTY_TO_CONFIDENCE = {
    "high": "high",
    "moderate": "moderate",
    "low": "low",
    "very_low": "low",
    None: "low",
}
NO_REGION_TEXT = (
    "No pooled dry-needling evidence is mapped to this condition, so the research cannot say how well it works "
    "for this problem."
)

# A handout lists a few findings; the clinician report keeps every row.
PATIENT_HIGHLIGHTS = 4


def _patient_highlights(rows: list[EvidenceRow], catalog: Catalog) -> list[EvidenceRow]:
    """Patient-safe rows a patient reads: one per comparator, pain before function, sham/control first,
    earliest time point first. Rows the evidence table keeps from patients never qualify."""
    timepoints = catalog.evidence.vocabulary.timepoints

    def rank(row: EvidenceRow) -> tuple[int, int, int]:
        outcome, comparator = row.outcome, row.comparator
        term = timepoints.get(row.timepoint)
        return (
            0 if "pain" in outcome else 1 if "disab" in outcome or "function" in outcome else 2,
            0 if "sham" in comparator or "control" in comparator else 1,
            term.order if term else 99,
        )

    safe = [row for row in rows if row.patient_safe and row.plain_summary]
    per_comparator: dict[str, EvidenceRow] = {}
    for row in sorted(safe, key=rank):
        per_comparator.setdefault(row.comparator, row)
    return list(per_comparator.values())[:PATIENT_HIGHLIGHTS]


def evidence_section(
    profile: PatientProfile, catalog: Catalog, audience: str = "clinician"
) -> EvidenceSection:
    """Rows (certainty, plain strength, summaries) and gaps for the profile's condition region.

    The section depends only on the condition, the audience and the catalog's data, so the catalog keeps
    it once computed (``Catalog.derived``); the section is immutable and shared by every report.
    """
    key = ("evidence_section", profile.condition, audience)
    cached = catalog.derived.get(key)
    if cached is None:
        cached = catalog.derived[key] = _evidence_section(profile.condition, catalog, audience)
    return cached


def _evidence_section(condition_id: str, catalog: Catalog, audience: str) -> EvidenceSection:
    condition = catalog.kb.conditions[condition_id]
    table = evidence_table(catalog, condition=condition.id, audience=audience)
    region = condition.evidence_region
    rows, gaps = list(table.rows), list(table.gaps)
    confidence = weakest_confidence(
        (CERTAINTY_TO_CONFIDENCE.get(row.certainty, "low") for row in rows), "low"
    )
    strengths = sorted({row.strength for row in rows if row.strength})
    highlights = _patient_highlights(rows, catalog)
    if rows:
        summary = f"{len(rows)} pooled estimate(s) for {region}; plain strength: {', '.join(strengths) or 'not rated'}."
        patient_text = (
            highlights[0].plain_summary
            if highlights
            else "The studies on this problem are not clear enough to sum up here. Your therapist can explain them."
        )
    else:
        summary = " ".join(g.statement for g in gaps) or NO_REGION_TEXT
        patient_text = " ".join(dict.fromkeys(g.plain for g in gaps)) or NO_REGION_TEXT
    sources = list(
        dict.fromkeys([*(r.source for r in rows if r.source), *(s for g in gaps for s in g.sources)])
    )
    return EvidenceSection(
        region=region,
        condition=condition.id,
        rows=rows,
        gaps=gaps,
        rule=table.rule,
        summary=summary,
        sources=sources or list(condition.sources),
        confidence=confidence,
        patient_text=patient_text,
        patient_highlights=highlights,
    )
