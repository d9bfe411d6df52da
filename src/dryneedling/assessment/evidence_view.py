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


def _headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The row a patient sees first: pain versus sham/control when there is one, else the first row."""

    def rank(row: dict[str, Any]) -> tuple[int, int]:
        outcome = str(row.get("outcome", ""))
        comparator = str(row.get("comparator", ""))
        return (0 if "pain" in outcome else 1, 0 if "sham" in comparator or "control" in comparator else 1)

    return min(rows, key=rank)


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
    if rows:
        summary = f"{len(rows)} pooled estimate(s) for {region}; plain strength: {', '.join(strengths) or 'not rated'}."
        patient_text = _headline(rows)["plain_summary"] or summary
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
    )
