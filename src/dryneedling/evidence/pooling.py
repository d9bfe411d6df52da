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

import numpy as np

from dryneedling.errors import InputError
from dryneedling.evidence._estimators import (
    K1_KNHA,
    NOT_CONVERGED,
    SE_ZERO,
    Groups,
    One,
    estimate_tau2,
    fixed_q,
    join_notes,
    t_crit,  # noqa: F401 - part of this module's interface
    z_crit,
)
from dryneedling.evidence._validate import as_vector, level_fraction, positive
from dryneedling.evidence.names import METHODS, TESTS

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


def validated(yi: object, vi: object, method: str, test: str, level: float):
    """``(method, test, level as a fraction, yi, vi)`` canonical and checked, or InputError naming the field."""
    return normalise_method(method), normalise_test(test), level_fraction(level), *check_inputs(yi, vi)


def pool(yi: object, vi: object, method: str = "REML", test: str = "z", level: float = 95) -> PoolResult:
    """Pool ``yi`` (effect sizes) with sampling variances ``vi``.

    ``method``: EE (common effect; FE accepted), DL (DerSimonian & Laird 1986), REML, ML, PM (Paule &
    Mandel 1982), HE (Hedges), SJ (Sidik & Jonkman 2005), EB (empirical Bayes), HS (Hunter-Schmidt).
    ``test``: ``z`` (normal) or ``knha`` (Hartung-Knapp-Sidik-Jonkman, t on k-1 df). ``level`` in percent.
    With k = 1, tau^2 is 0 and the test falls back to z, as metafor does.
    """
    method, test, lv, y, v = validated(yi, vi, method, test, level)
    return fit(y, v, method, test, lv)


def fit(y: np.ndarray, v: np.ndarray, method: str, test: str, lv: float) -> PoolResult:
    """Pool already validated arrays (``method``/``test`` canonical, ``lv`` a fraction)."""
    grp = One(y, v)
    tau_fit = estimate_tau2(grp, method)
    if not tau_fit.converged:
        warn_not_converged(f"{method}: {tau_fit.message}", stacklevel=4)
    tau2 = float(tau_fit.tau2) if tau_fit.converged else 0.0
    stats, weights, t_test, se_positive = summarise(grp, tau2, method, test, lv)
    fell_back = test == "knha" and not t_test
    return PoolResult(
        **stats,
        k=grp.k,
        q_df=grp.k - 1,
        weights=weights,
        df=grp.k - 1 if t_test else None,
        converged=tau_fit.converged,
        method=method,
        test="z" if fell_back else test,
        level=lv * 100,
        iterations=tau_fit.iterations,
        message=join_notes(
            tau_fit.message,
            "" if tau_fit.converged else NOT_CONVERGED,
            K1_KNHA if fell_back else "",
            "" if se_positive else SE_ZERO,
        )
        if tau_fit.message or fell_back or not (tau_fit.converged and se_positive)
        else "",
    )


def warn_not_converged(text: str, stacklevel: int) -> None:
    """Warn that an iterative estimator did not converge (its fits then use tau^2 = 0)."""
    warnings.warn(text, ConvergenceWarning, stacklevel=stacklevel)


def summarise(grp: Groups, tau2, method: str, test: str, lv: float):
    """Estimate, test, heterogeneity and prediction interval of every group at its ``tau2``.

    Returns the statistics by :class:`PoolResult` field name (floats for :class:`One`, one array entry
    per group for :class:`Segments`), the weights in percent (one per study), whether each group used
    the t test (Knapp-Hartung needs k >= 2) and whether its standard error is positive.
    """
    y, v, multi, km1, where = grp.y, grp.v, grp.multi, grp.km1, grp.where
    w = 1.0 / (v + grp.expand(tau2))
    sw = grp.sum(w)
    est = grp.dot(w, y) / sw
    var = 1.0 / sw
    crit = z_crit(lv)
    t_test = False
    if test == "knha":
        r = y - grp.expand(est)
        rss = grp.dot(w, r * r)
        var = where(multi, var * where(rss > _EPS, rss / km1, 0.0), var)
        crit = where(multi, grp.t_crit(lv), crit)
        t_test = multi
    se = grp.sqrt(var)
    nonzero = se > 0
    stat = est / where(nonzero, se, 1.0)
    pvalue = grp.erfc(abs(stat) / _SQRT2)
    if test == "knha":
        pvalue = where(multi, grp.t_sf2(abs(stat)), pvalue)
    if not grp.all(nonzero):  # identical effects make the Knapp-Hartung scale, and so the standard error, 0
        stat = where(nonzero, stat, where(est == 0, 0.0, grp.copysign(math.inf, est)))
        pvalue = where(nonzero, pvalue, where(est == 0, 1.0, 0.0))
    half = crit * se
    pi_half = crit * grp.sqrt(var + tau2)
    # heterogeneity with w = 1/v, as metafor
    q, sw_fe, sw2_fe = fixed_q(grp)
    q = where(multi, grp.maximum(0.0, q), 0.0)
    # typical within-study variance; 1 (not 0) for k = 1 until reported, to keep the ratios below finite
    vt = km1 / where(multi, sw_fe - sw2_fe / sw_fe, 1.0)
    if method == "EE":
        i2 = where(multi & (q > 0), grp.clip(100.0 * (q - km1) / where(q > 0, q, 1.0), 0.0, 100.0), 0.0)
        h2 = where(multi, q / km1, 1.0)
    else:
        # tau^2 is 0 when k = 1, so these give I^2 = 0 and H^2 = 1 there; this order keeps I^2 <= 100
        i2 = 100.0 * (tau2 / (vt + tau2))
        h2 = tau2 / vt + 1.0
    stats = {
        "estimate": est,
        "se": se,
        "ci_low": est - half,
        "ci_high": est + half,
        "stat": stat,
        "pvalue": pvalue,
        "tau2": tau2,
        "i2": i2,
        "h2": h2,
        "q": q,
        "q_pvalue": where(multi, grp.chi2_sf(q), 1.0),
        "pi_low": est - pi_half,
        "pi_high": est + pi_half,
        "vt": where(multi, vt, 0.0),
    }
    return stats, w * (100.0 / grp.expand(sw)), t_test, nonzero


_EPS = float(np.finfo(float).eps)
_SQRT2 = math.sqrt(2.0)
