"""Use cases over the evidence: the graded table (``evidence table``, ``GET /api/evidence``) and pooling a
researcher's own studies (``evidence pool``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dryneedling.catalog import Catalog
from dryneedling.evidence.table import evidence_table

#: The evidence table filtered as asked (unknown filter values raise InputError naming the field). The core
#: function is the use case as it stands; one name here keeps both shells on the services layer.
table = evidence_table


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
