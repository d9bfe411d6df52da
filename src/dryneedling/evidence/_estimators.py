"""Between-study variance (tau^2) estimators, written once for one meta-analysis and for many at once.

Every formula here takes a *group view* of the data: :class:`One` (a single meta-analysis, used by
``pool()``) or :class:`Segments` (thousands of meta-analyses as segments of one sorted array, used by
``pool_many()``). Both views offer the same few primitives - per-group sums, broadcasting a per-group value
to its rows, ``where``/``maximum`` and a handful of special functions - so the estimators, the score, the
log-likelihood and the Newton step are one piece of code: with :class:`One` they run on Python floats
(cheap for a single fit), with :class:`Segments` on one array entry per group (segment reductions with
``np.add.reduceat``).

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
from functools import lru_cache

import numpy as np
from scipy.special import chdtrc, erfc, ndtri, stdtr, stdtrit

ITERATIVE = ("REML", "ML", "PM", "EB")
MAXITER = 200

# Every note a fit can carry, in one place (pool() and pool_many() report the same words).
K1_TAU2 = "k = 1: tau^2 fixed at 0"
K1_KNHA = "k = 1: Knapp-Hartung needs k >= 2, used the z test"
SE_ZERO = "all effects identical: Knapp-Hartung standard error is 0"
NOT_CONVERGED = "tau^2 set to 0 (common-effect weights) because the estimator did not converge"
BIMODAL = "the likelihood also has a boundary maximum at tau^2 = 0; the interior one is higher"
NO_SIGN_CHANGE = "no sign change of the score found: tau^2 has no finite optimum"


def join_notes(*notes: str) -> str:
    """The non-empty notes of one fit, joined as they appear in ``PoolResult.message``."""
    return "; ".join(note for note in notes if note)


@lru_cache(maxsize=64)
def z_crit(level: float) -> float:
    """Two-sided standard-normal critical value for a confidence level given as a fraction."""
    return float(ndtri(0.5 + level / 2))


@lru_cache(maxsize=1024)
def t_crit(level: float, df: int) -> float:
    """Two-sided Student-t critical value."""
    return float(stdtrit(df, 0.5 + level / 2))


@dataclass(slots=True)
class Tau2Fit:
    """A tau^2 estimate and how it was reached."""

    tau2: float
    converged: bool = True
    iterations: int = 0
    message: str = ""


_add_reduce = np.add.reduce  # what ndarray.sum runs, without its Python-level wrapper
_add, _divide, _multiply = np.add, np.divide, np.multiply


def _effect_powers(y: np.ndarray, mean) -> np.ndarray:
    """``[1, y - mean, (y - mean)^2]`` stacked on a new first axis (centring keeps the moments accurate)."""
    out = np.empty((3, y.shape[0]))
    out[0] = 1.0
    np.subtract(y, mean, out=out[1])
    np.multiply(out[1], out[1], out=out[2])
    return out


def _weight_powers(w: np.ndarray, powers: int) -> np.ndarray:
    """``[w, w^2, w^3][:powers]`` stacked on a new first axis."""
    out = np.empty((powers, *w.shape))
    out[0] = w
    np.multiply(w, w, out=out[1])
    if powers == 3:
        np.multiply(out[1], w, out=out[2])
    return out


class One:
    """One meta-analysis seen as a single group: per-group values are Python floats.

    ``y``/``v`` are the effects and sampling variances; ``ypow`` holds ``[1, y, y^2]`` of the effects
    centred at their mean, shape (3, k).
    """

    __slots__ = ("y", "v", "k", "km1", "multi", "_ypow", "_fixed", "_wpow")

    def __init__(self, y: np.ndarray, v: np.ndarray) -> None:
        self.y, self.v = y, v
        self.k = y.shape[0]
        self.km1 = max(self.k - 1, 1)  # k - 1, kept >= 1 so that formulas for k = 1 stay finite
        self.multi = self.k > 1
        self._ypow = self._fixed = self._wpow = None

    @property
    def ypow(self) -> np.ndarray:
        if self._ypow is None:
            self._ypow = _effect_powers(self.y, _add_reduce(self.y) / self.k)
        return self._ypow

    @staticmethod
    def sum(x: np.ndarray) -> float:
        """Sum over the studies (a Python float: scalar arithmetic on it is cheap)."""
        return float(_add_reduce(x))

    @staticmethod
    def dot(a: np.ndarray, b: np.ndarray) -> float:
        """``sum a * b`` over the studies."""
        return float(a @ b)

    @staticmethod
    def expand(value):
        """A per-group value on every study row (a scalar broadcasts by itself)."""
        return value

    def spread(self, x: np.ndarray) -> float:
        """Largest minus smallest value."""
        return x.max() - x.min()

    def moments(self, w: np.ndarray, powers: int = 3, yy: bool = True):
        """``m[a-1][b] = sum w^a y^b`` (a = 1..powers, b = 0..2, centred y); floats for 1-D ``w``.

        ``yy=False`` says ``sum w y^2`` is not needed (one matrix product gives it anyway here).
        """
        wp = _weight_powers(w, powers)
        if w.ndim == 1:
            return (wp @ self.ypow.T).tolist()
        return np.einsum("amk,bk->abm", wp, self.ypow)  # w of shape (points, k): one value per point

    def moments_at(self, tau2: float, powers: int = 3, yy: bool = True) -> list[list[float]]:
        """:meth:`moments` at ``w = 1/(v + tau^2)``, in a reused buffer (the inner loop of a single fit)."""
        if self._wpow is None:
            buf = np.empty((3, self.k))
            self._wpow = (buf, buf[0], buf[1], buf[2], buf[:2], self.ypow.T)
        buf, w, w2, w3, buf2, ypow_t = self._wpow
        _add(self.v, tau2, w)  # positional ``out``: this loop runs a few times per fit, keep it lean
        _divide(1.0, w, w)
        _multiply(w, w, w2)
        if powers == 3:
            _multiply(w2, w, w3)
            return (buf @ ypow_t).tolist()
        return (buf2 @ ypow_t).tolist()

    @staticmethod
    def where(cond, a, b):
        return a if cond else b

    all = staticmethod(bool)

    @staticmethod
    def clip(x: float, low: float, high: float) -> float:
        return min(high, max(low, x))

    maximum = staticmethod(max)
    minimum = staticmethod(min)
    isfinite = staticmethod(math.isfinite)
    sqrt = staticmethod(math.sqrt)
    log = staticmethod(math.log)
    erfc = staticmethod(math.erfc)  # exact normal tail and ~20x cheaper than scipy.stats.norm.sf
    copysign = staticmethod(math.copysign)

    def t_crit(self, level: float) -> float:
        return t_crit(level, self.km1)

    def t_sf2(self, x: float) -> float:
        """Two-sided Student-t tail ``2 P(T_{k-1} > x)``."""
        return float(2 * stdtr(self.km1, -x))

    def chi2_sf(self, q: float) -> float:
        return float(chdtrc(self.km1, q))


class Segments:
    """Many meta-analyses: rows sorted by group, group ``i`` the ``k[i]`` rows from ``starts[i]``.

    Per-group values are arrays with one entry per group; sums are segment reductions along the last axis
    (the rows), so that 2-D arrays such as a grid of tau^2 values per group reduce along contiguous memory.
    """

    def __init__(self, y: np.ndarray, v: np.ndarray, k: np.ndarray) -> None:
        self.y, self.v, self.k = y, v, k
        self.km1 = np.maximum(k - 1, 1)
        self.multi = k > 1
        self.starts = np.concatenate(([0], np.cumsum(k)[:-1]))
        self.seg = np.repeat(np.arange(k.shape[0]), k)
        self._centred = self._fixed = None

    def __len__(self) -> int:
        return int(self.k.shape[0])

    def rows(self, index: int) -> slice:
        """The rows of group ``index``."""
        return slice(self.starts[index], self.starts[index] + self.k[index])

    def one(self, index: int) -> One:
        """Group ``index`` on its own."""
        rows = self.rows(index)
        return One(self.y[rows], self.v[rows])

    def subset(self, groups: np.ndarray) -> Segments:
        """The given groups re-packed contiguously (so that sums skip the others)."""
        if groups.shape[0] == self.k.shape[0]:
            return self
        chosen = np.zeros(self.k.shape[0], dtype=bool)
        chosen[groups] = True
        rows = np.flatnonzero(chosen[self.seg])
        sub = Segments(self.y[rows], self.v[rows], self.k[groups])
        if self._centred is not None:  # the same rows, so the same group means: no need to centre again
            sub._centred = self._centred[:, rows]
        return sub

    @property
    def centred(self) -> np.ndarray:
        """``[y, y^2]`` of the effects centred at their group's mean, shape (2, rows)."""
        if self._centred is None:
            yc = self.y - self.expand(self.sum(self.y) / self.k)
            self._centred = np.stack((yc, yc * yc))
        return self._centred

    def sum(self, x: np.ndarray) -> np.ndarray:
        return np.add.reduceat(x, self.starts, axis=-1)

    def dot(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.add.reduceat(a * b, self.starts, axis=-1)

    def expand(self, value):
        """Per-group values (on the last axis) on every row (a scalar broadcasts by itself)."""
        return value[..., self.seg] if isinstance(value, np.ndarray) else value

    def spread(self, x: np.ndarray) -> np.ndarray:
        return np.maximum.reduceat(x, self.starts) - np.minimum.reduceat(x, self.starts)

    def moments(self, w: np.ndarray, powers: int = 3, yy: bool = True) -> list[list[np.ndarray]]:
        """``m[a-1][b]`` as in :meth:`One.moments`, each an array over groups (and grid points).

        With ``yy=False`` the entry ``sum w y^2`` is None (REML and ML do not use it: a pass saved).
        """
        yc, yc2 = self.centred
        out = [[self.sum(w), self.sum(w * yc), self.sum(w * yc2) if yy else None]]
        wa = w
        for _ in range(1, powers):
            wa = wa * w
            out.append([self.sum(wa), self.sum(wa * yc), self.sum(wa * yc2)])
        return out

    def moments_at(self, tau2: np.ndarray, powers: int = 3, yy: bool = True) -> list[list[np.ndarray]]:
        """:meth:`moments` at ``w = 1/(v + tau^2)``."""
        return self.moments(1.0 / (self.v + self.expand(tau2)), powers, yy)

    where = staticmethod(np.where)
    all = staticmethod(np.all)
    clip = staticmethod(np.clip)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    isfinite = staticmethod(np.isfinite)
    sqrt = staticmethod(np.sqrt)
    log = staticmethod(np.log)
    copysign = staticmethod(np.copysign)

    erfc = staticmethod(erfc)

    def t_crit(self, level: float) -> np.ndarray:
        return stdtrit(self.km1, 0.5 + level / 2)

    def t_sf2(self, x: np.ndarray) -> np.ndarray:
        return 2 * stdtr(self.km1, -x)

    def chi2_sf(self, q: np.ndarray) -> np.ndarray:
        return chdtrc(self.km1, q)


Groups = One | Segments


# ---------------------------------------------------------------------------------------------------------
# closed-form estimators and the statistics they share


def cochran_q(grp: Groups, w):
    """``(Q, sum w, sum w^2)`` with ``Q = sum w (y - mu_w)^2`` for the weights ``w`` (one per study)."""
    sw = grp.sum(w)
    r = grp.y - grp.expand(grp.dot(w, grp.y) / sw)
    return grp.dot(w, r * r), sw, grp.dot(w, w)


def fixed_q(grp: Groups):
    """:func:`cochran_q` with the common-effect weights ``w = 1/v`` (computed once per data set)."""
    if grp._fixed is None:
        grp._fixed = cochran_q(grp, 1.0 / grp.v)
    return grp._fixed


def dl_formula(grp: Groups, q, sw, sw2):
    """DerSimonian-Laird: ``max(0, (Q - (k-1)) / (sum w - sum w^2 / sum w))`` with ``w = 1/v``."""
    c = sw - sw2 / sw
    ok = c > 0
    return grp.where(ok, grp.maximum(0.0, (q - grp.km1) / grp.where(ok, c, 1.0)), 0.0)


def centred_rss(grp: Groups):
    """``sum (y - ybar)^2`` with the unweighted mean ``ybar``."""
    r = grp.y - grp.expand(grp.sum(grp.y) / grp.k)
    return grp.sum(r * r)


def dl(grp: Groups):
    """DerSimonian-Laird estimate (see :func:`dl_formula`)."""
    return dl_formula(grp, *fixed_q(grp))


def he(grp: Groups):
    """Hedges (variance component) estimator: ``max(0, sum (y - ybar)^2/(k-1) - mean(v))``."""
    return grp.maximum(0.0, (centred_rss(grp) - grp.sum(grp.v) * (grp.k - 1) / grp.k) / grp.km1)


def hs(grp: Groups):
    """Hunter-Schmidt as in metafor: ``max(0, (Q - k) / sum w)`` with ``w = 1/v``."""
    q, sw, _ = fixed_q(grp)
    return grp.maximum(0.0, (q - grp.k) / sw)


def sj(grp: Groups):
    """Sidik-Jonkman: ``t0 = sum (y - ybar)^2 / k``, then ``t0 * Q_{1/(v+t0)} / (k - 1)``."""
    # identical effects: t0 is exactly 0 (not a rounding-level residue)
    t0 = grp.where(grp.spread(grp.y) > 0, centred_rss(grp) / grp.k, 0.0)
    return grp.where(t0 > 0, t0 * cochran_q(grp, 1.0 / (grp.v + grp.expand(t0)))[0] / grp.km1, 0.0)


CLOSED_FORMS = {"DL": dl, "HE": he, "HS": hs, "SJ": sj}


def generalised_q(yi: np.ndarray, vi: np.ndarray, tau2: float) -> float:
    """``Q(tau^2) = sum w (y - mu_w)^2`` with ``w = 1/(v + tau^2)`` (decreasing in tau^2)."""
    return float(cochran_q(One(yi, vi), 1.0 / (vi + tau2))[0])


def group_loglik(grp: Groups, tau2, reml: bool):
    """(Restricted) log-likelihood of the random-effects model with ``mu`` profiled out, per group."""
    vt = grp.v + grp.expand(tau2)
    w = 1.0 / vt
    sw = grp.sum(w)
    r = grp.y - grp.expand(grp.dot(w, grp.y) / sw)
    ll = -0.5 * (grp.sum(np.log(vt)) + grp.dot(w, r * r))
    if reml:
        return ll - 0.5 * ((grp.k - 1) * math.log(2 * math.pi) + grp.log(sw))
    return ll - 0.5 * grp.k * math.log(2 * math.pi)


def loglik(yi: np.ndarray, vi: np.ndarray, tau2: float, reml: bool) -> float:
    """(Restricted) log-likelihood of one meta-analysis at ``tau2``."""
    return float(group_loglik(One(yi, vi), tau2, reml))


# ---------------------------------------------------------------------------------------------------------
# the estimating functions of the iterative estimators and the safeguarded Newton step


def evaluate(moments, k, method: str, slopes: bool = True):
    """Estimating function g(tau^2) (decreasing through its root) with Newton and Fisher slopes -g'.

    REML: ``g = (y'PPy - tr P)/2``; ML: ``g = (sum w^2 r^2 - sum w)/2``; PM/EB: ``g = Q(tau^2) - (k - 1)``,
    with ``P = W - W 1 1' W / sum w`` and ``r = y - mu_w``. All sums come from the 3x3 weighted moments
    ``sum w^a y^b`` (a = 1..3, b = 0..2) of the centred effects (:meth:`One.moments`), one matrix product
    per evaluation for a single fit. PM/EB need only a <= 2, REML/ML no ``sum w y^2``
    (``MOMENT_NEEDS``), and g alone (``slopes=False``: just g is returned) no a = 3.
    """
    (sw, swy, swyy), (sw2, sw2y, sw2yy) = moments[0], moments[1]
    mu = swy / sw
    w2r2 = sw2yy - 2 * mu * sw2y + mu * mu * sw2
    if method == "PM" or method == "EB":
        g = swyy - mu * swy - (k - 1)
        return (g, w2r2, w2r2) if slopes else g
    g = 0.5 * (w2r2 - sw) if method == "ML" else 0.5 * (w2r2 - (sw - sw2 / sw))
    if not slopes:
        return g
    sw3, sw3y, sw3yy = moments[2]
    w2r = sw2y - mu * sw2
    w3r2 = sw3yy - 2 * mu * sw3y + mu * mu * sw3
    if method == "ML":
        return g, w3r2 - w2r * w2r / sw - 0.5 * sw2, 0.5 * sw2
    tr_pp = sw2 - 2 * sw3 / sw + (sw2 / sw) ** 2
    return g, w3r2 - w2r * w2r / sw - 0.5 * tr_pp, 0.5 * tr_pp


# The weight powers :func:`evaluate` needs for each method and whether it needs ``sum w y^2``.
MOMENT_NEEDS = {"REML": (3, False), "ML": (3, False), "PM": (2, True), "EB": (2, True)}


def score(grp: Groups, tau2, method: str):
    """(g, Newton slope, Fisher slope) of :func:`evaluate` at ``tau2`` (per group)."""
    return evaluate(grp.moments_at(tau2, *MOMENT_NEEDS[method]), grp.k, method)


def at_zero(grp: Groups, method: str):
    """g(0) and the DerSimonian-Laird estimate (the starting value), from the same moments."""
    moments = grp.moments_at(0.0, 2)
    (sw, swy, swyy), (sw2, _, _) = moments[0], moments[1]
    g0 = evaluate(moments, grp.k, method, slopes=False)
    return g0, dl_formula(grp, swyy - swy * swy / sw, sw, sw2)


def newton_step(grp: Groups, t, lo, hi, tol, vbar, method: str):
    """One safeguarded Newton step from ``t`` inside (lo, hi), where g(lo) > 0 >= g(hi).

    Returns the next point, the narrowed bracket and whether the fit has settled. A step that leaves the
    bracket is replaced by bisection (or by doubling while the upper end is still infinite).
    """
    where, every = grp.where, grp.all
    g, newton, fisher = evaluate(grp.moments_at(t, *MOMENT_NEEDS[method]), grp.k, method)
    pos = g > 0
    lo, hi = where(pos, (t, hi), (lo, t))
    use_newton = newton > 0
    slope = where(use_newton, newton, fisher)
    ok = slope > 0
    if every(ok):
        cand = t + g / slope
    else:  # no positive slope (rounding): double or halve instead
        cand = where(ok, t + g / where(ok, slope, 1.0), where(pos, 2 * t + tol, 0.5 * t))
    step = abs(cand - t)
    # Newton converges quadratically: after a step of size s the error is about s^2/(t + v), so a step
    # below 1e-7 (t + v) leaves an error far under the tolerance and needs no confirming iteration
    small = (step <= tol + 1e-14 * t) | (use_newton & (step <= 1e-7 * (t + vbar)))
    finite = grp.isfinite(hi)
    keep = small | ((lo < cand) & (cand < hi))
    if not every(keep):  # the step left the bracket: bisect it, or grow while its upper end is infinite
        cand = where(keep, cand, where(finite, 0.5 * (lo + hi), grp.maximum(2 * t, t + tol)))
    cand = grp.maximum(cand, 0.0)  # only a small final step can undershoot 0: the rest stays in [lo, hi]
    closed = finite & (hi - lo <= tol + 1e-14 * hi)
    return cand, lo, hi, small | closed


def tolerance(grp: Groups):
    """Mean sampling variance and the absolute stopping tolerance on tau^2 (1e-11 x it, <= 1e-10)."""
    vbar = grp.sum(grp.v) / grp.k
    return vbar, grp.minimum(1e-10, 1e-11 * vbar)


# Geometric grid (relative to the data's scale, steps of about x2) on which the score is scanned when
# tau^2 = 0 is a boundary maximum: a positive score on it reveals a second, interior maximum. Above ~the
# spread of the effects the score cannot be positive (sum w^2 r^2 < sum w), so the grid stops at 100x.
SCAN_GRID = np.geomspace(1e-6, 1e2, 28)


def scan(grp: Groups, vbar, method: str):
    """The scan grid of each group (scaled by the larger of the mean variance and the effects' spread)
    and the estimating function g (REML or ML) on it, in one vectorised pass.

    Both come back with the grid points on the last axis: shape (1, points) and (points,) for :class:`One`,
    (groups, points) for :class:`Segments`.
    """
    scale = grp.maximum(vbar, centred_rss(grp) / grp.k)
    grid = np.multiply.outer(SCAN_GRID, np.atleast_1d(scale))  # (points, groups)
    w = 1.0 / (grp.v + grp.expand(grid))  # (points, rows)
    return grid.T, evaluate(grp.moments(w, 2, yy=False), grp.k, method, slopes=False).T


# ---------------------------------------------------------------------------------------------------------
# one meta-analysis: the solver that drives the shared kernels with Python floats


def newton_in_bracket(
    grp: One, t: float, lo: float, hi: float, tol: float, vbar: float, method: str
) -> Tau2Fit:
    """Newton steps (:func:`newton_step`) from ``t`` until settled; brentq when MAXITER is reached."""
    for it in range(1, MAXITER + 1):
        t, lo, hi, settled = newton_step(grp, t, lo, hi, tol, vbar, method)
        if settled:
            return Tau2Fit(float(t), True, it, "")
    return brentq_fallback(grp, lo, hi, tol, method)


def positive_brackets(grid: np.ndarray, g: np.ndarray) -> list[tuple[float, float]]:
    """Grid intervals where g changes from positive to non-positive (upper end inf if g ends positive)."""
    pos = g > 0
    out = [(float(grid[i]), float(grid[i + 1])) for i in np.flatnonzero(pos[:-1] & ~pos[1:])]
    if pos[-1]:
        out.append((float(grid[-1]), math.inf))
    return out


def solve_iterative(
    grp: One, method: str, start: float | None = None, bracket: tuple[float, float] | None = None
) -> Tau2Fit:
    """Global optimum of REML/ML, or the root of the PM/EB equation, on [0, inf); see the module docstring.

    ``bracket=(lo, hi)`` with g(lo) > 0 >= g(hi) restricts the search (used by the batch solver).
    """
    if grp.k == 1:
        return Tau2Fit(0.0, True, 0, K1_TAU2)
    vbar, tol = tolerance(grp)
    if bracket is not None:
        lo, hi = bracket
        return newton_in_bracket(grp, lo if start is None else start, lo, hi, tol, vbar, method)
    g0, dl_start = at_zero(grp, method)
    if g0 > 0:
        # the estimating function is positive at 0 and negative for large tau^2: an interior root exists
        t = dl_start if start is None else max(0.0, start)
        return newton_in_bracket(grp, t, 0.0, math.inf, tol, vbar, method)
    if method in ("PM", "EB"):
        return Tau2Fit(0.0, True, 0, "")  # Q(tau^2) is decreasing: Q(0) <= k - 1 means no positive root
    return _boundary_or_interior(grp, method, vbar, tol)


def _boundary_or_interior(grp: One, method: str, vbar: float, tol: float) -> Tau2Fit:
    """g(0) <= 0: tau^2 = 0 is a local maximum; look for interior maxima and keep the highest likelihood.

    The likelihood of the random-effects model can be bimodal (a boundary maximum at 0 and an interior one);
    metafor's Fisher scoring plus ``ll0check`` may stop at either. Scanning the score on a wide geometric
    grid finds every interior maximum whose basin spans a grid step.
    """
    grid, g = scan(grp, vbar, method)
    brackets = positive_brackets(grid[0], g)
    best = Tau2Fit(0.0, True, 1, "")
    if not brackets:
        return best
    reml = method == "REML"
    best_ll = group_loglik(grp, 0.0, reml)
    for lo, hi in brackets:
        fit = newton_in_bracket(grp, lo, lo, hi, tol, vbar, method)
        fit.iterations += 1
        ll = group_loglik(grp, fit.tau2, reml)
        if fit.converged and ll > best_ll:
            best, best_ll = fit, ll
            best.message = BIMODAL
    return best


def brentq_fallback(grp: One, lo: float, hi: float, tol: float, method: str) -> Tau2Fit:
    """Last resort: brentq on the estimating function over the bracket (upper end grown until g < 0)."""
    from scipy.optimize import brentq  # rarely needed: imported on first use

    def g(t: float) -> float:
        return score(grp, t, method)[0]

    if not math.isfinite(hi):
        hi = max(2 * lo, 1.0)
        for _ in range(200):
            if g(hi) <= 0:
                break
            lo, hi = hi, hi * 4
        else:
            return Tau2Fit(math.nan, False, MAXITER, NO_SIGN_CHANGE)
    try:
        root, info = brentq(g, lo, hi, xtol=tol, rtol=1e-15, full_output=True)
    except (ValueError, RuntimeError) as exc:  # pragma: no cover - brentq on a verified bracket
        return Tau2Fit(math.nan, False, MAXITER, f"bracketing root search failed: {exc}")
    return Tau2Fit(float(root), bool(info.converged), MAXITER + info.iterations, "")


def estimate_tau2(grp: One, method: str) -> Tau2Fit:
    """Dispatch to the estimator named by ``method`` (EE returns 0)."""
    if method == "EE":
        return Tau2Fit(0.0)
    if grp.k == 1:
        return Tau2Fit(0.0, True, 0, K1_TAU2)
    closed = CLOSED_FORMS.get(method)
    if closed is not None:
        return Tau2Fit(float(closed(grp)))
    return solve_iterative(grp, method)
