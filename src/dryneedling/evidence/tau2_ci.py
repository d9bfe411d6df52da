"""Confidence intervals for the between-study variance tau^2 (and tau, I^2, H^2), as metafor's ``confint()``.

- ``type="QP"``, Q-profile (Viechtbauer 2007, Stat Med 26:37-52): the bounds solve
  ``Q(tau^2) = chi^2_{k-1; 1-alpha/2}`` (lower) and ``Q(tau^2) = chi^2_{k-1; alpha/2}`` (upper), with the
  generalised ``Q(tau^2) = sum w (y - mu_w)^2``, ``w = 1/(v + tau^2)``; a bound whose equation has no
  non-negative root is 0.
- ``type="PL"``, profile likelihood (Hardy & Thompson 1996): the bounds solve
  ``2 (l(tau^2_hat) - l(tau^2)) = chi^2_{1; 1-alpha}`` on the (restricted) log-likelihood of the ML or REML fit.

I^2 and H^2 bounds are the tau^2 bounds mapped through ``I^2 = tau^2/(tau^2 + v~)`` and
``H^2 = (tau^2 + v~)/v~`` with metafor's typical within-study variance ``v~``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import chdtri

from dryneedling.errors import InputError
from dryneedling.evidence._estimators import generalised_q, loglik
from dryneedling.evidence._validate import choice, level_fraction
from dryneedling.evidence.pooling import check_inputs, fit, normalise_method

CI_TYPES: tuple[str, ...] = ("QP", "PL")


@dataclass(slots=True)
class Tau2Interval:
    """Estimate and confidence bounds for tau^2, tau, I^2 (percent) and H^2."""

    method: str
    type: str
    level: float
    tau2: float
    tau2_low: float
    tau2_high: float
    tau: float
    tau_low: float
    tau_high: float
    i2: float
    i2_low: float
    i2_high: float
    h2: float
    h2_low: float
    h2_high: float
    message: str = ""


def tau2_ci(
    yi: object, vi: object, method: str = "REML", type: str = "QP", level: float = 95
) -> Tau2Interval:
    """Confidence interval for tau^2 of the random-effects model fitted with ``method``.

    ``type``: ``QP`` (Q-profile; any random-effects method) or ``PL`` (profile likelihood; ML or REML).
    Needs k >= 2.
    """
    method = normalise_method(method)
    ci_type = choice("type", type, CI_TYPES)
    lv = level_fraction(level)
    y, v = check_inputs(yi, vi)
    if method == "EE":
        raise InputError("method", "a common-effect (EE) model has no tau^2 to bound", value=method)
    if y.shape[0] < 2:
        raise InputError("yi", "a confidence interval for tau^2 needs at least 2 studies")
    if ci_type == "PL" and method not in ("ML", "REML"):
        raise InputError(
            "method",
            "profile-likelihood intervals need a likelihood fit",
            value=method,
            choices=("ML", "REML"),
        )
    res = fit(y, v, method, "z", lv)
    if ci_type == "QP":
        low, high, note = _q_profile(y, v, lv)
    else:
        low, high, note = _profile_likelihood(y, v, res.tau2, method == "REML", lv)
    vt = res.vt
    return Tau2Interval(
        method=method,
        type=ci_type,
        level=lv * 100,
        tau2=res.tau2,
        tau2_low=low,
        tau2_high=high,
        tau=math.sqrt(res.tau2),
        tau_low=math.sqrt(low),
        tau_high=math.sqrt(high),
        i2=res.i2,
        i2_low=100 * low / (vt + low),
        i2_high=100 * high / (vt + high),
        h2=res.h2,
        h2_low=low / vt + 1,
        h2_high=high / vt + 1,
        message=note,
    )


def _xtol(v: np.ndarray) -> float:
    return 1e-13 * max(1.0, float(np.mean(v)))


def _root_above(func, start: float, scale: float, xtol: float) -> float:
    """Root of a function positive at ``start`` and negative far above it (upper end grown geometrically)."""
    upper = max(start * 2, start + scale, 1e-8)
    for _ in range(400):
        if func(upper) < 0:
            return float(brentq(func, start, upper, xtol=xtol, rtol=1e-15, maxiter=500))
        start, upper = upper, upper * 4
    raise InputError(
        "yi", "tau^2 bound is not finite for these data"
    )  # pragma: no cover - Q(t) -> 0 as t grows


def _q_profile(y: np.ndarray, v: np.ndarray, lv: float) -> tuple[float, float, str]:
    k = y.shape[0]
    alpha = 1 - lv
    crit_upper = float(chdtri(k - 1, alpha / 2))  # chi^2 quantile 1 - alpha/2
    crit_lower = float(chdtri(k - 1, 1 - alpha / 2))  # chi^2 quantile alpha/2
    q0 = generalised_q(y, v, 0.0)
    scale = float(np.var(y)) + float(np.mean(v))
    xtol = _xtol(v)
    if q0 < crit_lower:
        return 0.0, 0.0, "Q(0) is below the lower critical value: both bounds are 0"
    high = _root_above(lambda t: generalised_q(y, v, t) - crit_lower, 0.0, scale, xtol)
    if q0 < crit_upper:
        return 0.0, high, ""
    low = float(
        brentq(lambda t: generalised_q(y, v, t) - crit_upper, 0.0, high, xtol=xtol, rtol=1e-15, maxiter=500)
    )
    return low, high, ""


def _profile_likelihood(
    y: np.ndarray, v: np.ndarray, tau2: float, reml: bool, lv: float
) -> tuple[float, float, str]:
    crit = float(chdtri(1, 1 - lv))  # chi^2_1 quantile at the confidence level
    ll_max = loglik(y, v, tau2, reml)

    def excess(t: float) -> float:
        # positive inside the interval, negative outside
        return crit - 2 * (ll_max - loglik(y, v, t, reml))

    xtol = _xtol(v)
    scale = float(np.var(y)) + float(np.mean(v))
    high = _root_above(excess, tau2, scale, xtol)
    if tau2 == 0.0 or excess(0.0) >= 0:
        return 0.0, high, ""
    low = float(brentq(excess, 0.0, tau2, xtol=xtol, rtol=1e-15, maxiter=500))
    return low, high, ""
