"""Between-study variance (tau^2) estimators for one random-effects meta-analysis.

Closed forms follow metafor's ``rma.uni`` for the intercept-only model (Viechtbauer 2005, 2010):
DerSimonian-Laird (1986), Hedges (HE), Hunter-Schmidt (HS) and Sidik-Jonkman (2005, SJ). The iterative
estimators solve their estimating equations with a safeguarded Newton method instead of metafor's plain
Fisher scoring, so that they converge on every dataset whose optimum exists:

- REML and ML: if the score at tau^2 = 0 is positive, an interior maximum exists and Newton steps with the
  observed information (Fisher information when the observed one is not positive) find it, kept inside a
  sign-change bracket (bisection when a step leaves it; ``brentq`` as a last resort). If the score at 0 is
  <= 0, tau^2 = 0 is a boundary maximum (Karush-Kuhn-Tucker condition) - but the likelihood can be bimodal,
  so the score is scanned on a wide geometric grid and any interior maximum with a higher likelihood wins.
  (metafor's Fisher scoring with ``ll0check`` can stop at the lower of two maxima; see tests.)
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


# Geometric grid (relative to the data's scale, steps of about x2) on which the score is scanned when
# tau^2 = 0 is a boundary maximum: a positive score on it reveals a second, interior maximum. Above ~the
# spread of the effects the score cannot be positive (sum w^2 r^2 < sum w), so the grid stops at 100x.
SCAN_GRID = np.geomspace(1e-6, 1e2, 28)


def scan_scale(yi: np.ndarray, vbar: float) -> float:
    """Scale of the scan grid: the larger of the mean sampling variance and the spread of the effects."""
    k = yi.shape[0]
    return max(vbar, float(((yi - yi.sum() / k) ** 2).sum()) / k)


def solve_iterative(
    yi: np.ndarray,
    vi: np.ndarray,
    method: str,
    start: float | None = None,
    bracket: tuple[float, float] | None = None,
) -> Tau2Fit:
    """Global optimum of REML/ML, or the root of the PM/EB equation, on [0, inf); see the module docstring.

    ``bracket=(lo, hi)`` with g(lo) > 0 >= g(hi) restricts the search (used by the batch solver).
    """
    if yi.shape[0] == 1:
        return Tau2Fit(0.0, True, 0, "k = 1: tau^2 fixed at 0")
    vbar = float(vi.sum()) / vi.shape[0]
    tol = min(1e-10, 1e-11 * vbar)
    score = Score(yi, vi, method)
    if bracket is not None:
        lo, hi = bracket
        return newton_in_bracket(score, lo if start is None else start, lo, hi, tol, vbar)
    g0, dl_start = score.at_zero()
    if g0 > 0:
        # the estimating function is positive at 0 and negative for large tau^2: an interior root exists
        return newton_in_bracket(
            score, dl_start if start is None else max(0.0, start), 0.0, math.inf, tol, vbar
        )
    if method in ("PM", "EB"):
        return Tau2Fit(0.0, True, 0, "")  # Q(tau^2) is decreasing: Q(0) <= k - 1 means no positive root
    return _boundary_or_interior(yi, vi, method, score, vbar, tol)


def newton_in_bracket(score: Score, t: float, lo: float, hi: float, tol: float, vbar: float) -> Tau2Fit:
    """Newton steps kept inside (lo, hi), where g(lo) > 0 >= g(hi); bisection when a step leaves it."""
    for it in range(1, MAXITER + 1):
        g, newton, fisher = score(t)
        if g > 0:
            lo = t
        else:
            hi = t
        slope = newton if newton > 0 else fisher
        cand = t + g / slope if slope > 0 else (2 * t + tol if g > 0 else 0.5 * t)
        step = abs(cand - t)
        # Newton converges quadratically: after a step of size s the error is about s^2/(t + v), so a step
        # below 1e-7 (t + v) leaves an error far under the tolerance and needs no confirming iteration
        if step <= tol + 1e-14 * t or (slope == newton and step <= 1e-7 * (t + vbar)):
            return Tau2Fit(max(cand, 0.0), True, it, "")
        if not lo < cand < hi:
            cand = 0.5 * (lo + hi) if math.isfinite(hi) else max(2 * t, t + tol)
        if math.isfinite(hi) and hi - lo <= tol + 1e-14 * hi:
            return Tau2Fit(cand, True, it, "")
        t = cand
    return _brentq_fallback(score, lo, hi, tol)


def score_on_grid(score: Score, grid: np.ndarray) -> np.ndarray:
    """The estimating function g at every point of ``grid`` in one vectorised pass (REML or ML)."""
    w = 1.0 / (score.vi[:, None] + grid[None, :])
    w2 = w * w
    m1 = score.ypow.T @ w  # rows: sum w, sum w y, sum w y^2 (centred y)
    m2 = score.ypow.T @ w2
    sw, swy = m1[0], m1[1]
    sw2, sw2y, sw2yy = m2[0], m2[1], m2[2]
    mu = swy / sw
    w2r2 = sw2yy - 2 * mu * sw2y + mu * mu * sw2
    if score.method == "ML":
        return 0.5 * (w2r2 - sw)
    return 0.5 * (w2r2 - (sw - sw2 / sw))


def positive_brackets(grid: np.ndarray, g: np.ndarray) -> list[tuple[float, float]]:
    """Grid intervals where g changes from positive to non-positive (upper end inf if g ends positive)."""
    pos = g > 0
    out = [(float(grid[i]), float(grid[i + 1])) for i in np.flatnonzero(pos[:-1] & ~pos[1:])]
    if pos[-1]:
        out.append((float(grid[-1]), math.inf))
    return out


def _boundary_or_interior(
    yi: np.ndarray, vi: np.ndarray, method: str, score: Score, vbar: float, tol: float
) -> Tau2Fit:
    """g(0) <= 0: tau^2 = 0 is a local maximum; look for interior maxima and keep the highest likelihood.

    The likelihood of the random-effects model can be bimodal (a boundary maximum at 0 and an interior one);
    metafor's Fisher scoring plus ``ll0check`` may stop at either. Scanning the score on a wide geometric
    grid finds every interior maximum whose basin spans a grid step.
    """
    grid = scan_scale(yi, vbar) * SCAN_GRID
    brackets = positive_brackets(grid, score_on_grid(score, grid))
    best = Tau2Fit(0.0, True, 1, "")
    if not brackets:
        return best
    reml = method == "REML"
    best_ll = loglik(yi, vi, 0.0, reml)
    for lo, hi in brackets:
        fit = newton_in_bracket(score, lo, lo, hi, tol, vbar)
        fit.iterations += 1
        ll = loglik(yi, vi, fit.tau2, reml)
        if fit.converged and ll > best_ll:
            best, best_ll = fit, ll
            best.message = (
                "the likelihood also has a boundary maximum at tau^2 = 0; the interior one is higher"
            )
    return best


def _brentq_fallback(score: Score, lo: float, hi: float, tol: float) -> Tau2Fit:
    """Last resort: brentq on the estimating function over the bracket (upper end grown until g < 0)."""
    if not math.isfinite(hi):
        hi = max(2 * lo, 1.0)
        for _ in range(200):
            if score(hi)[0] <= 0:
                break
            lo, hi = hi, hi * 4
        else:
            return Tau2Fit(
                math.nan, False, MAXITER, "no sign change of the score found: tau^2 has no finite optimum"
            )
    try:
        root, info = brentq(lambda t: score(t)[0], lo, hi, xtol=tol, rtol=1e-15, full_output=True)
    except (ValueError, RuntimeError) as exc:  # pragma: no cover - brentq on a verified bracket
        return Tau2Fit(math.nan, False, MAXITER, f"bracketing root search failed: {exc}")
    return Tau2Fit(float(root), bool(info.converged), MAXITER + info.iterations, "")


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
