"""dryneedling.evidence: effect sizes, meta-analytic pooling and the evidence table.

Numerics follow metafor (Viechtbauer 2010) and are checked against it in tests/evidence.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

# Names are imported from their modules on first use (PEP 562): the evidence table, which every report
# reads, needs neither scipy nor the estimators, and importing them eagerly cost a report ~0.8 s.
_EXPORTS = {
    "BatchResult": "batch",
    "pool_many": "batch",
    "MEASURES": "effect_sizes",
    "EffectSizes": "effect_sizes",
    "effect_sizes": "effect_sizes",
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

__all__ = [
    "MEASURES",
    "METHODS",
    "TESTS",
    "ConvergenceWarning",
    "EffectSizes",
    "PoolResult",
    "effect_sizes",
    "pool",
    "pool_many",
    "BatchResult",
    "tau2_ci",
    "CI_TYPES",
    "Tau2Interval",
]


# Functions named like their module: importing the module sets the package attribute to the module (the
# import system does that); keep the function there instead, as the eager imports used to.
_SAME_NAME = {"effect_sizes", "tau2_ci", "meta_regression", "subgroup"}


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: object) -> None:
        if name in _SAME_NAME and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # static analysers and IDEs see the real names
    from dryneedling.evidence.batch import BatchResult, pool_many
    from dryneedling.evidence.bias import egger_test, rank_test, trim_and_fill  # noqa: F401
    from dryneedling.evidence.binary import mantel_haenszel, peto  # noqa: F401
    from dryneedling.evidence.effect_sizes import MEASURES, EffectSizes, effect_sizes
    from dryneedling.evidence.meta_regression import meta_regression  # noqa: F401
    from dryneedling.evidence.pooling import METHODS, TESTS, ConvergenceWarning, PoolResult, pool
    from dryneedling.evidence.sensitivity import cumulative, influence, leave_one_out  # noqa: F401
    from dryneedling.evidence.subgroup import subgroup  # noqa: F401
    from dryneedling.evidence.table import EvidenceGap, EvidenceRow, EvidenceTable, evidence_table  # noqa: F401
    from dryneedling.evidence.tau2_ci import CI_TYPES, Tau2Interval, tau2_ci
