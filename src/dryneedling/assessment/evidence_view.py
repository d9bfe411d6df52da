"""The evidence section of a report: evidence-table rows for the person's condition and its region."""

from __future__ import annotations

from typing import Any

from dryneedling.assessment.models import EvidenceSection
from dryneedling.assessment.profile import PatientProfile

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


def _dump(item: Any) -> dict[str, Any]:
    return item.model_dump(mode="json") if hasattr(item, "model_dump") else dict(item)


# A handout lists a few findings; the clinician report keeps every row.
PATIENT_HIGHLIGHTS = 4


def _patient_highlights(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Patient-safe rows a patient reads: one per comparator, pain before function, sham/control first,
    earliest time point first. Rows the evidence table keeps from patients never qualify."""
    from dryneedling.evidence.syntheses import default_evidence

    timepoints = default_evidence().vocabulary.timepoints

    def rank(row: dict[str, Any]) -> tuple[int, int, int]:
        outcome = str(row.get("outcome", ""))
        comparator = str(row.get("comparator", ""))
        term = timepoints.get(str(row.get("timepoint")))
        return (
            0 if "pain" in outcome else 1 if "disab" in outcome or "function" in outcome else 2,
            0 if "sham" in comparator or "control" in comparator else 1,
            term.order if term else 99,
        )

    safe = [row for row in rows if row.get("patient_safe", True) and row.get("plain_summary")]
    per_comparator: dict[str, dict[str, Any]] = {}
    for row in sorted(safe, key=rank):
        per_comparator.setdefault(str(row.get("comparator")), row)
    return list(per_comparator.values())[:PATIENT_HIGHLIGHTS]


def evidence_section(profile: PatientProfile, kb: Any, audience: str = "clinician") -> EvidenceSection:
    """Rows (certainty, plain strength, summaries) and gaps for the profile's condition region."""
    from dryneedling.evidence.table import evidence_table

    condition = kb.conditions[profile.condition]
    table = evidence_table(condition=condition.id, audience=audience, kb=kb)
    region = condition.evidence_region
    rows = [_dump(row) for row in table.rows]
    gaps = [_dump(gap) for gap in table.gaps]
    certainties = [row.get("certainty") for row in rows]
    rank = {"high": 0, "moderate": 1, "low": 2}
    confidence = min(
        (CERTAINTY_TO_CONFIDENCE.get(c, "low") for c in certainties), key=rank.__getitem__, default="low"
    )
    strengths = sorted({str(row.get("strength")) for row in rows if row.get("strength")})
    highlights = _patient_highlights(rows)
    if rows:
        summary = f"{len(rows)} pooled estimate(s) for {region}; plain strength: {', '.join(strengths) or 'not rated'}."
        patient_text = (
            highlights[0]["plain_summary"]
            if highlights
            else "The studies on this problem are not clear enough to sum up here. Your therapist can explain them."
        )
    else:
        summary = " ".join(g["statement"] for g in gaps) or NO_REGION_TEXT
        patient_text = " ".join(dict.fromkeys(g["plain"] for g in gaps)) or NO_REGION_TEXT
    sources = list(
        dict.fromkeys(
            [*(r["source"] for r in rows if r.get("source")), *(s for g in gaps for s in g["sources"])]
        )
    )
    return EvidenceSection(
        region=region,
        condition=condition.id,
        rows=rows,
        gaps=gaps,
        rule=getattr(table, "rule", "") or "",
        summary=summary,
        sources=sources or list(condition.sources),
        confidence=confidence,
        patient_text=patient_text,
        patient_highlights=highlights,
    )
