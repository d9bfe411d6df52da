"""dryneedling.evidence: effect sizes, meta-analytic pooling and the evidence table.

Numerics follow metafor (Viechtbauer 2010) and are checked against it in tests/evidence.
"""

from dryneedling.evidence.batch import BatchResult, pool_many
from dryneedling.evidence.effect_sizes import MEASURES, EffectSizes, effect_sizes
from dryneedling.evidence.pooling import METHODS, TESTS, ConvergenceWarning, PoolResult, pool
from dryneedling.evidence.table import EvidenceGap, EvidenceRow, EvidenceTable, evidence_table  # noqa: F401
from dryneedling.evidence.tau2_ci import CI_TYPES, Tau2Interval, tau2_ci

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
from dryneedling.evidence.bias import egger_test, rank_test, trim_and_fill  # noqa: F401 (evidence-B exports)
from dryneedling.evidence.binary import mantel_haenszel, peto  # noqa: F401
from dryneedling.evidence.meta_regression import meta_regression  # noqa: F401
from dryneedling.evidence.sensitivity import cumulative, influence, leave_one_out  # noqa: F401
from dryneedling.evidence.subgroup import subgroup  # noqa: F401
