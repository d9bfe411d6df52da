"""Inverse-variance pooling of effect sizes: common-effect and random-effects models (metafor ``rma.uni``).

Model (Viechtbauer 2005, 2010): ``y_i = mu + u_i + e_i``, ``u_i ~ N(0, tau^2)``, ``e_i ~ N(0, v_i)``.
The estimate is ``sum w_i y_i / sum w_i`` with ``w_i = 1/(v_i + tau^2)`` and standard error
``sqrt(1 / sum w_i)``. ``test="knha"`` applies Hartung-Knapp / Sidik-Jonkman (Hartung & Knapp 2001;
Sidik & Jonkman 2002): the variance is multiplied by ``sum w_i (y_i - mu)^2 / (k - 1)`` and the test and
interval use a t distribution with ``k - 1`` degrees of freedom (metafor's ``test="knha"``, no truncation).

Heterogeneity as metafor reports it: Cochran's Q with ``w = 1/v`` on ``k - 1`` df; for the common-effect
model ``I^2 = max(0, (Q - (k-1))/Q)`` and ``H^2 = Q/(k-1)``; otherwise ``I^2 = tau^2/(tau^2 + v~)`` and
``H^2 = (tau^2 + v~)/v~`` with the typical within-study variance ``v~ = (k-1)/(sum w - sum w^2/sum w)``
(Higgins & Thompson 2002). The prediction interval is metafor's ``predict()``:
``mu +/- crit * sqrt(se^2 + tau^2)`` with the same critical value as the confidence interval.

The hot path deliberately avoids pydantic and ``scipy.stats``: a single REML fit for k = 20 takes tens of
microseconds (see ``bench/bench_pooling.py``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import chdtrc, ndtri, stdtr, stdtrit

from dryneedling.errors import InputError
from dryneedling.evidence._estimators import estimate_tau2
from dryneedling.evidence._validate import as_vector, level_fraction, positive

METHODS: tuple[str, ...] = ("EE", "DL", "REML", "ML", "PM", "HE", "SJ", "EB", "HS")
TESTS: tuple[str, ...] = ("z", "knha")
_METHOD_ALIASES = {"FE": "EE", "CE": "EE", **{m: m for m in METHODS}}
_TEST_ALIASES = {"z": "z", "Z": "z", "knha": "knha", "KNHA": "knha", "hksj": "knha", "HKSJ": "knha"}


class ConvergenceWarning(UserWarning):
    """An iterative tau^2 estimator could not reach its optimum; the result says so (converged=False)."""


@dataclass(slots=True)
class PoolResult:
    """One pooled estimate with heterogeneity statistics (field names mirror metafor's ``rma`` object).

    ``weights`` are percent; ``df`` is ``None`` for z tests and ``k - 1`` under Knapp-Hartung;
    ``vt`` is the typical within-study variance used for I^2/H^2; ``message`` explains any special case.
    For the common-effect model (tau^2 = 0) the prediction interval equals the confidence interval
    (metafor's ``predict()`` reports none there).
    """

    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    stat: float
    pvalue: float
    df: int | None
    tau2: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_pvalue: float
    pi_low: float
    pi_high: float
    weights: np.ndarray
    converged: bool
    method: str
    test: str
    level: float
    vt: float
    iterations: int
    message: str

    @property
    def tau(self) -> float:
        """Between-study standard deviation, ``sqrt(tau2)``."""
        return math.sqrt(self.tau2) if self.tau2 >= 0 else math.nan

    def as_dict(self) -> dict:
        """Plain-Python view (weights as a list) for JSON output."""
        out = {name: getattr(self, name) for name in self.__slots__}
        out["weights"] = [float(x) for x in self.weights]
        out["tau"] = self.tau
        return out


def normalise_method(method: str) -> str:
    """Canonical method name (``FE``/``CE`` -> ``EE``), or InputError listing the valid ones."""
    key = method.upper() if isinstance(method, str) else method
    try:
        return _METHOD_ALIASES[key]
    except (KeyError, TypeError):
        raise InputError("method", f"unknown method {method!r}", value=method, choices=METHODS) from None


def normalise_test(test: str) -> str:
    """Canonical test name: ``z`` or ``knha`` (``hksj`` accepted)."""
    try:
        return _TEST_ALIASES[test]
    except (KeyError, TypeError):
        raise InputError("test", f"unknown test {test!r}", value=test, choices=TESTS) from None


@lru_cache(maxsize=64)
def z_crit(level: float) -> float:
    """Two-sided standard-normal critical value for a confidence level given as a fraction."""
    return float(ndtri(0.5 + level / 2))


@lru_cache(maxsize=1024)
def t_crit(level: float, df: int) -> float:
    """Two-sided Student-t critical value."""
    return float(stdtrit(df, 0.5 + level / 2))


def check_inputs(yi: object, vi: object) -> tuple[np.ndarray, np.ndarray]:
    """Validate effect sizes and sampling variances (finite, same length, k >= 1, variances > 0)."""
    if (
        type(yi) is np.ndarray
        and type(vi) is np.ndarray
        and yi.dtype == np.float64
        and vi.dtype == np.float64
        and yi.ndim == 1
        and yi.shape == vi.shape
        and yi.shape[0] > 0
        # a finite sum implies every element is finite (NaN/inf propagate); otherwise the slow path explains
        and math.isfinite(yi.sum())
        and math.isfinite(vi.sum())
        and vi.min() > 0
    ):
        return yi, vi
    y = as_vector("yi", yi)
    v = as_vector("vi", vi)
    if y.shape[0] != v.shape[0]:
        raise InputError("vi", f"has {v.shape[0]} values but yi has {y.shape[0]}; lengths must match")
    if y.shape[0] < 1:
        raise InputError("yi", "needs at least one study (k >= 1)")
    positive("vi", v)
    return y, v


def pool(
    yi: object,
    vi: object,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
) -> PoolResult:
    """Pool ``yi`` (effect sizes) with sampling variances ``vi``.

    ``method``: EE (common effect; FE accepted), DL (DerSimonian & Laird 1986), REML, ML, PM (Paule &
    Mandel 1982), HE (Hedges), SJ (Sidik & Jonkman 2005), EB (empirical Bayes), HS (Hunter-Schmidt).
    ``test``: ``z`` (normal) or ``knha`` (Hartung-Knapp-Sidik-Jonkman, t on k-1 df). ``level`` in percent.
    With k = 1, tau^2 is 0 and the test falls back to z, as metafor does.
    """
    method = normalise_method(method)
    test = normalise_test(test)
    lv = level_fraction(level)
    y, v = check_inputs(yi, vi)
    return fit(y, v, method, test, lv)


def fit(y: np.ndarray, v: np.ndarray, method: str, test: str, lv: float) -> PoolResult:
    """Pool already validated arrays (``method``/``test`` canonical, ``lv`` a fraction)."""
    k = y.shape[0]
    notes: list[str] = []
    tau_fit = estimate_tau2(y, v, method)
    if tau_fit.message:
        notes.append(tau_fit.message)
    if not tau_fit.converged:
        warnings.warn(f"{method}: {tau_fit.message}", ConvergenceWarning, stacklevel=3)
        notes.append("tau^2 set to 0 (common-effect weights) because the estimator did not converge")
    tau2 = float(tau_fit.tau2) if tau_fit.converged else 0.0
    if k == 1 and test == "knha":
        test = "z"
        notes.append("k = 1: Knapp-Hartung needs k >= 2, used the z test")
    w = 1.0 / (v + tau2)
    sw = w.sum()
    sw = float(sw)
    est = float(w @ y) / sw
    var = 1.0 / sw
    df: int | None = None
    if test == "knha":
        rss = float(w @ (y - est) ** 2)
        var *= rss / (k - 1) if rss > np.finfo(float).eps else 0.0
        df = k - 1
        crit = t_crit(lv, df)
    else:
        crit = z_crit(lv)
    se = math.sqrt(var)
    if se > 0:
        stat = est / se
        # erfc is exact for the normal tail and ~20x cheaper than scipy.stats.norm.sf
        pvalue = math.erfc(abs(stat) / math.sqrt(2.0)) if df is None else float(2 * stdtr(df, -abs(stat)))
    else:
        stat = 0.0 if est == 0 else math.copysign(math.inf, est)
        pvalue = 1.0 if est == 0 else 0.0
        notes.append("all effects identical: Knapp-Hartung standard error is 0")
    half = crit * se
    pi_half = crit * math.sqrt(var + tau2)
    q, q_p, i2, h2, vt = heterogeneity(y, v, tau2, method == "EE")
    return PoolResult(
        k=k,
        estimate=est,
        se=se,
        ci_low=est - half,
        ci_high=est + half,
        stat=stat,
        pvalue=pvalue,
        df=df,
        tau2=tau2,
        i2=i2,
        h2=h2,
        q=q,
        q_df=k - 1,
        q_pvalue=q_p,
        pi_low=est - pi_half,
        pi_high=est + pi_half,
        weights=w * (100.0 / sw),
        converged=tau_fit.converged,
        method=method,
        test=test,
        level=lv * 100,
        vt=vt,
        iterations=tau_fit.iterations,
        message="; ".join(notes),
    )


def heterogeneity(
    y: np.ndarray, v: np.ndarray, tau2: float, common: bool
) -> tuple[float, float, float, float, float]:
    """Cochran's Q, its p-value, I^2 (percent), H^2 and the typical within-study variance (metafor)."""
    k = y.shape[0]
    if k == 1:
        return 0.0, 1.0, 0.0, 1.0, 0.0
    w = 1.0 / v
    sw = w.sum()
    mu = (w @ y) / sw
    q = max(0.0, float(w @ (y - mu) ** 2))
    q_p = float(chdtrc(k - 1, q))
    vt = float((k - 1) / (sw - (w @ w) / sw))
    if common:
        i2 = min(100.0, max(0.0, 100.0 * (q - (k - 1)) / q)) if q > 0 else 0.0
        h2 = q / (k - 1)
    else:
        i2 = 100.0 * (tau2 / (vt + tau2))  # this order keeps I^2 <= 100 under rounding
        h2 = tau2 / vt + 1.0
    return q, q_p, i2, h2, vt
