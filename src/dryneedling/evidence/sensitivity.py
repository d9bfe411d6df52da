"""Sensitivity analyses of a pooled estimate: leave-one-out, cumulative meta-analysis and influence diagnostics.

These repeat :func:`~dryneedling.evidence.pooling.pool` on subsets of the studies and follow R's metafor 3.8
(``leave1out``, ``cumul`` and ``influence`` for an intercept-only ``rma.uni`` model):

- leave-one-out: the model refitted without each study in turn;
- cumulative: the model refitted on the first 1, 2, ..., k studies, in the given order or sorted by a key
  (ties keep their input order, as R's ``order()``);
- influence (Viechtbauer & Cheung 2010): externally studentised residuals, DFFITS, Cook's distance, the
  covariance ratio, tau^2 and Q_E without the study, hat values, weights and DFBETAS. A study is flagged as
  influential by metafor's rule: |DFFITS| > 3 sqrt(p/(k-p)), or the chi-square(1) probability of Cook's
  distance > 0.5, or hat > 3p/k, or |DFBETAS| > 1 (with p = 1 coefficient).

Under ``test="knha"`` the deleted fits' Knapp-Hartung scale factor enters the residuals, DFFITS and DFBETAS
exactly as in metafor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from dryneedling.errors import InputError
from dryneedling.evidence.pooling import PoolResult, pool

_COLUMNS = (
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "stat",
    "pvalue",
    "tau2",
    "i2",
    "h2",
    "q",
    "q_pvalue",
    "pi_low",
    "pi_high",
)


@dataclass(frozen=True)
class SensitivityTable:
    """One pooled result per row: the study left out (leave-one-out) or the study just added (cumulative)."""

    kind: str  # "leave_one_out" or "cumulative"
    labels: tuple[str, ...]  # study label for each row
    positions: tuple[int, ...]  # input position of that study
    results: tuple[PoolResult, ...]

    def column(self, name: str) -> np.ndarray:
        """A PoolResult field across the rows, e.g. ``table.column("estimate")``."""
        if name not in (*_COLUMNS, "k"):
            raise InputError.unknown("column", name, (*_COLUMNS, "k"))
        return np.array([getattr(result, name) for result in self.results], dtype=float)

    def rows(self) -> list[dict]:
        """Plain rows for tables and JSON output."""
        return [
            {
                "study": label,
                "position": pos,
                "k": result.k,
                **{name: float(getattr(result, name)) for name in _COLUMNS},
            }
            for label, pos, result in zip(self.labels, self.positions, self.results, strict=True)
        ]


@dataclass(frozen=True)
class InfluenceResult:
    """Case-deletion diagnostics per study (metafor ``influence.rma.uni``)."""

    labels: tuple[str, ...]
    rstudent: np.ndarray
    dffits: np.ndarray
    cook_d: np.ndarray
    cov_r: np.ndarray
    tau2_del: np.ndarray
    qe_del: np.ndarray
    hat: np.ndarray
    weight: np.ndarray  # percent
    dfbetas: np.ndarray
    influential: np.ndarray  # bool, metafor's rule (see module docstring)

    def rows(self) -> list[dict]:
        """Plain rows for tables and JSON output."""
        names = ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat", "weight", "dfbetas")
        return [
            {
                "study": label,
                **{name: float(getattr(self, name)[i]) for name in names},
                "influential": bool(self.influential[i]),
            }
            for i, label in enumerate(self.labels)
        ]


def _inputs(yi, vi, labels, minimum: int) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if y.size != v.size:
        raise InputError("vi", f"has {v.size} values but yi has {y.size}; lengths must match")
    if y.size < minimum:
        raise InputError("yi", f"needs at least {minimum} studies (got {y.size})")
    names = (
        tuple(str(label) for label in labels)
        if labels is not None
        else tuple(f"Study {i + 1}" for i in range(y.size))
    )
    if len(names) != y.size:
        raise InputError("labels", f"gives {len(names)} labels for {y.size} studies")
    return y, v, names


def leave_one_out(
    yi, vi, method: str = "REML", test: str = "z", level: float = 95, labels: Sequence[str] | None = None
) -> SensitivityTable:
    """Pool the studies k times, each time without one of them (metafor ``leave1out``)."""
    y, v, names = _inputs(yi, vi, labels, minimum=2)
    keep = ~np.eye(y.size, dtype=bool)
    results = tuple(pool(y[mask], v[mask], method=method, test=test, level=level) for mask in keep)
    return SensitivityTable("leave_one_out", names, tuple(range(y.size)), results)


def cumulative(
    yi,
    vi,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    labels: Sequence[str] | None = None,
    order_by=None,
    descending: bool = False,
) -> SensitivityTable:
    """Pool the first 1, 2, ..., k studies (metafor ``cumul``), optionally sorted by ``order_by`` first.

    ``order_by`` holds one sort key per study (e.g. publication year); ties keep the input order.
    """
    y, v, names = _inputs(yi, vi, labels, minimum=1)
    if order_by is None:
        order = np.arange(y.size)
    else:
        keys = np.asarray(order_by)
        if keys.shape != (y.size,):
            raise InputError("order_by", f"needs one value per study ({y.size})")
        order = np.argsort(-keys if descending else keys, kind="stable")
    y, v = y[order], v[order]
    results = tuple(
        pool(y[: i + 1], v[: i + 1], method=method, test=test, level=level) for i in range(y.size)
    )
    return SensitivityTable(
        "cumulative", tuple(names[i] for i in order), tuple(int(i) for i in order), results
    )


def influence(
    yi, vi, method: str = "REML", test: str = "z", level: float = 95, labels: Sequence[str] | None = None
) -> InfluenceResult:
    """Case-deletion influence diagnostics for the intercept-only model (metafor ``influence``)."""
    y, v, names = _inputs(yi, vi, labels, minimum=3)
    k = y.size
    full = pool(y, v, method=method, test=test, level=level)
    w_full = 1 / (v + full.tau2)
    hat = w_full / w_full.sum()
    vb_full = full.se**2

    fields = {
        name: np.empty(k)
        for name in ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "dfbetas")
    }
    for i, mask in enumerate(~np.eye(k, dtype=bool)):
        deleted = pool(y[mask], v[mask], method=method, test=test, level=level)
        tau2_del = deleted.tau2
        vb_del = deleted.se**2
        # Knapp-Hartung scale factor of the deleted fit (1 under the z test), recovered from its variance.
        s2w = vb_del * np.sum(1 / (v[mask] + tau2_del)) if deleted.test == "knha" else 1.0
        shift = full.estimate - deleted.estimate
        fields["rstudent"][i] = (y[i] - deleted.estimate) / np.sqrt(v[i] * s2w + vb_del + tau2_del * s2w)
        fields["dffits"][i] = shift / np.sqrt(s2w * hat[i] * (tau2_del + v[i]))
        fields["cook_d"][i] = shift**2 / vb_full
        fields["cov_r"][i] = vb_del / vb_full
        fields["tau2_del"][i] = tau2_del
        fields["qe_del"][i] = deleted.q
        fields["dfbetas"][i] = shift / np.sqrt(s2w / np.sum(1 / (v + tau2_del)))

    p = 1
    influential = (
        (np.abs(fields["dffits"]) > 3 * np.sqrt(p / (k - p)))
        | (stats.chi2.cdf(fields["cook_d"], p) > 0.5)
        | (hat > 3 * p / k)
        | (np.abs(fields["dfbetas"]) > 1)
    )
    return InfluenceResult(
        labels=names,
        hat=hat,
        weight=100 * hat,
        influential=influential,
        **fields,
    )
