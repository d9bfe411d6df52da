"""Thousands of independent meta-analyses in one vectorised call (``pool_many``).

Studies are sorted by group once and seen as :class:`~dryneedling.evidence._estimators.Segments`: every
per-group sum is a segment reduction (``np.add.reduceat``), so the whole batch costs a handful of array passes
per iteration instead of a Python loop over groups. The estimators, the score, the Newton step and the summary
statistics are the very functions ``pool()`` runs (``_estimators`` and ``pooling.summarise``), here with one
array entry per group; this module only drives them over all groups at once, each group with its own bracket
and convergence mask. A group that has not settled after the iteration limit, or whose likelihood has more
than one interior maximum, is finished by the single-fit solver. Every entry equals ``pool()`` on that group
to rounding error (tests/evidence/test_pooling_many.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dryneedling.errors import InputError
from dryneedling.evidence._estimators import (
    BIMODAL,
    CLOSED_FORMS,
    K1_KNHA,
    K1_TAU2,
    MAXITER,
    NOT_CONVERGED,
    SE_ZERO,
    Segments,
    at_zero,
    group_loglik,
    join_notes,
    newton_step,
    scan,
    solve_iterative,
    tolerance,
)
from dryneedling.evidence.pooling import (
    PoolResult,
    summarise,
    validated,
    warn_not_converged,
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


def pool_many(
    yi: object, vi: object, group_ids: object, method: str = "REML", test: str = "z", level: float = 95
) -> BatchResult:
    """Pool every group of rows in ``group_ids`` separately, vectorised across groups.

    Same estimators, tests and statistics as :func:`dryneedling.evidence.pool` (metafor ``rma.uni``);
    groups may have different numbers of studies (ragged k, k >= 1).
    """
    method, test, lv, y_in, v_in = validated(yi, vi, method, test, level)
    groups = np.asarray(group_ids)
    if groups.ndim != 1 or groups.shape[0] != y_in.shape[0]:
        raise InputError(
            "group_ids", f"needs one group id per study ({y_in.shape[0]}), got shape {groups.shape}"
        )
    order = np.argsort(groups, kind="stable")
    sorted_ids = groups[order]
    starts = np.concatenate(([0], np.flatnonzero(sorted_ids[1:] != sorted_ids[:-1]) + 1))
    grp = Segments(y_in[order], v_in[order], np.diff(np.append(starts, sorted_ids.shape[0])))
    k = grp.k
    tau2, converged, iterations, notes = _tau2(grp, method)
    if not converged.all():
        bad = np.flatnonzero(~converged)
        warn_not_converged(
            f"{method}: {bad.size} group(s) did not converge; tau^2 set to 0 there", stacklevel=3
        )
        tau2 = np.where(converged, tau2, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # extreme groups may overflow; their entries say so
        stats, weights_sorted, t_test, se_positive = summarise(grp, tau2, method, test, lv)
    se_zero = ~se_positive
    weights = np.empty(order.shape[0])
    weights[order] = weights_sorted
    fell_back = (test == "knha") & ~grp.multi
    messages = [""] * k.shape[0]
    if method != "EE":
        notes.update({int(i): notes.get(int(i), K1_TAU2) for i in np.flatnonzero(k == 1)})
    for i in set(notes) | set(np.flatnonzero(~converged | fell_back | se_zero).tolist()):
        messages[i] = join_notes(
            notes.get(i, ""),
            "" if converged[i] else NOT_CONVERGED,
            K1_KNHA if fell_back[i] else "",
            SE_ZERO if se_zero[i] else "",
        )
    return BatchResult(
        **stats,
        groups=sorted_ids[starts],
        k=k,
        q_df=k - 1,
        weights=weights,
        df=np.where(t_test, k - 1, 0) if test == "knha" else None,
        converged=converged,
        method=method,
        test=test,
        level=lv * 100,
        iterations=iterations,
        message=messages,
        order=order,
        starts=starts,
    )


def _tau2(grp: Segments, method: str):
    """tau^2 of every group, whether it converged, its iterations and any notes (group index -> text)."""
    n_groups = len(grp)
    if method == "EE":
        return np.zeros(n_groups), np.ones(n_groups, dtype=bool), np.zeros(n_groups, dtype=int), {}
    closed = CLOSED_FORMS.get(method)
    if closed is not None:
        tau2 = np.where(grp.multi, closed(grp), 0.0)
        return tau2, np.ones(n_groups, dtype=bool), np.zeros(n_groups, dtype=int), {}
    return _solve_iterative(grp, method)


def _solve_iterative(grp: Segments, method: str):
    """``_estimators.solve_iterative`` over all groups: same cases, same steps, per-group masks."""
    n_groups = len(grp)
    vbar, tol = tolerance(grp)
    g0, start = at_zero(grp, method)
    t_all = np.where(grp.multi & (g0 > 0), start, 0.0)
    lo_all = np.zeros(n_groups)
    hi_all = np.full(n_groups, np.inf)
    iterations = np.zeros(n_groups, dtype=int)
    converged = np.ones(n_groups, dtype=bool)
    notes: dict[int, str] = {}
    run = grp.multi & (g0 > 0)
    scanned = np.zeros(n_groups, dtype=bool)
    candidates = np.flatnonzero(grp.multi & (g0 <= 0)) if method in ("REML", "ML") else np.empty(0, int)
    if candidates.size:
        # tau^2 = 0 is a boundary maximum; a score rising above 0 on the scan grid means an interior one too
        grid, g = scan(grp.subset(candidates), vbar[candidates], method)
        pos = g > 0
        falls = pos[:, :-1] & ~pos[:, 1:]
        n_brackets = falls.sum(axis=1) + pos[:, -1]
        one = (n_brackets == 1) & ~pos[:, -1]
        rows = np.flatnonzero(one)
        first = np.argmax(falls[rows], axis=1)
        single = candidates[one]
        iterations[candidates] = 1
        t_all[single] = lo_all[single] = grid[rows, first]
        hi_all[single] = grid[rows, first + 1]
        scanned[single] = run[single] = True
        for i in candidates[(n_brackets > 1) | pos[:, -1]]:  # several maxima or an open bracket
            fit = solve_iterative(grp.one(i), method)
            t_all[i], converged[i], iterations[i] = fit.tau2, fit.converged, fit.iterations
            notes[int(i)] = fit.message
    run = np.flatnonzero(run)
    if run.size:
        t, it, ok, lo, hi = _newton(
            grp.subset(run), t_all[run], lo_all[run], hi_all[run], tol[run], vbar[run], method
        )
        t_all[run], iterations[run] = t, iterations[run] + it
        for j in np.flatnonzero(~ok):  # not settled after MAXITER steps: the single-fit fallback
            i = run[j]
            fit = solve_iterative(grp.one(i), method, start=float(t[j]), bracket=(float(lo[j]), float(hi[j])))
            t_all[i], converged[i], iterations[i] = fit.tau2, fit.converged, MAXITER + fit.iterations
    if scanned.any():
        # keep an interior maximum only if it beats the boundary maximum at tau^2 = 0 (as the single fit)
        at = np.flatnonzero(scanned)
        sub = grp.subset(at)
        reml = method == "REML"
        higher = group_loglik(sub, t_all[at], reml) > group_loglik(sub, np.zeros(at.shape[0]), reml)
        t_all[at[~higher]] = 0.0
        notes.update({int(i): BIMODAL for i in at[higher & converged[at]]})
    return t_all, converged, iterations, notes


def _newton(grp: Segments, t, lo, hi, tol, vbar, method: str):
    """:func:`newton_step` on all groups at once; settled groups are recorded and dropped from the work."""
    n = len(grp)
    out_t, out_lo, out_hi = t.copy(), lo.copy(), hi.copy()
    iterations = np.full(n, MAXITER)
    done = np.zeros(n, dtype=bool)
    index = np.arange(n)
    active = np.ones(n, dtype=bool)
    for it in range(1, MAXITER + 1):
        if not active.any():
            break
        if active.sum() < 0.5 * active.shape[0]:
            # re-pack: the remaining groups no longer pay for the finished ones
            keep = np.flatnonzero(active)
            grp, index, active = grp.subset(keep), index[keep], active[keep]
            t, lo, hi, tol, vbar = t[keep], lo[keep], hi[keep], tol[keep], vbar[keep]
        with np.errstate(divide="ignore", invalid="ignore"):  # a group at an extreme scale must not warn
            t, lo, hi, settled = newton_step(grp, t, lo, hi, tol, vbar, method)
        now = settled & active
        out_t[index[now]] = t[now]
        iterations[index[now]] = it
        done[index[now]] = True
        active &= ~settled
    rest = index[active]
    out_t[rest], out_lo[rest], out_hi[rest] = t[active], lo[active], hi[active]
    return out_t, iterations, done, out_lo, out_hi
