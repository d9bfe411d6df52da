"""Thousands of independent meta-analyses in one vectorised call (``pool_many``).

Studies are sorted by group once; every per-group sum is a segment reduction (``np.add.reduceat``), so
the whole batch costs a handful of array passes per iteration instead of a Python loop over groups. The
iterative estimators (REML, ML, PM, EB) run the same safeguarded Newton method as ``pool()`` (see
``_estimators``) on all groups at once, each group with its own bracket and convergence mask; a group
that has not settled after the iteration limit is finished by the scalar solver (bisection/brentq).
Every entry equals ``pool()`` on that group to rounding error (tests/evidence/test_pooling_many.py).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import chdtrc, erfc, ndtri, stdtr, stdtrit

from dryneedling.errors import InputError
from dryneedling.evidence._estimators import MAXITER, SCAN_GRID, solve_iterative
from dryneedling.evidence._validate import level_fraction
from dryneedling.evidence.pooling import (
    ConvergenceWarning,
    PoolResult,
    check_inputs,
    normalise_method,
    normalise_test,
)


@dataclass(slots=True)
class BatchResult:
    """Per-group arrays with the same names as :class:`PoolResult`, one entry per group in ``groups``.

    ``groups`` are the distinct group ids in sorted order. ``weights`` (percent within each group) is aligned
    with the input rows. ``df`` is ``None`` for z tests, else ``k - 1`` per group (0 where k = 1 fell back
    to z). ``message`` is empty unless a group needed a special case.
    """

    groups: np.ndarray
    k: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    stat: np.ndarray
    pvalue: np.ndarray
    df: np.ndarray | None
    tau2: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    q: np.ndarray
    q_df: np.ndarray
    q_pvalue: np.ndarray
    pi_low: np.ndarray
    pi_high: np.ndarray
    weights: np.ndarray
    converged: np.ndarray
    method: str
    test: str
    level: float
    vt: np.ndarray
    iterations: np.ndarray
    message: list[str]
    order: np.ndarray
    starts: np.ndarray

    def __len__(self) -> int:
        return int(self.groups.shape[0])

    @property
    def tau(self) -> np.ndarray:
        """Between-study standard deviations, ``sqrt(tau2)``."""
        return np.sqrt(self.tau2)

    def rows(self, index: int) -> np.ndarray:
        """Input positions of the studies in the ``index``-th group."""
        start = self.starts[index]
        return self.order[start : start + self.k[index]]

    def result(self, index: int) -> PoolResult:
        """The ``index``-th group as a :class:`PoolResult` (weights in its input order)."""
        rows = self.rows(index)
        df = None if self.df is None or self.k[index] == 1 else int(self.df[index])
        return PoolResult(
            k=int(self.k[index]),
            estimate=float(self.estimate[index]),
            se=float(self.se[index]),
            ci_low=float(self.ci_low[index]),
            ci_high=float(self.ci_high[index]),
            stat=float(self.stat[index]),
            pvalue=float(self.pvalue[index]),
            df=df,
            tau2=float(self.tau2[index]),
            i2=float(self.i2[index]),
            h2=float(self.h2[index]),
            q=float(self.q[index]),
            q_df=int(self.q_df[index]),
            q_pvalue=float(self.q_pvalue[index]),
            pi_low=float(self.pi_low[index]),
            pi_high=float(self.pi_high[index]),
            weights=self.weights[rows],
            converged=bool(self.converged[index]),
            method=self.method,
            test=self.test if df is not None or self.test == "z" else "z",
            level=self.level,
            vt=float(self.vt[index]),
            iterations=int(self.iterations[index]),
            message=self.message[index],
        )


class _Segments:
    """Rows sorted by group with segment-sum helpers."""

    def __init__(self, groups: np.ndarray) -> None:
        self.order = np.argsort(groups, kind="stable")
        sorted_ids = groups[self.order]
        n = sorted_ids.shape[0]
        change = np.flatnonzero(sorted_ids[1:] != sorted_ids[:-1]) + 1
        self.starts = np.concatenate(([0], change))
        self.counts = np.diff(np.concatenate((self.starts, [n])))
        self.ids = sorted_ids[self.starts]
        self.seg = np.repeat(np.arange(self.starts.shape[0]), self.counts)

    def sum(self, x: np.ndarray) -> np.ndarray:
        return np.add.reduceat(x, self.starts)


def pool_many(
    yi: object,
    vi: object,
    group_ids: object,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
) -> BatchResult:
    """Pool every group of rows in ``group_ids`` separately, vectorised across groups.

    Same estimators, tests and statistics as :func:`dryneedling.evidence.pool` (metafor ``rma.uni``);
    groups may have different numbers of studies (ragged k, k >= 1).
    """
    method = normalise_method(method)
    test = normalise_test(test)
    lv = level_fraction(level)
    y_in, v_in = check_inputs(yi, vi)
    groups = np.asarray(group_ids)
    if groups.ndim != 1 or groups.shape[0] != y_in.shape[0]:
        raise InputError(
            "group_ids", f"needs one group id per study ({y_in.shape[0]}), got shape {groups.shape}"
        )
    seg = _Segments(groups)
    y, v = y_in[seg.order], v_in[seg.order]
    k = seg.counts
    tau2, converged, iterations, notes = _tau2(seg, y, v, k, method)
    messages = ["k = 1: tau^2 fixed at 0" if kk == 1 and method != "EE" else "" for kk in k]
    for i, note in notes.items():
        messages[i] = note
    if not converged.all():
        bad = np.flatnonzero(~converged)
        warnings.warn(
            f"{method}: {bad.size} group(s) did not converge; tau^2 set to 0 there",
            ConvergenceWarning,
            stacklevel=2,
        )
        tau2 = np.where(converged, tau2, 0.0)
        for i in bad:
            messages[i] = "tau^2 set to 0 (common-effect weights) because the estimator did not converge"
    return _summarise(seg, y, v, k, tau2, converged, iterations, method, test, lv, messages)


def _tau2(seg: _Segments, y: np.ndarray, v: np.ndarray, k: np.ndarray, method: str):
    n_groups = k.shape[0]
    converged = np.ones(n_groups, dtype=bool)
    iterations = np.zeros(n_groups, dtype=int)
    multi = k > 1
    km1 = np.maximum(k - 1, 1)
    if method == "EE":
        return np.zeros(n_groups), converged, iterations, {}
    ybar = seg.sum(y) / k
    rss = seg.sum((y - ybar[seg.seg]) ** 2)
    he = np.where(multi, np.maximum(0.0, (rss - seg.sum(v) * (k - 1) / k) / km1), 0.0)
    if method == "HE":
        return he, converged, iterations, {}
    w = 1.0 / v
    sw = seg.sum(w)
    mu = seg.sum(w * y) / sw
    q = seg.sum(w * (y - mu[seg.seg]) ** 2)
    if method == "HS":
        return np.where(multi, np.maximum(0.0, (q - k) / sw), 0.0), converged, iterations, {}
    c = sw - seg.sum(w * w) / sw
    with np.errstate(divide="ignore", invalid="ignore"):
        dl = np.where(multi & (c > 0), np.maximum(0.0, (q - (k - 1)) / c), 0.0)
    if method == "DL":
        return dl, converged, iterations, {}
    if method == "SJ":
        # identical effects within a group: t0 is exactly 0 (not a rounding-level residue)
        t0 = np.where(np.maximum.reduceat(y, seg.starts) > np.minimum.reduceat(y, seg.starts), rss / k, 0.0)
        w = 1.0 / (v + t0[seg.seg])
        mu = seg.sum(w * y) / seg.sum(w)
        qw = seg.sum(w * (y - mu[seg.seg]) ** 2)
        return np.where(multi & (t0 > 0), t0 * qw / km1, 0.0), converged, iterations, {}
    return _solve_iterative(seg, y, v, k, method, dl)


def _scores(seg: _Segments, y: np.ndarray, v: np.ndarray, k: np.ndarray, t: np.ndarray, method: str):
    """Vectorised twin of ``_estimators._score``: estimating function and Newton/Fisher slopes per group."""
    w = 1.0 / (v + t[seg.seg])
    sw = seg.sum(w)
    mu = seg.sum(w * y) / sw
    r = y - mu[seg.seg]
    w2 = w * w
    rr = r * r
    w2r2 = seg.sum(w2 * rr)
    if method in ("PM", "EB"):
        g = seg.sum(w * rr) - (k - 1)
        return g, w2r2, w2r2
    w2r = seg.sum(w2 * r)
    w3 = w2 * w
    sw2 = seg.sum(w2)
    w3r2 = seg.sum(w3 * rr)
    if method == "ML":
        return 0.5 * (w2r2 - sw), w3r2 - w2r * w2r / sw - 0.5 * sw2, 0.5 * sw2
    sw3 = seg.sum(w3)
    tr_p = sw - sw2 / sw
    tr_pp = sw2 - 2 * sw3 / sw + (sw2 / sw) ** 2
    return 0.5 * (w2r2 - tr_p), w3r2 - w2r * w2r / sw - 0.5 * tr_pp, 0.5 * tr_pp


def _loglik(
    seg: _Segments, y: np.ndarray, v: np.ndarray, k: np.ndarray, t: np.ndarray, reml: bool
) -> np.ndarray:
    w = 1.0 / (v + t[seg.seg])
    sw = seg.sum(w)
    mu = seg.sum(w * y) / sw
    ll = -0.5 * (seg.sum(np.log(v + t[seg.seg])) + seg.sum(w * (y - mu[seg.seg]) ** 2))
    if reml:
        return ll - 0.5 * ((k - 1) * np.log(2 * np.pi) + np.log(sw))
    return ll - 0.5 * k * np.log(2 * np.pi)


class _Subset:
    """The rows of a subset of groups, re-packed contiguously so segment sums skip finished groups."""

    def __init__(
        self, seg: _Segments, y: np.ndarray, v: np.ndarray, k: np.ndarray, groups: np.ndarray
    ) -> None:
        self.groups = groups
        if groups.shape[0] < k.shape[0]:
            chosen = np.zeros(k.shape[0], dtype=bool)
            chosen[groups] = True
            rows = chosen[seg.seg]
        else:
            rows = slice(None)
        self.y, self.v, self.k = y[rows], v[rows], k[groups]
        self.starts = np.concatenate(([0], np.cumsum(self.k)[:-1]))
        self.seg = np.repeat(np.arange(groups.shape[0]), self.k)

    def sum(self, x: np.ndarray) -> np.ndarray:
        return np.add.reduceat(x, self.starts)


def _solve_iterative(
    seg: _Segments, y: np.ndarray, v: np.ndarray, k: np.ndarray, method: str, start: np.ndarray
):
    """Vectorised twin of ``_estimators.solve_iterative`` (same cases, same steps, per-group masks)."""
    n_groups = k.shape[0]
    vbar_all = seg.sum(v) / k
    tol_all = np.minimum(1e-10, 1e-11 * vbar_all)
    g0_all = _scores(seg, y, v, k, np.zeros(n_groups), method)[0]
    t_all = np.zeros(n_groups)
    lo_all = np.zeros(n_groups)
    hi_all = np.full(n_groups, np.inf)
    iterations = np.zeros(n_groups, dtype=int)
    converged = np.ones(n_groups, dtype=bool)
    messages: dict[int, str] = {}
    multi = k > 1
    interior = multi & (g0_all > 0)
    t_all[interior] = start[interior]
    scanned = np.zeros(n_groups, dtype=bool)
    if method in ("REML", "ML"):
        candidates = np.flatnonzero(multi & (g0_all <= 0))
        if candidates.size:
            single, lo, hi, complicated = _scan(seg, y, v, k, candidates, vbar_all, method)
            iterations[candidates] = 1
            t_all[single], lo_all[single], hi_all[single] = lo, lo, hi
            scanned[single] = True
            for i in complicated:  # several interior maxima or an open bracket: the scalar solver decides
                fit = solve_iterative(
                    y[seg.starts[i] : seg.starts[i] + k[i]], v[seg.starts[i] : seg.starts[i] + k[i]], method
                )
                t_all[i], converged[i], iterations[i], messages[i] = (
                    fit.tau2,
                    fit.converged,
                    fit.iterations,
                    fit.message,
                )
    run = np.flatnonzero(interior | scanned)
    if run.size:
        t, it, ok, lo, hi = _newton(
            seg, y, v, k, run, t_all[run], lo_all[run], hi_all[run], tol_all, vbar_all, method
        )
        t_all[run], iterations[run], converged[run] = t, iterations[run] + it, True
        for j in np.flatnonzero(~ok):
            i = run[j]
            rows = slice(seg.starts[i], seg.starts[i] + k[i])
            fit = solve_iterative(
                y[rows], v[rows], method, start=float(t[j]), bracket=(float(lo[j]), float(hi[j]))
            )
            t_all[i], converged[i], iterations[i] = fit.tau2, fit.converged, MAXITER + fit.iterations
    if scanned.any():
        # keep an interior maximum only if it beats the boundary maximum at tau^2 = 0 (as the scalar solver)
        reml = method == "REML"
        ll0 = _loglik(seg, y, v, k, np.zeros(n_groups), reml)
        llt = _loglik(seg, y, v, k, t_all, reml)
        keep_zero = scanned & ~(llt > ll0)
        t_all = np.where(keep_zero, 0.0, t_all)
        for i in np.flatnonzero(scanned & ~keep_zero):
            messages[int(i)] = (
                "the likelihood also has a boundary maximum at tau^2 = 0; the interior one is higher"
            )
    return t_all, converged, iterations, messages


def _scan(seg, y, v, k, groups, vbar_all, method):
    """Vectorised twin of the scalar boundary scan: the score on the geometric grid for each group."""
    sub = _Subset(seg, y, v, k, groups)
    ybar = sub.sum(sub.y) / sub.k
    yc = sub.y - ybar[sub.seg]
    scale = np.maximum(vbar_all[groups], sub.sum(yc * yc) / sub.k)
    grid = scale[:, None] * SCAN_GRID[None, :]
    w = 1.0 / (sub.v[:, None] + grid[sub.seg])
    w2 = w * w
    sw = np.add.reduceat(w, sub.starts, axis=0)
    mu = np.add.reduceat(w * yc[:, None], sub.starts, axis=0) / sw
    sw2 = np.add.reduceat(w2, sub.starts, axis=0)
    sw2y = np.add.reduceat(w2 * yc[:, None], sub.starts, axis=0)
    sw2yy = np.add.reduceat(w2 * (yc * yc)[:, None], sub.starts, axis=0)
    w2r2 = sw2yy - 2 * mu * sw2y + mu * mu * sw2
    g = 0.5 * (w2r2 - sw) if method == "ML" else 0.5 * (w2r2 - (sw - sw2 / sw))
    pos = g > 0
    falls = pos[:, :-1] & ~pos[:, 1:]
    n_brackets = falls.sum(axis=1) + pos[:, -1]
    one = (n_brackets == 1) & ~pos[:, -1]
    first = np.argmax(falls, axis=1)
    rows = np.flatnonzero(one)
    lo = grid[rows, first[rows]]
    hi = grid[rows, first[rows] + 1]
    return groups[one], lo, hi, groups[(n_brackets > 1) | pos[:, -1]]


def _newton(seg, y, v, k, groups, t, lo, hi, tol_all, vbar_all, method):
    """Vectorised twin of ``newton_in_bracket``; finished groups are dropped from the working set."""
    iterations = np.zeros(groups.shape[0], dtype=int)
    done = np.zeros(groups.shape[0], dtype=bool)
    pos_in_run = np.arange(groups.shape[0])
    work = _Subset(seg, y, v, k, groups)
    w_t, w_lo, w_hi = t.copy(), lo.copy(), hi.copy()
    w_tol, w_vbar = tol_all[groups], vbar_all[groups]
    active = np.ones(groups.shape[0], dtype=bool)
    out_t, out_lo, out_hi = t.copy(), lo.copy(), hi.copy()
    for it in range(1, MAXITER + 1):
        if not active.any():
            break
        if active.sum() < 0.5 * active.shape[0]:
            # re-pack: the remaining groups no longer pay for the finished ones
            keep = np.flatnonzero(active)
            work = _Subset(seg, y, v, k, work.groups[keep])
            pos_in_run = pos_in_run[keep]
            w_t, w_lo, w_hi, w_tol, w_vbar = w_t[keep], w_lo[keep], w_hi[keep], w_tol[keep], w_vbar[keep]
            active = np.ones(keep.shape[0], dtype=bool)
        g, newton, fisher = _scores(work, work.y, work.v, work.k, w_t, method)
        iterations[pos_in_run] = it
        pos = g > 0
        w_lo = np.where(pos, w_t, w_lo)
        w_hi = np.where(pos, w_hi, w_t)
        slope = np.where(newton > 0, newton, fisher)
        with np.errstate(divide="ignore", invalid="ignore"):
            cand = np.where(slope > 0, w_t + g / slope, np.where(pos, 2 * w_t + w_tol, 0.5 * w_t))
        step = np.abs(cand - w_t)
        # same quadratic-convergence acceptance as the scalar solver
        small = (step <= w_tol + 1e-14 * w_t) | ((newton > 0) & (step <= 1e-7 * (w_t + w_vbar)))
        cand = np.where(small, np.maximum(cand, 0.0), cand)
        outside = ~small & ~((w_lo < cand) & (cand < w_hi))
        finite_hi = np.isfinite(w_hi)
        cand = np.where(
            outside, np.where(finite_hi, 0.5 * (w_lo + w_hi), np.maximum(2 * w_t, w_t + w_tol)), cand
        )
        closed = finite_hi & (w_hi - w_lo <= w_tol + 1e-14 * np.where(finite_hi, w_hi, 0.0))
        settled = small | closed
        w_t = cand
        out_t[pos_in_run], out_lo[pos_in_run], out_hi[pos_in_run] = w_t, w_lo, w_hi
        done[pos_in_run[settled]] = True
        active = ~settled
    return out_t, iterations, done, out_lo, out_hi


def _summarise(seg, y, v, k, tau2, converged, iterations, method, test, lv, messages) -> BatchResult:
    n_groups = k.shape[0]
    idx = seg.seg
    w = 1.0 / (v + tau2[idx])
    sw = seg.sum(w)
    est = seg.sum(w * y) / sw
    var = 1.0 / sw
    multi = k > 1
    km1 = np.maximum(k - 1, 1)
    df = None
    if test == "knha":
        rss = seg.sum(w * (y - est[idx]) ** 2)
        scale = np.where(rss > np.finfo(float).eps, rss / km1, 0.0)
        var = np.where(multi, var * scale, var)
        df = np.where(multi, k - 1, 0)
        crit = np.where(multi, stdtrit(km1, 0.5 + lv / 2), ndtri(0.5 + lv / 2))
        for i in np.flatnonzero(~multi):
            messages[i] = "; ".join(
                filter(None, [messages[i], "k = 1: Knapp-Hartung needs k >= 2, used the z test"])
            )
    else:
        crit = np.full(n_groups, ndtri(0.5 + lv / 2))
    se = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(se > 0, est / se, np.where(est == 0, 0.0, np.copysign(np.inf, est)))
    abs_stat = np.abs(stat)
    if df is None:
        pvalue = erfc(abs_stat / np.sqrt(2.0))
    else:
        pvalue = np.where(multi, 2 * stdtr(km1, -abs_stat), erfc(abs_stat / np.sqrt(2.0)))
    pvalue = np.where(se > 0, pvalue, np.where(est == 0, 1.0, 0.0))
    for i in np.flatnonzero(se == 0):
        messages[i] = "; ".join(
            filter(None, [messages[i], "all effects identical: Knapp-Hartung standard error is 0"])
        )
    half = crit * se
    pi_half = crit * np.sqrt(var + tau2)
    # heterogeneity with w = 1/v, as metafor
    w_fe = 1.0 / v
    sw_fe = seg.sum(w_fe)
    mu_fe = seg.sum(w_fe * y) / sw_fe
    q = np.where(multi, np.maximum(0.0, seg.sum(w_fe * (y - mu_fe[idx]) ** 2)), 0.0)
    q_p = np.where(multi, chdtrc(km1, q), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        vt = np.where(multi, (k - 1) / (sw_fe - seg.sum(w_fe * w_fe) / sw_fe), 0.0)
        if method == "EE":
            i2 = np.where(multi & (q > 0), np.clip(100.0 * (q - (k - 1)) / q, 0.0, 100.0), 0.0)
            h2 = np.where(multi, q / km1, 1.0)
        else:
            i2 = np.where(multi, 100.0 * (tau2 / (vt + tau2)), 0.0)
            h2 = np.where(multi, tau2 / vt + 1.0, 1.0)
    weights_sorted = w * (100.0 / sw[idx])
    weights = np.empty_like(weights_sorted)
    weights[seg.order] = weights_sorted
    return BatchResult(
        groups=seg.ids,
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
        weights=weights,
        converged=converged,
        method=method,
        test=test,
        level=lv * 100,
        vt=vt,
        iterations=iterations,
        message=messages,
        order=seg.order,
        starts=seg.starts,
    )
