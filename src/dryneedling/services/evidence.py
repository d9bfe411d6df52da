"""Use cases over the evidence: the graded table (``evidence table``, ``GET /api/evidence``) and pooling a
researcher's own studies (``evidence pool``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dryneedling.catalog import Catalog
from dryneedling.evidence.table import EvidenceTable, evidence_table


def table(
    catalog: Catalog,
    region: str | None = None,
    comparator: str | None = None,
    outcome: str | None = None,
    condition: str | None = None,
    audience: str = "clinician",
    timepoint: str | None = None,
    all_estimates: bool = False,
) -> EvidenceTable:
    """The evidence table filtered as asked; unknown filter values raise InputError naming the field."""
    return evidence_table(
        catalog,
        region=region,
        comparator=comparator,
        outcome=outcome,
        condition=condition,
        audience=audience,
        timepoint=timepoint,
        all_estimates=all_estimates,
    )


def pool_studies(
    catalog: Catalog,
    path: Path,
    measure: str | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    by: str | None = None,
) -> tuple[Any, dict]:
    """Read a CSV of study-level data and meta-analyse it; returns the study data and the analysis.

    The minimum number of studies for small-study tests comes from the catalog's grade rules, the one
    place that rule lives.
    """
    from dryneedling.evidence.studies import analyse_studies, read_studies

    data = read_studies(path, measure)
    minimum = catalog.grade_rules.certainty.publication_bias.min_studies_for_test
    return data, analyse_studies(data, method=method, test=test, level=level, by=by, min_studies=minimum)
