"""Subgroup analysis: a pooled estimate per group and two tests for subgroup differences.

1. ``separate`` -- the test RevMan (Cochrane's Review Manager) reports: each subgroup is pooled on its own,
   with its own tau^2 under a random-effects method, and the subgroup estimates are then compared with a
   fixed-effect heterogeneity test, ``Q_between = sum_g (theta_g - theta_bar)^2 / se_g^2`` on G - 1 df
   (metafor: ``rma(theta_g, sei=se_g, method="FE")$QE``). With ``method="EE"`` this is the classic
   fixed-effect between-groups test ``Q_total - sum_g Q_g``.
2. ``common`` -- the mixed-effects meta-regression on group indicator variables with one tau^2 shared by
   all groups (metafor: ``rma(yi, vi, mods=~factor(group))``, omnibus test Q_M on G - 1 df; an F test under
   ``test="knha"``).

The two can disagree when the groups differ in heterogeneity; report which one you use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from dryneedling.errors import InputError
from dryneedling.evidence.meta_regression import REGRESSION_METHODS, MetaRegressionResult, meta_regression
from dryneedling.evidence.pooling import PoolResult, normalise_method, pool


@dataclass(frozen=True)
class SubgroupDifference:
    """A test for subgroup differences."""

    kind: str  # "separate" (RevMan; tau^2 per group) or "common" (meta-regression; one tau^2)
    q: float
    df: int
    pvalue: float
    df_denominator: int | None = None  # set when the common model uses Knapp-Hartung (an F test)


@dataclass(frozen=True)
class SubgroupResult:
    """Per-group pooled results, the overall pooled result and both tests for subgroup differences."""

    names: tuple[str, ...]  # groups in sorted order
    groups: dict[str, PoolResult]
    positions: dict[str, tuple[int, ...]]  # input positions of each group's studies
    overall: PoolResult
    separate: SubgroupDifference
    common: (
        SubgroupDifference | None
    )  # None when every group holds a single study and the model cannot be fitted
    regression: MetaRegressionResult | None

    def as_dict(self) -> dict:
        """Plain-Python view for JSON output."""
        return {
            "groups": [
                {"group": name, "studies": list(self.positions[name]), **self.groups[name].as_dict()}
                for name in self.names
            ],
            "overall": self.overall.as_dict(),
            "test_separate_tau2": self.separate.__dict__,
            "test_common_tau2": None if self.common is None else self.common.__dict__,
        }


def subgroup(
    yi,
    vi,
    groups: Sequence[object],
    method: str = "REML",
    test: str = "z",
    level: float = 95,
) -> SubgroupResult:
    """Pool each group of studies separately and test whether the groups differ (see module docstring)."""
    method = normalise_method(method)
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    labels = np.array([str(g) for g in groups], dtype=object)
    if labels.size != y.size or v.size != y.size:
        raise InputError("groups", f"needs one group per study ({y.size}), got {labels.size}")
    names = tuple(sorted(set(labels)))
    if len(names) < 2:
        raise InputError(
            "groups", "needs at least two different groups to compare", value=names[0] if names else None
        )

    pooled: dict[str, PoolResult] = {}
    positions: dict[str, tuple[int, ...]] = {}
    for name in names:
        members = np.flatnonzero(labels == name)
        positions[name] = tuple(int(i) for i in members)
        pooled[name] = pool(y[members], v[members], method=method, test=test, level=level)
    overall = pool(y, v, method=method, test=test, level=level)

    estimates = np.array([pooled[name].estimate for name in names])
    weights = 1 / np.array([pooled[name].se ** 2 for name in names])
    centre = np.sum(weights * estimates) / np.sum(weights)
    q_between = float(np.sum(weights * (estimates - centre) ** 2))
    df = len(names) - 1
    separate = SubgroupDifference("separate", q_between, df, float(stats.chi2.sf(q_between, df)))

    dummies = np.column_stack([(labels == name).astype(float) for name in names[1:]])
    regression: MetaRegressionResult | None = None
    common: SubgroupDifference | None = None
    if y.size > len(names) and method in REGRESSION_METHODS:
        regression = meta_regression(
            y, v, dummies, method=method, test=test, level=level, names=list(names[1:])
        )
        common = SubgroupDifference(
            "common",
            regression.qm,
            regression.qm_df,
            regression.qm_pvalue,
            regression.df if test == "knha" else None,
        )
    return SubgroupResult(names, pooled, positions, overall, separate, common, regression)
