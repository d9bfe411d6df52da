"""Small-study effects and publication bias: Egger's regression test, Begg's rank test, trim-and-fill.

All three follow R's metafor 3.8 (``regtest``, ``ranktest``, ``trimfill``):

- :func:`egger_test` regresses the effects on their standard errors. ``model="rma"`` (metafor's default)
  fits the mixed-effects meta-regression ``y_i = b0 + b1 se_i`` with the same tau^2 estimator and test as
  the main analysis; ``model="lm"`` is Egger's classic weighted linear regression (weights ``1/v_i``, a
  multiplicative residual variance, t on k - 2 df). The slope tests funnel asymmetry; the intercept is the
  "limit estimate", the effect expected in an infinitely large study.
- :func:`rank_test` is Begg and Mazumdar's Kendall correlation between standardised deviates from the
  fixed-effect estimate and the sampling variances (exact p-value when there are no ties, as R's cor.test).
- :func:`trim_and_fill` is Duval and Tweedie's method with the L0 or R0 estimator of the number of missing
  studies. When ``side`` is not given it is chosen as metafor does: from the sign of the slope of the
  regression of the effects on their standard errors (a negative slope means studies are missing on the
  right). Iterations and the final fit use :func:`~dryneedling.evidence.pooling.pool` with the given method
  and a z test (metafor's trimfill refits without the original model's test).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from dryneedling.errors import InputError
from dryneedling.evidence.meta_regression import meta_regression
from dryneedling.evidence.pooling import PoolResult, check_inputs, normalise_method, pool

EGGER_MODELS = ("rma", "lm")
ESTIMATORS = ("L0", "R0")
SIDES = ("left", "right")
MIN_STUDIES = 3


@dataclass(frozen=True)
class EggerResult:
    """Regression test for funnel plot asymmetry (slope on the standard error) and the limit estimate."""

    model: str  # "rma" (mixed-effects meta-regression) or "lm" (classic weighted regression)
    method: str | None  # tau^2 estimator for model="rma"
    k: int
    slope: float
    stat: float  # z, or t when df is set
    pvalue: float
    df: int | None
    limit_estimate: float  # intercept: the effect as the standard error goes to 0
    limit_ci_low: float
    limit_ci_high: float
    level: float


@dataclass(frozen=True)
class RankTestResult:
    """Begg and Mazumdar's rank correlation test."""

    k: int
    tau: float  # Kendall's tau (tau-b when there are ties)
    pvalue: float
    exact: bool


@dataclass(frozen=True)
class TrimFillResult:
    """Duval and Tweedie's trim-and-fill: the imputed studies and the analysis including them."""

    k0: int  # number of studies filled in
    se_k0: float
    side: str  # side of the funnel on which studies were judged missing
    estimator: str
    filled_yi: np.ndarray
    filled_vi: np.ndarray
    result: PoolResult  # pooled over observed + filled studies
    p_k0: float | None  # R0 only: probability of k0 or more under no asymmetry


def _vectors(yi, vi, minimum: int = MIN_STUDIES) -> tuple[np.ndarray, np.ndarray]:
    y, v = check_inputs(yi, vi)
    if y.size < minimum:
        raise InputError("yi", f"needs at least {minimum} studies (got {y.size})")
    return y, v


def _regression_method(method: str) -> str:
    return "EE" if normalise_method(method) == "EE" else normalise_method(method)


def egger_test(
    yi, vi, model: str = "rma", method: str = "REML", test: str = "z", level: float = 95
) -> EggerResult:
    """Egger's regression test with the standard error as predictor (metafor ``regtest``)."""
    if model not in EGGER_MODELS:
        raise InputError.unknown("model", model, EGGER_MODELS)
    y, v = _vectors(yi, vi)
    sei = np.sqrt(v)
    if model == "rma":
        fit = meta_regression(y, v, sei, method=_regression_method(method), test=test, level=level)
        return EggerResult(
            model="rma",
            method=fit.method,
            k=fit.k,
            slope=float(fit.coef[1]),
            stat=float(fit.stat[1]),
            pvalue=float(fit.pvalue[1]),
            df=fit.df,
            limit_estimate=float(fit.coef[0]),
            limit_ci_low=float(fit.ci_low[0]),
            limit_ci_high=float(fit.ci_high[0]),
            level=fit.level,
        )
    x = np.column_stack([np.ones(y.size), sei])
    w = 1 / v
    xtwx_inv = np.linalg.inv(x.T @ (x * w[:, None]))
    coef = xtwx_inv @ (x.T @ (w * y))
    df = y.size - 2
    sigma2 = float(np.sum(w * (y - x @ coef) ** 2) / df)
    se = np.sqrt(np.diag(xtwx_inv) * sigma2)
    stat = float(coef[1] / se[1])
    crit = stats.t.isf((1 - level / 100) / 2, df)
    return EggerResult(
        model="lm",
        method=None,
        k=int(y.size),
        slope=float(coef[1]),
        stat=stat,
        pvalue=float(2 * stats.t.sf(abs(stat), df)),
        df=df,
        limit_estimate=float(coef[0]),
        limit_ci_low=float(coef[0] - crit * se[0]),
        limit_ci_high=float(coef[0] + crit * se[0]),
        level=float(level),
    )


def rank_test(yi, vi) -> RankTestResult:
    """Begg and Mazumdar's rank correlation test (metafor ``ranktest``)."""
    y, v = _vectors(yi, vi)
    w = 1 / v
    theta = float(np.sum(w * y) / np.sum(w))
    standardised = (y - theta) / np.sqrt(v - 1 / np.sum(w))
    ties = len(np.unique(standardised)) < y.size or len(np.unique(v)) < v.size
    exact = not ties
    result = stats.kendalltau(standardised, v, method="exact" if exact else "asymptotic")
    return RankTestResult(
        k=int(y.size), tau=float(result.statistic), pvalue=float(result.pvalue), exact=exact
    )


def trim_and_fill(
    yi,
    vi,
    method: str = "REML",
    estimator: str = "L0",
    side: str | None = None,
    level: float = 95,
    maxiter: int = 100,
) -> TrimFillResult:
    """Duval and Tweedie's trim-and-fill (metafor ``trimfill``), returning the filled-in studies and refit."""
    estimator = str(estimator).upper()
    if estimator not in ESTIMATORS:
        raise InputError.unknown("estimator", estimator, ESTIMATORS)
    if side is not None and side not in SIDES:
        raise InputError.unknown("side", side, SIDES)
    method = normalise_method(method)
    y_obs, v_obs = _vectors(yi, vi)
    if side is None:
        slope = meta_regression(y_obs, v_obs, np.sqrt(v_obs), method=_regression_method(method)).coef[1]
        side = "right" if slope < 0 else "left"
    sign = -1.0 if side == "right" else 1.0
    order = np.argsort(sign * y_obs, kind="stable")
    y = sign * y_obs[order]
    v = v_obs[order]
    k = y.size

    k0, previous, iteration = 0, -1, 0
    beta, se_k0, centred = 0.0, 0.0, y
    while k0 != previous:
        previous = k0
        iteration += 1
        if iteration > maxiter:
            raise InputError("maxiter", f"trim-and-fill did not settle within {maxiter} iterations")
        beta = pool(y[: k - k0], v[: k - k0], method=method).estimate
        centred = y - beta
        ranks = stats.rankdata(np.abs(centred), method="ordinal")
        signed = np.sign(centred) * ranks
        if estimator == "R0":
            negative = -signed[signed < 0]
            k0_raw = (k - (negative.max() if negative.size else 0)) - 1
            se_k0 = math.sqrt(2 * max(0.0, k0_raw) + 2)
        else:
            sr = float(signed[signed > 0].sum())
            k0_raw = (4 * sr - k * (k + 1)) / (2 * k - 1)
            var_sr = (
                k * (k + 1) * (2 * k + 1)
                + 10 * k0_raw**3
                + 27 * k0_raw**2
                + 17 * k0_raw
                - 18 * k * k0_raw**2
                - 18 * k * k0_raw
                + 6 * k**2 * k0_raw
            ) / 24
            se_k0 = 4 * math.sqrt(var_sr) / (2 * k - 1) if var_sr > 0 else 0.0
        k0 = max(0, int(_round_half_even(k0_raw)))
        se_k0 = max(0.0, se_k0)

    if k0 > 0:
        # Mirror the k0 most extreme studies about the trimmed estimate, back on the original scale.
        mirrored = 2 * beta - y[k - k0 :]
        filled_yi = sign * mirrored
        filled_vi = v[k - k0 :].copy()
        result = pool(
            np.concatenate([y_obs, filled_yi]), np.concatenate([v_obs, filled_vi]), method=method, level=level
        )
    else:
        filled_yi = np.empty(0)
        filled_vi = np.empty(0)
        result = pool(y_obs, v_obs, method=method, level=level)
    p_k0 = None
    if estimator == "R0":
        m = np.arange(-1, k0)
        p_k0 = float(1 - np.sum([math.comb(int(j) + 1, int(j) + 1) * 0.5 ** (j + 2) for j in m]))
    return TrimFillResult(
        k0=k0,
        se_k0=se_k0,
        side=side,
        estimator=estimator,
        filled_yi=filled_yi,
        filled_vi=filled_vi,
        result=result,
        p_k0=p_k0,
    )


def _round_half_even(value: float) -> float:
    """R's round(): halves go to the even integer (IEC 60559), as Python's round() does."""
    return float(round(value))
