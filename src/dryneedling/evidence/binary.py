"""Fixed-effect pooling of 2x2 tables: Mantel-Haenszel (OR, RR, RD) and Peto's one-step odds ratio.

Both follow R's metafor (``rma.mh`` and ``rma.peto``, version 3.8) formula for formula, including its
defaults for the per-study outcomes behind the heterogeneity test: 1/2 is added to every cell of a
table that has a zero cell, and tables with no events (or only events) in both arms get no per-study
log ratio. The pooled estimate itself always uses the raw counts.

Tables: ``ai`` events / ``bi`` non-events in the treated arm, ``ci`` / ``di`` in the control arm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from dryneedling.errors import InputError

MH_MEASURES = ("OR", "RR", "RD")
_CONTINUITY = 0.5


@dataclass(frozen=True)
class BinaryPoolResult:
    """A fixed-effect pooled estimate from 2x2 tables (log scale for OR/RR/Peto, raw for RD)."""

    method: str  # "MH" or "Peto"
    measure: str  # "OR", "RR", "RD" or "PETO"
    k: int  # tables used for the pooled estimate
    k_yi: int  # tables with a per-study estimate (these enter Q)
    estimate: float
    se: float
    z: float
    pvalue: float
    ci_low: float
    ci_high: float
    level: float
    q: float
    q_df: int
    q_pvalue: float
    i2: float
    h2: float
    yi: np.ndarray  # per-study outcomes (NaN where a table has none)
    vi: np.ndarray
    # Tests of no association (OR only), as metafor's CO (Cochran) and MH (Cochran-Mantel-Haenszel).
    cochran: float = float("nan")
    cochran_pvalue: float = float("nan")
    cmh: float = float("nan")
    cmh_pvalue: float = float("nan")
    # Homogeneity of the odds ratios (OR only): Breslow-Day and its Tarone-corrected version.
    breslow_day: float = float("nan")
    breslow_day_pvalue: float = float("nan")
    tarone: float = float("nan")
    tarone_pvalue: float = float("nan")
    k_pos: int = 0  # tables entering the Breslow-Day test

    @property
    def is_ratio(self) -> bool:
        """True when the estimate is a log ratio (exponentiate to report it)."""
        return self.measure != "RD"


def _tables(ai, bi, ci, di) -> tuple[np.ndarray, ...]:
    arrays = []
    for name, values in (("ai", ai), ("bi", bi), ("ci", ci), ("di", di)):
        arr = np.asarray(values, dtype=float).ravel()
        if arr.size == 0:
            raise InputError(name, "needs at least one study")
        if np.any(~np.isfinite(arr)):
            raise InputError(name, "has a missing or non-numeric count", value=name)
        if np.any(arr < 0):
            raise InputError(name, "counts cannot be negative", value=float(arr.min()))
        arrays.append(arr)
    if len({a.size for a in arrays}) != 1:
        raise InputError("ai", "ai, bi, ci and di must have one value per study each")
    ai, bi, ci, di = arrays
    if np.any(ai + bi == 0) or np.any(ci + di == 0):
        raise InputError("n1i", "every study needs at least one participant in each arm")
    return ai, bi, ci, di


def _corrected(ai, bi, ci, di) -> tuple[np.ndarray, ...]:
    """Add 1/2 to every cell of tables that contain a zero (metafor's add=1/2, to="only0")."""
    zero = (ai == 0) | (bi == 0) | (ci == 0) | (di == 0)
    add = np.where(zero, _CONTINUITY, 0.0)
    return ai + add, bi + add, ci + add, di + add


def _double_zero(ai, bi, ci, di) -> np.ndarray:
    """Tables with no events, or only events, in both arms (metafor's drop00)."""
    return ((ai == 0) & (ci == 0)) | ((bi == 0) & (di == 0))


def study_outcomes(ai, bi, ci, di, measure: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-study log OR / log RR / RD / Peto log OR and variances, as rma.mh and rma.peto compute them.

    That is escalc(add=1/2, to="only0", drop00=TRUE): note drop00 applies to the RD as well.
    """
    a, b, c, d = _corrected(ai, bi, ci, di)
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            yi = np.log(a * d / (b * c))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        elif measure == "RR":
            yi = np.log((a / n1) / (c / n2))
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
        elif measure == "RD":
            p1, p2 = a / n1, c / n2
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        elif measure == "PETO":
            n = n1 + n2
            xt, yt = a + c, b + d
            expected = xt * n1 / n
            variance = xt * yt * (n1 / n) * (n2 / n) / (n - 1)
            yi = (a - expected) / variance
            vi = 1 / variance
        else:  # pragma: no cover - callers validate the measure
            raise InputError.unknown("measure", measure, (*MH_MEASURES, "PETO"))
    drop = _double_zero(ai, bi, ci, di)
    return np.where(drop, np.nan, yi), np.where(drop, np.nan, vi)


def _heterogeneity(
    yi: np.ndarray, vi: np.ndarray, estimate: float
) -> tuple[float, int, float, float, float, int]:
    """Cochran's Q of the per-study outcomes around a fixed estimate, with I² and H² (metafor rma.mh)."""
    ok = np.isfinite(yi) & np.isfinite(vi)
    k_yi = int(ok.sum())
    if k_yi <= 1 or not np.isfinite(estimate):
        return 0.0, max(k_yi - 1, 0), 1.0, 0.0, 1.0, k_yi
    q = max(0.0, float(np.sum((yi[ok] - estimate) ** 2 / vi[ok])))
    df = k_yi - 1
    return q, df, float(stats.chi2.sf(q, df)), _i2(q, df), q / df, k_yi


def _i2(q: float, df: int) -> float:
    return max(0.0, 100 * (q - df) / q) if q > 0 else 0.0


def _wald(estimate: float, se: float, level: float) -> tuple[float, float, float, float]:
    crit = stats.norm.isf((1 - level / 100) / 2)
    z = estimate / se
    return z, float(2 * stats.norm.sf(abs(z))), estimate - crit * se, estimate + crit * se


def _check_level(level: float) -> float:
    level = float(level)
    if not 0 < level < 100:
        raise InputError("level", "must be a percentage between 0 and 100", value=level)
    return level


def mantel_haenszel(
    ai, bi, ci, di, measure: str = "OR", level: float = 95, correct: bool = True
) -> BinaryPoolResult:
    """Mantel-Haenszel fixed-effect pooling of 2x2 tables, as metafor's ``rma.mh``.

    Variances: Robins-Breslow-Greenland for the log OR, Greenland-Robins for the log RR and Sato's
    (as used by metafor) for the RD. For the OR it adds the Cochran and Cochran-Mantel-Haenszel tests
    (with continuity correction when ``correct``), and the Breslow-Day test of homogeneity with and
    without Tarone's correction.
    """
    measure = str(measure).upper()
    if measure not in MH_MEASURES:
        raise InputError.unknown("measure", measure, MH_MEASURES)
    level = _check_level(level)
    ai, bi, ci, di = _tables(ai, bi, ci, di)
    n1, n2 = ai + bi, ci + di
    n = n1 + n2
    extra: dict[str, float | int] = {}
    nan = float("nan")

    if measure == "OR":
        p_i, q_i = ai / n + di / n, bi / n + ci / n
        r_i, s_i = (ai / n) * di, (bi / n) * ci
        r, s = r_i.sum(), s_i.sum()
        if r == 0 or s == 0:
            estimate = se = nan
        else:
            estimate = float(np.log(r / s))
            se = float(
                np.sqrt(
                    0.5
                    * (
                        np.sum(p_i * r_i) / r**2
                        + np.sum(p_i * s_i + q_i * r_i) / (r * s)
                        + np.sum(q_i * s_i) / s**2
                    )
                )
            )
        extra.update(_association_tests(ai, ci, n1, n2, n, correct))
        extra.update(_breslow_day(ai, ci, n1, n2, n, estimate))
    elif measure == "RR":
        r, s = np.sum(ai * (n2 / n)), np.sum(ci * (n1 / n))
        if ai.sum() == 0 or ci.sum() == 0:
            estimate = se = nan
        else:
            estimate = float(np.log(r / s))
            se = float(np.sqrt(np.sum((n1 / n) * (n2 / n) * (ai + ci) - (ai / n) * ci) / (r * s)))
    else:  # RD
        weight_sum = np.sum(n1 * (n2 / n))
        estimate = float(np.sum(ai * (n2 / n) - ci * (n1 / n)) / weight_sum)
        numerator = estimate * np.sum(
            ci * (n1 / n) ** 2 - ai * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2
        )
        numerator += np.sum(ai * (n2 - ci) / n + ci * (n1 - ai) / n) / 2
        se = float(np.sqrt(numerator / weight_sum**2))

    if np.isfinite(estimate):
        z, pvalue, low, high = _wald(estimate, se, level)
    else:
        z = pvalue = low = high = nan
    yi, vi = study_outcomes(ai, bi, ci, di, measure)
    q, q_df, q_p, i2, h2, k_yi = _heterogeneity(yi, vi, estimate)
    return BinaryPoolResult(
        method="MH",
        measure=measure,
        k=int(ai.size),
        k_yi=k_yi,
        estimate=estimate,
        se=se,
        z=z,
        pvalue=pvalue,
        ci_low=low,
        ci_high=high,
        level=level,
        q=q,
        q_df=q_df,
        q_pvalue=q_p,
        i2=i2,
        h2=h2,
        yi=yi,
        vi=vi,
        **extra,
    )


def _association_tests(ai, ci, n1, n2, n, correct: bool) -> dict[str, float]:
    """Cochran (variance with N) and Cochran-Mantel-Haenszel (variance with N-1) tests of a common OR of 1."""
    xt = ai + ci
    yt = n - xt
    nan = float("nan")
    if xt.sum() == 0 or yt.sum() == 0:
        return {"cochran": nan, "cochran_pvalue": nan, "cmh": nan, "cmh_pvalue": nan}
    deviation = (abs(np.sum(ai - (n1 / n) * xt)) - (0.5 if correct else 0.0)) ** 2
    cochran = float(deviation / np.sum((n1 / n) * (n2 / n) * (xt * (yt / n))))
    cmh = float(deviation / np.sum((n1 / n) * (n2 / n) * (xt * (yt / (n - 1)))))
    return {
        "cochran": cochran,
        "cochran_pvalue": float(stats.chi2.sf(cochran, 1)),
        "cmh": cmh,
        "cmh_pvalue": float(stats.chi2.sf(cmh, 1)),
    }


def _breslow_day(ai, ci, n1, n2, n, estimate: float) -> dict[str, float | int]:
    """Breslow-Day homogeneity test of the odds ratios around the MH estimate, and Tarone's correction.

    The expected count in each table solves the quadratic for a table with the pooled odds ratio and
    the observed margins; tables without a positive expected count or without events/non-events drop out.
    """
    nan = float("nan")
    if not np.isfinite(estimate):
        return {
            "breslow_day": nan,
            "breslow_day_pvalue": nan,
            "tarone": nan,
            "tarone_pvalue": nan,
            "k_pos": 0,
        }
    odds = float(np.exp(estimate))
    xt = ai + ci
    yt = n - xt
    if odds == 1:
        expected = (n1 / n) * xt
    else:
        a = odds * (n1 + xt) + (n2 - xt)
        b = np.sqrt(a**2 - 4 * n1 * xt * odds * (odds - 1))
        expected = (a - b) / (2 * (odds - 1))
    pos = (expected > 0) & (xt > 0) & (yt > 0)
    e11 = expected[pos]
    e12 = n1[pos] - e11
    e21 = xt[pos] - e11
    e22 = e11 - n1[pos] - xt[pos] + n[pos]
    var = 1 / (1 / e11 + 1 / e12 + 1 / e21 + 1 / e22)
    dev = ai[pos] - e11
    k_pos = int(pos.sum())
    breslow_day = max(0.0, float(np.sum(dev**2 / var)))
    tarone = max(0.0, breslow_day - float(np.sum(dev) ** 2 / np.sum(var))) if k_pos else nan
    if k_pos > 1:
        bd_p, ta_p = float(stats.chi2.sf(breslow_day, k_pos - 1)), float(stats.chi2.sf(tarone, k_pos - 1))
    else:
        bd_p = ta_p = nan
    return {
        "breslow_day": breslow_day,
        "breslow_day_pvalue": bd_p,
        "tarone": tarone,
        "tarone_pvalue": ta_p,
        "k_pos": k_pos,
    }


def peto(ai, bi, ci, di, level: float = 95) -> BinaryPoolResult:
    """Peto's one-step odds ratio (log scale), as metafor's ``rma.peto``.

    Observed minus expected events in the treated arm over the hypergeometric variance, summed across
    tables; Q is the usual Peto heterogeneity statistic over tables with a non-zero variance.
    """
    level = _check_level(level)
    ai, bi, ci, di = _tables(ai, bi, ci, di)
    n1, n2 = ai + bi, ci + di
    n = n1 + n2
    xt, yt = ai + ci, bi + di
    expected = xt * n1 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = np.where(n > 1, xt * yt * (n1 / n) * (n2 / n) / (n - 1), 0.0)
    total_var = float(variance.sum())
    if total_var == 0:
        raise InputError("ai", "Peto's method needs at least one table with events and non-events")
    observed_minus_expected = ai - expected
    estimate = float(observed_minus_expected.sum() / total_var)
    se = float(np.sqrt(1 / total_var))
    z, pvalue, low, high = _wald(estimate, se, level)
    informative = variance > 0
    q = max(
        0.0,
        float(
            np.sum(observed_minus_expected[informative] ** 2 / variance[informative])
            - observed_minus_expected.sum() ** 2 / total_var
        ),
    )
    yi, vi = study_outcomes(ai, bi, ci, di, "PETO")
    k_yi = int(np.isfinite(yi).sum())
    if k_yi > 1:
        q_df = k_yi - 1
        q_p, i2, h2 = float(stats.chi2.sf(q, q_df)), _i2(q, q_df), q / q_df
    else:
        q, q_df, q_p, i2, h2 = 0.0, 0, 1.0, 0.0, 1.0
    return BinaryPoolResult(
        method="Peto",
        measure="PETO",
        k=int(ai.size),
        k_yi=k_yi,
        estimate=estimate,
        se=se,
        z=z,
        pvalue=pvalue,
        ci_low=low,
        ci_high=high,
        level=level,
        q=q,
        q_df=q_df,
        q_pvalue=q_p,
        i2=i2,
        h2=h2,
        yi=yi,
        vi=vi,
        k_pos=int(informative.sum()),
    )
