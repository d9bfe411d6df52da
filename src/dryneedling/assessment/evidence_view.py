"""The evidence section of a report: evidence-table rows for the person's condition and its region."""

from __future__ import annotations

from typing import Any

from dryneedling.assessment.models import EvidenceSection
from dryneedling.assessment.profile import PatientProfile
from dryneedling.errors import InputError

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


def _table(region: str | None, condition: str, audience: str) -> Any:
    from dryneedling.evidence.table import evidence_table

    try:
        table = evidence_table(region=region, condition=condition, audience=audience)
    except InputError:
        table = None  # the table does not know this condition id: fall back to the region alone
    if table is None or (not table.rows and not table.gaps):
        table = evidence_table(region=region, audience=audience)
    return table


def evidence_section(profile: PatientProfile, kb: Any, audience: str = "clinician") -> EvidenceSection:
    """Rows (certainty, plain strength, summaries) and gaps for the profile's condition region."""
    condition = kb.conditions[profile.condition]
    region = condition.evidence_region
    if region is None:
        return EvidenceSection(
            region=None,
            condition=condition.id,
            summary=NO_REGION_TEXT,
            sources=list(condition.sources),
            confidence="low",
            patient_text=NO_REGION_TEXT,
        )
    table = _table(region, condition.id, audience)
    rows = [_dump(row) for row in table.rows]
    gaps = [_dump(gap) for gap in table.gaps]
    certainties = [row.get("certainty") for row in rows]
    rank = {"high": 0, "moderate": 1, "low": 2}
    confidence = min(
        (CERTAINTY_TO_CONFIDENCE.get(c, "low") for c in certainties), key=rank.__getitem__, default="low"
    )
    strengths = sorted({str(row.get("strength")) for row in rows if row.get("strength")})
    if rows:
        summary = f"{len(rows)} pooled estimate(s) for {region}; plain strength: {', '.join(strengths) or 'not rated'}."
        patient_text = next((row["plain_summary"] for row in rows if row.get("plain_summary")), summary)
    else:
        gap_text = next((g.get("sentence") or g.get("text") or g.get("plain") for g in gaps if g), None)
        summary = gap_text or f"No pooled dry-needling evidence for {region}."
        patient_text = summary
    sources = list(dict.fromkeys(row["source"] for row in rows if row.get("source")))
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
    )
