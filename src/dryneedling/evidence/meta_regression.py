"""Mixed-effects meta-regression (study-level moderators), as metafor's ``rma.uni(yi, vi, mods=...)``.

Model: ``y_i = x_i' beta + u_i + e_i`` with ``u_i ~ N(0, tau^2)`` (residual heterogeneity) and
``e_i ~ N(0, v_i)``. Coefficients are weighted least squares with ``w_i = 1/(v_i + tau^2)``.

Residual tau^2 estimators (Viechtbauer 2005; metafor's formulas with moderators):

- ``EE`` (``FE``): tau^2 = 0, the fixed-effects meta-regression;
- ``DL``: ``(Q_E - (k - p)) / tr(P)`` with ``P = W - W X (X'WX)^-1 X'W``, ``W = diag(1/v)``;
- ``HE``: ``(RSS_ols - tr(P_ols V)) / (k - p)`` from the unweighted fit;
- ``ML`` and ``REML``: Fisher scoring on the (restricted) likelihood, truncated at 0 and iterated to a change
  below 1e-12 (tighter than metafor's default 1e-5, so the two agree to the precision metafor itself reaches).

``test="knha"`` is the Knapp-Hartung adjustment: the covariance is multiplied by
``sum w_i r_i^2 / (k - p)`` (not truncated, as metafor), coefficient tests use t on ``k - p`` df and the
omnibus test ``Q_M`` becomes an F test on ``(m, k - p)`` df. R^2 is the proportional reduction in tau^2
relative to the intercept-only model fitted with the same estimator (Raudenbush 2009), as metafor reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from dryneedling.errors import InputError
from dryneedling.evidence.pooling import check_inputs

REGRESSION_METHODS = ("EE", "DL", "HE", "ML", "REML")
TESTS = ("z", "knha")
_ALIASES = {"FE": "EE", "CE": "EE"}
_MAX_ITER = 1000
_THRESHOLD = 1e-12


@dataclass(frozen=True)
class MetaRegressionResult:
    """Coefficients (intercept first when present) with the omnibus and residual heterogeneity tests."""

    names: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    stat: np.ndarray  # z or t values
    pvalue: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    vcov: np.ndarray
    k: int
    p: int
    method: str
    test: str
    level: float
    tau2: float
    converged: bool
    df: int | None  # residual df for the t tests under knha, else None
    qm: float  # omnibus test of the moderators (chi-square, or F under knha)
    qm_df: int
    qm_pvalue: float
    qe: float  # residual heterogeneity (fixed-effects weights), on k - p df
    qe_df: int
    qe_pvalue: float
    i2: float
    h2: float
    r2: float | None  # percent of tau^2 accounted for; None for EE or when the intercept-only tau^2 is 0
    s2w: float  # Knapp-Hartung scale factor (1 under the z test)

    def as_dict(self) -> dict:
        """Plain-Python view for JSON output: one row per coefficient plus the model statistics."""
        rows = [
            {
                "name": name,
                "estimate": float(self.coef[j]),
                "se": float(self.se[j]),
                "stat": float(self.stat[j]),
                "pvalue": float(self.pvalue[j]),
                "ci_low": float(self.ci_low[j]),
                "ci_high": float(self.ci_high[j]),
            }
            for j, name in enumerate(self.names)
        ]
        scalars = ("k", "p", "method", "test", "level", "tau2", "converged", "df", "qm", "qm_df", "qm_pvalue")
        scalars += ("qe", "qe_df", "qe_pvalue", "i2", "h2", "r2")
        return {"coefficients": rows, **{name: getattr(self, name) for name in scalars}}


def normalise_method(method: str) -> str:
    """Canonical estimator name for meta-regression, or InputError listing the valid ones."""
    key = str(method).upper()
    key = _ALIASES.get(key, key)
    if key not in REGRESSION_METHODS:
        raise InputError.unknown("method", method, REGRESSION_METHODS)
    return key


def _design(
    yi, vi, mods, intercept: bool, names
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    y, v = check_inputs(yi, vi)
    if mods is None:
        x = np.empty((y.size, 0))
    else:
        x = np.asarray(mods, dtype=float)
        x = x.reshape(-1, 1) if x.ndim == 1 else x
    if x.shape[0] != y.size:
        raise InputError("mods", f"has {x.shape[0]} rows but there are {y.size} studies")
    if not np.all(np.isfinite(x)):
        raise InputError("mods", "moderators must be finite numbers")
    labels = list(names) if names is not None else [f"x{j + 1}" for j in range(x.shape[1])]
    if len(labels) != x.shape[1]:
        raise InputError("names", f"gives {len(labels)} names for {x.shape[1]} moderators")
    if intercept:
        x = np.column_stack([np.ones(y.size), x])
        labels = ["intercept", *labels]
    if x.shape[1] == 0:
        raise InputError("mods", "the model has no coefficients (no moderators and no intercept)")
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise InputError("mods", "moderators are collinear (the design matrix is not of full rank)")
    return y, v, x, tuple(labels)


def _projection(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``P = W - W X (X'WX)^-1 X'W`` for diagonal weights ``w``."""
    wx = x * w[:, None]
    return np.diag(w) - wx @ np.linalg.solve(x.T @ wx, wx.T)


def _tau2(y: np.ndarray, v: np.ndarray, x: np.ndarray, method: str) -> tuple[float, bool]:
    k, p = x.shape
    if method == "EE":
        return 0.0, True
    if method == "DL":
        proj = _projection(x, 1 / v)
        return max(0.0, float((y @ proj @ y - (k - p)) / np.trace(proj))), True
    if method == "HE":
        resid_maker = np.eye(k) - x @ np.linalg.solve(x.T @ x, x.T)
        rss = float(y @ resid_maker @ y)
        return max(0.0, (rss - float(np.trace(resid_maker * v))) / (k - p)), True
    if p == 1 and np.allclose(x, x[0, 0]):
        # Intercept only: the same estimator as pool(), which returns the global likelihood maximum when
        # the (restricted) likelihood has a local maximum at 0 and a higher interior one; Fisher scoring
        # started at 0 would stop at the boundary (found by the property test against pool()).
        from dryneedling.evidence.pooling import pool

        fit = pool(y, v, method=method)
        return float(fit.tau2), bool(fit.converged)
    return _fisher_scoring(y, v, x, reml=method == "REML")


def _fisher_scoring(y: np.ndarray, v: np.ndarray, x: np.ndarray, reml: bool) -> tuple[float, bool]:
    """ML/REML tau^2 by Fisher scoring from the Hedges start value, truncated at 0 (metafor's algorithm)."""
    tau2, _ = _tau2(y, v, x, "HE")
    for _ in range(_MAX_ITER):
        w = 1 / (v + tau2)
        proj = _projection(x, w)
        py = proj @ y
        if reml:
            step = (py @ py - np.trace(proj)) / np.sum(proj * proj)
        else:
            step = (py @ py - w.sum()) / np.sum(w * w)
        new = max(0.0, float(tau2 + step))
        if abs(new - tau2) < _THRESHOLD * max(1.0, tau2):
            # metafor's ll0check: a stationary point below the likelihood at tau^2 = 0 is not the maximum.
            if new > 0 and _loglik(y, v, x, 0.0, reml) > _loglik(y, v, x, new, reml):
                return 0.0, True
            return new, True
        tau2 = new
    return tau2, False


def _loglik(y: np.ndarray, v: np.ndarray, x: np.ndarray, tau2: float, reml: bool) -> float:
    """(Restricted) log-likelihood up to a constant that does not depend on tau^2."""
    w = 1 / (v + tau2)
    xtwx = x.T @ (x * w[:, None])
    coef = np.linalg.solve(xtwx, x.T @ (w * y))
    resid = y - x @ coef
    value = -0.5 * (np.sum(np.log(v + tau2)) + np.sum(w * resid**2))
    if reml:
        value -= 0.5 * np.linalg.slogdet(xtwx)[1]
    return float(value)


def meta_regression(
    yi,
    vi,
    mods=None,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    intercept: bool = True,
    names=None,
) -> MetaRegressionResult:
    """Fit a meta-regression of ``yi`` (sampling variances ``vi``) on the moderator columns ``mods``.

    ``mods`` is a (k,) or (k, m) array of numeric moderators (code categories as dummy columns); an
    intercept is added unless ``intercept=False``. ``names`` labels the moderator columns. ``method`` is
    one of EE (FE), DL, HE, ML, REML; ``test`` is ``z`` or ``knha``; ``level`` is a percentage.
    The omnibus test Q_M covers every coefficient except the intercept (all of them without one).
    """
    method = normalise_method(method)
    if test not in TESTS:
        raise InputError.unknown("test", test, TESTS)
    level = float(level)
    if not 0 < level < 100:
        raise InputError("level", "must be a percentage between 0 and 100", value=level)
    y, v, x, labels = _design(yi, vi, mods, intercept, names)
    k, p = x.shape
    if k <= p:
        raise InputError("yi", f"needs more studies than coefficients (k={k}, p={p})")

    tau2, converged = _tau2(y, v, x, method)
    w = 1 / (v + tau2)
    wx = x * w[:, None]
    vb = np.linalg.inv(x.T @ wx)
    coef = vb @ (wx.T @ y)
    resid = y - x @ coef
    df_resid = k - p

    tested = list(range(1, p)) if intercept and p > 1 else ([] if intercept else list(range(p)))
    if test == "knha":
        s2w = float(np.sum(w * resid**2) / df_resid)
        vb = vb * s2w
        dist = stats.t(df_resid)
        df: int | None = df_resid
    else:
        s2w = 1.0
        dist = stats.norm()
        df = None
    se = np.sqrt(np.diag(vb))
    stat = coef / se
    pvalue = 2 * dist.sf(np.abs(stat))
    crit = dist.isf((1 - level / 100) / 2)

    m = len(tested)
    if m:
        b = coef[tested]
        qm = float(b @ np.linalg.solve(vb[np.ix_(tested, tested)], b))
        if test == "knha":
            qm /= m
            qm_p = float(stats.f.sf(qm, m, df_resid))
        else:
            qm_p = float(stats.chi2.sf(qm, m))
    else:
        qm, qm_p = 0.0, 1.0

    fixed_proj = _projection(x, 1 / v)
    qe = max(0.0, float(y @ fixed_proj @ y))
    qe_p = float(stats.chi2.sf(qe, df_resid))
    if method == "EE":
        i2 = max(0.0, 100 * (qe - df_resid) / qe) if qe > 0 else 0.0
        h2 = qe / df_resid
        r2 = None
    else:
        typical = df_resid / float(np.trace(fixed_proj))
        i2 = 100 * tau2 / (typical + tau2)
        h2 = tau2 / typical + 1
        r2 = _r_squared(y, v, method, tau2) if intercept and p > 1 else None

    return MetaRegressionResult(
        names=labels,
        coef=coef,
        se=se,
        stat=stat,
        pvalue=pvalue,
        ci_low=coef - crit * se,
        ci_high=coef + crit * se,
        vcov=vb,
        k=k,
        p=p,
        method=method,
        test=test,
        level=level,
        tau2=tau2,
        converged=converged,
        df=df,
        qm=qm,
        qm_df=m,
        qm_pvalue=qm_p,
        qe=qe,
        qe_df=df_resid,
        qe_pvalue=qe_p,
        i2=i2,
        h2=h2,
        r2=r2,
        s2w=s2w,
    )


def _r_squared(y: np.ndarray, v: np.ndarray, method: str, tau2: float) -> float | None:
    tau2_null, _ = _tau2(y, v, np.ones((y.size, 1)), method)
    if tau2_null <= 0:
        return None
    return max(0.0, 100 * (tau2_null - tau2) / tau2_null)
