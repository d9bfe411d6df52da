"""dryneedling.evidence: effect sizes, meta-analytic pooling and the evidence table.

Numerics follow metafor (Viechtbauer 2010) and are checked against it in tests/evidence.
Names are imported on first use (PEP 562), so that reading the evidence data or the grade rules does not
pay for importing scipy: the CLI's start-up time depends on it.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

_EXPORTS = {
    "MEASURES": "effect_sizes",
    "EffectSizes": "effect_sizes",
    "effect_sizes": "effect_sizes",
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

__all__ = sorted(_EXPORTS)
#: Functions named like their module (``effect_sizes``, ``meta_regression``, ``subgroup``, ``tau2_ci``).
_SAME_NAME = frozenset(name for name, module in _EXPORTS.items() if name == module)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dryneedling.evidence' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"dryneedling.evidence.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


class _Package(types.ModuleType):
    """Keeps ``dryneedling.evidence.meta_regression`` (etc.) the function, as the eager imports did.

    Importing a submodule makes Python set the package attribute of that name to the module; for the
    functions named like their module that would shadow the function, so such a module is not stored.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SAME_NAME and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
