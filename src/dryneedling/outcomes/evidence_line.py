"""The pooled evidence for a condition in one line: what the evidence table says, with its strength in words.

The line is the table's best estimate for the condition's region, preferring pain in the short term against a
sham or placebo (what most trials report); where the table has only a gap statement, that statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dryneedling.evidence.table import evidence_table

if TYPE_CHECKING:
    from dryneedling.catalog import Catalog


@dataclass(frozen=True)
class EvidenceLine:
    condition: str
    region: str | None
    strength: str | None
    summary: str
    source: str | None
    citation: str | None

    def as_dict(self) -> dict:
        return {
            "region": self.region,
            "strength": self.strength,
            "summary": self.summary,
            "source": self.source,
            "citation": self.citation,
        }


def _preference(row) -> tuple:
    return (
        row.outcome != "pain",
        row.timepoint != "short_term",
        not row.comparator.startswith("sham"),
        row.id,
    )


def evidence_line(catalog: Catalog, condition: str) -> EvidenceLine:
    """The evidence line for ``condition`` (a knowledge-base condition id; see the module docstring)."""
    key = ("outcomes.evidence_line", condition)
    if key in catalog.derived:
        return catalog.derived[key]
    table = evidence_table(catalog, condition=condition, audience="clinician")
    if table.rows:
        row = min(table.rows, key=_preference)
        line = EvidenceLine(
            condition, row.region, row.strength, row.clinician_summary, row.source, row.citation
        )
    else:
        gap = table.gaps[0] if table.gaps else None
        line = EvidenceLine(
            condition,
            gap.region or None if gap else None,
            None,
            gap.statement if gap else "No pooled dry-needling estimate is linked to this condition.",
            gap.sources[0] if gap and gap.sources else None,
            gap.citations[0] if gap and gap.citations else None,
        )
    catalog.derived[key] = line
    return line
