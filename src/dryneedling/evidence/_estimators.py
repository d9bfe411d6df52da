"""Between-study variance (tau^2) estimators for one random-effects meta-analysis.

Closed forms follow metafor's ``rma.uni`` for the intercept-only model (Viechtbauer 2005, 2010):
DerSimonian-Laird (1986), Hedges (HE), Hunter-Schmidt (HS) and Sidik-Jonkman (2005, SJ). The iterative
estimators solve their estimating equations with a safeguarded Newton method instead of metafor's plain
Fisher scoring, so that they converge on every dataset whose optimum exists:

- REML and ML: root of the (restricted) likelihood score on [0, inf), Newton steps with the observed
  information (Fisher information when the observed one is not positive), kept inside a sign-change bracket
  (bisection when a step leaves it), plus ``brentq`` as a last resort. A boundary optimum tau^2 = 0 is
  accepted when the score at 0 is <= 0 (Karush-Kuhn-Tucker condition). Like metafor's ``ll0check``, an
  interior solution is compared with tau^2 = 0 and the higher likelihood wins.
- PM (Paule-Mandel 1982) and EB (Morris 1983; identical estimating equation in the intercept-only model,
  Viechtbauer et al. 2015): root of the generalised Q statistic ``Q(tau^2) = k - 1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

ITERATIVE = ("REML", "ML", "PM", "EB")
MAXITER = 200


@dataclass(slots=True)
class Tau2Fit:
    """A tau^2 estimate and how it was reached."""

    tau2: float
    converged: bool = True
    iterations: int = 0
    message: str = ""


def tolerance(vi: np.ndarray) -> float:
    """Absolute stopping tolerance on tau^2, scaled to the data (1e-11 x the typical variance, <= 1e-10)."""
    return min(1e-10, 1e-11 * float(vi.sum()) / vi.shape[0])


def dl(yi: np.ndarray, vi: np.ndarray) -> float:
    """DerSimonian-Laird: ``max(0, (Q - (k-1)) / (sum w - sum w^2 / sum w))`` with ``w = 1/v``."""
    w = 1.0 / vi
    sw = w.sum()
    mu = (w @ yi) / sw
    q = w @ (yi - mu) ** 2
    c = sw - (w @ w) / sw
    return max(0.0, (q - (yi.shape[0] - 1)) / c) if c > 0 else 0.0


def he(yi: np.ndarray, vi: np.ndarray) -> float:
    """Hedges (variance component) estimator: ``max(0, sum (y - ybar)^2/(k-1) - mean(v))``."""
    k = yi.shape[0]
    rss = ((yi - yi.sum() / k) ** 2).sum()
    return max(0.0, (rss - vi.sum() * (k - 1) / k) / (k - 1))


def hs(yi: np.ndarray, vi: np.ndarray) -> float:
    """Hunter-Schmidt as in metafor: ``max(0, (Q - k) / sum w)`` with ``w = 1/v``."""
    w = 1.0 / vi
    sw = w.sum()
    mu = (w @ yi) / sw
    q = w @ (yi - mu) ** 2
    return max(0.0, (q - yi.shape[0]) / sw)


def sj(yi: np.ndarray, vi: np.ndarray) -> float:
    """Sidik-Jonkman: ``t0 = sum (y - ybar)^2 / k``, then ``t0 * Q_{1/(v+t0)} / (k - 1)``."""
    k = yi.shape[0]
    t0 = ((yi - yi.sum() / k) ** 2).sum() / k
    if t0 <= 0 or yi.max() == yi.min():  # identical effects: avoid a rounding-level t0
        return 0.0
    w = 1.0 / (vi + t0)
    mu = (w @ yi) / w.sum()
    return float(t0 * (w @ (yi - mu) ** 2) / (k - 1))


def generalised_q(yi: np.ndarray, vi: np.ndarray, tau2: float) -> float:
    """``Q(tau^2) = sum w (y - mu_w)^2`` with ``w = 1/(v + tau^2)`` (decreasing in tau^2)."""
    w = 1.0 / (vi + tau2)
    mu = (w @ yi) / w.sum()
    return float(w @ (yi - mu) ** 2)


def loglik(yi: np.ndarray, vi: np.ndarray, tau2: float, reml: bool) -> float:
    """(Restricted) log-likelihood of the random-effects model with ``mu`` profiled out."""
    k = yi.shape[0]
    w = 1.0 / (vi + tau2)
    sw = w.sum()
    mu = (w @ yi) / sw
    rss = w @ (yi - mu) ** 2
    ll = -0.5 * (np.log(vi + tau2).sum() + rss)
    if reml:
        return float(ll - 0.5 * ((k - 1) * math.log(2 * math.pi) + math.log(sw)))
    return float(ll - 0.5 * k * math.log(2 * math.pi))


_POWERS = np.array([1.0, 2.0, 3.0])
_MOMENTS = np.array([0.0, 1.0, 2.0])


class Score:
    """Estimating function g(tau^2) (decreasing through its root) with Newton and Fisher slopes -g'.

    REML: ``g = (y'PPy - tr P)/2``; ML: ``g = (sum w^2 r^2 - sum w)/2``; PM/EB: ``g = Q(tau^2) - (k - 1)``,
    with ``P = W - W 1 1' W / sum w`` and ``r = y - mu_w``. All sums come from one 3x3 matrix of weighted
    moments ``sum w^a y^b`` (a = 1..3, b = 0..2) of the centred effects, one matrix product per evaluation:
    this keeps a fit to a few numpy calls per iteration (the centring keeps the moment expansion accurate).
    """

    __slots__ = ("k", "method", "ypow", "vi")

    def __init__(self, yi: np.ndarray, vi: np.ndarray, method: str) -> None:
        self.ypow = np.power.outer(yi - yi.sum() / yi.shape[0], _MOMENTS)
        self.vi = vi
        self.k = yi.shape[0]
        self.method = method

    def moments(self, tau2: float) -> list[list[float]]:
        """``[[sum w^a y^b for b in 0..2] for a in 1..3]`` with ``w = 1/(v + tau^2)`` and centred ``y``."""
        w = 1.0 / (self.vi + tau2)
        return (np.power.outer(w, _POWERS).T @ self.ypow).tolist()

    def __call__(self, tau2: float) -> tuple[float, float, float]:
        return self.evaluate(self.moments(tau2))

    def evaluate(self, moments: list[list[float]]) -> tuple[float, float, float]:
        """(g, Newton slope, Fisher slope) from :meth:`moments`."""
        (sw, swy, swyy), (sw2, sw2y, sw2yy), (sw3, sw3y, sw3yy) = moments
        mu = swy / sw
        w2r2 = sw2yy - 2 * mu * sw2y + mu * mu * sw2
        if self.method == "PM" or self.method == "EB":
            return swyy - mu * swy - (self.k - 1), w2r2, w2r2
        w2r = sw2y - mu * sw2
        w3r2 = sw3yy - 2 * mu * sw3y + mu * mu * sw3
        if self.method == "ML":
            return 0.5 * (w2r2 - sw), w3r2 - w2r * w2r / sw - 0.5 * sw2, 0.5 * sw2
        tr_p = sw - sw2 / sw
        tr_pp = sw2 - 2 * sw3 / sw + (sw2 / sw) ** 2
        return 0.5 * (w2r2 - tr_p), w3r2 - w2r * w2r / sw - 0.5 * tr_pp, 0.5 * tr_pp

    def at_zero(self) -> tuple[float, float]:
        """g(0) and the DerSimonian-Laird estimate (the starting value), from the same moments."""
        moments = self.moments(0.0)
        (sw, swy, swyy), (sw2, _, _), _ = moments
        q = swyy - swy * swy / sw
        c = sw - sw2 / sw
        start = max(0.0, (q - (self.k - 1)) / c) if c > 0 else 0.0
        return self.evaluate(moments)[0], start


def _score(yi: np.ndarray, vi: np.ndarray, tau2: float, method: str) -> tuple[float, float, float]:
    """One-off evaluation of :class:`Score` (for diagnostics and tests)."""
    return Score(yi, vi, method)(tau2)


def solve_iterative(yi: np.ndarray, vi: np.ndarray, method: str, start: float | None = None) -> Tau2Fit:
    """Safeguarded Newton for REML, ML, PM or EB on [0, inf); see the module docstring."""
    if yi.shape[0] == 1:
        return Tau2Fit(0.0, True, 0, "k = 1: tau^2 fixed at 0")
    vbar = float(vi.sum()) / vi.shape[0]
    tol = min(1e-10, 1e-11 * vbar)
    score = Score(yi, vi, method)
    g0, dl_start = score.at_zero()
    t = dl_start if start is None else max(0.0, start)
    lo, hi = 0.0, math.inf
    lo_positive = g0 > 0
    if not lo_positive and t == 0.0:
        return Tau2Fit(0.0, True, 0, "")
    for it in range(1, MAXITER + 1):
        g, newton, fisher = score(t)
        if g > 0:
            lo, lo_positive = t, True
        elif t == 0.0:
            return Tau2Fit(0.0, True, it, "")
        else:
            hi = t
        slope = newton if newton > 0 else fisher
        if slope > 0:
            cand = t + g / slope
        elif g > 0:
            cand = 2 * t + tol
        else:
            cand = 0.5 * t
        if not lo_positive and cand <= 0:
            # score at 0 is <= 0 and the step leaves the feasible set: the boundary is the optimum
            return Tau2Fit(0.0, True, it, "")
        step = abs(cand - t)
        # Newton converges quadratically: after a step of size s the error is about s^2/(t + v), so a step
        # below 1e-7 (t + v) leaves an error far under the tolerance and needs no confirming iteration
        if step <= tol + 1e-14 * t or (slope == newton and step <= 1e-7 * (t + vbar)):
            return _check_boundary(yi, vi, method, Tau2Fit(max(cand, 0.0), True, it, ""), g0)
        if not lo < cand < hi:
            cand = 0.5 * (lo + hi) if math.isfinite(hi) else max(2 * t, t + tol)
        if lo_positive and math.isfinite(hi) and hi - lo <= tol + 1e-14 * hi:
            return _check_boundary(yi, vi, method, Tau2Fit(cand, True, it, ""), g0)
        t = cand
    return _bracket_fallback(yi, vi, method, score, g0, tol)


def _check_boundary(yi: np.ndarray, vi: np.ndarray, method: str, fit: Tau2Fit, g0: float) -> Tau2Fit:
    """If tau^2 = 0 is itself a (boundary) maximum, keep the higher of the two likelihoods."""
    if method in ("REML", "ML") and fit.tau2 > 0 and g0 <= 0:
        reml = method == "REML"
        if loglik(yi, vi, 0.0, reml) > loglik(yi, vi, fit.tau2, reml):
            fit.tau2 = 0.0
            fit.message = "tau^2 = 0 has a higher likelihood than the interior stationary point"
    return fit


def _bracket_fallback(
    yi: np.ndarray, vi: np.ndarray, method: str, score: Score, g0: float, tol: float
) -> Tau2Fit:
    """Last resort: brentq on the estimating function over [0, upper] (upper doubled until g < 0)."""
    if g0 <= 0:
        return Tau2Fit(
            0.0, True, MAXITER, "Newton did not settle; boundary tau^2 = 0 satisfies the score condition"
        )
    upper = max(1.0, 10 * float(np.var(yi)))
    for _ in range(200):
        if score(upper)[0] < 0:
            break
        upper *= 4
    else:
        return Tau2Fit(
            math.nan, False, MAXITER, "no sign change of the score found: tau^2 has no finite optimum"
        )
    try:
        root, info = brentq(lambda t: score(t)[0], 0.0, upper, xtol=tol, rtol=1e-15, full_output=True)
    except (ValueError, RuntimeError) as exc:  # pragma: no cover - brentq on a verified bracket
        return Tau2Fit(math.nan, False, MAXITER, f"bracketing root search failed: {exc}")
    return _check_boundary(
        yi, vi, method, Tau2Fit(float(root), bool(info.converged), MAXITER + info.iterations, ""), g0
    )


def estimate_tau2(yi: np.ndarray, vi: np.ndarray, method: str) -> Tau2Fit:
    """Dispatch to the estimator named by ``method`` (EE returns 0)."""
    if method == "EE":
        return Tau2Fit(0.0)
    if yi.shape[0] == 1:
        return Tau2Fit(0.0, True, 0, "k = 1: tau^2 fixed at 0")
    if method == "DL":
        return Tau2Fit(dl(yi, vi))
    if method == "HE":
        return Tau2Fit(he(yi, vi))
    if method == "HS":
        return Tau2Fit(hs(yi, vi))
    if method == "SJ":
        return Tau2Fit(sj(yi, vi))
    return solve_iterative(yi, vi, method)
