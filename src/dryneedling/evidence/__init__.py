"""dryneedling.evidence: effect sizes, meta-analytic pooling and the evidence table.

Numerics follow metafor (Viechtbauer 2010) and are checked against it in tests/evidence.
Names are imported on first use (PEP 562), so that reading the evidence data or the grade rules does not
pay for importing scipy: the CLI's start-up time depends on it.
"""

from __future__ import annotations

import importlib
from typing import Any

# A function that shares its module's name must be bound eagerly: once the submodule is imported, Python
# sets the package attribute to the module and a lazy lookup would never run.
from dryneedling.evidence.effect_sizes import MEASURES, EffectSizes, effect_sizes  # noqa: F401

_EXPORTS = {
    "pool_many": "batch",
    "BatchResult": "batch",
    "METHODS": "pooling",
    "TESTS": "pooling",
    "ConvergenceWarning": "pooling",
    "PoolResult": "pooling",
    "pool": "pooling",
    "EvidenceGap": "table",
    "EvidenceRow": "table",
    "EvidenceTable": "table",
    "evidence_table": "table",
    "CI_TYPES": "tau2_ci",
    "Tau2Interval": "tau2_ci",
    "tau2_ci": "tau2_ci",
    "egger_test": "bias",
    "rank_test": "bias",
    "trim_and_fill": "bias",
    "mantel_haenszel": "binary",
    "peto": "binary",
    "meta_regression": "meta_regression",
    "cumulative": "sensitivity",
    "influence": "sensitivity",
    "leave_one_out": "sensitivity",
    "subgroup": "subgroup",
}

__all__ = sorted([*_EXPORTS, "MEASURES", "EffectSizes", "effect_sizes"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dryneedling.evidence' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"dryneedling.evidence.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
