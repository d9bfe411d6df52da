"""Study-level effect sizes and sampling variances, computed as metafor's ``escalc()`` does.

Argument names follow metafor (Viechtbauer 2010, J Stat Softw 36(3)): ``m1i sd1i n1i m2i sd2i n2i`` for
continuous outcomes, ``ai bi ci di`` (or ``ai n1i ci n2i``) for 2x2 tables, ``ri ni`` for correlations and
``xi ni`` (or ``xi mi``) for proportions. Group 1 is the treatment (needling) arm.

``convention="revman"`` switches to RevMan 5's formulas so a Cochrane review's printed analyses can be
reproduced: Hedges' g with the approximate correction ``1 - 3/(4N - 9)`` and variance
``N/(n1 n2) + g^2 / (2 (N - 3.94))``, and for OR/RR studies without events in either arm (or with events in
every participant of both arms) left out of the analysis, as RevMan does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import lgamma

import numpy as np

from dryneedling.errors import InputError
from dryneedling.evidence._validate import as_vector, choice, non_negative, positive, same_length
from dryneedling.evidence.names import MEASURES

CONVENTIONS: tuple[str, ...] = ("metafor", "revman")
_CONTINUOUS = ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")


@dataclass(slots=True)
class EffectSizes:
    """Effect sizes ``yi`` and sampling variances ``vi`` (numpy arrays) for the studies kept.

    ``kept`` holds the input positions of the studies in ``yi``/``vi``; ``excluded`` the positions left
    out (only under ``convention="revman"``: double-zero studies for OR/RR), with ``notes`` saying why.
    """

    measure: str
    yi: np.ndarray
    vi: np.ndarray
    convention: str = "metafor"
    kept: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))
    excluded: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))
    notes: tuple[str, ...] = ()

    @property
    def k(self) -> int:
        """Number of studies with an effect size."""
        return int(self.yi.shape[0])

    @property
    def sei(self) -> np.ndarray:
        """Standard errors, ``sqrt(vi)``."""
        return np.sqrt(self.vi)


def hedges_correction(df: np.ndarray) -> np.ndarray:
    """Exact small-sample bias correction J(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)) (Hedges 1981).

    This is metafor's ``.cmicalc``; ``df`` is ``n1 + n2 - 2``. Computed through log-gamma so that large
    samples do not overflow.
    """
    return np.array([np.exp(lgamma(m / 2) - 0.5 * np.log(m / 2) - lgamma((m - 1) / 2)) for m in df])


def effect_sizes(measure: str, convention: str = "metafor", **columns: object) -> EffectSizes:
    """Compute effect sizes for one of MD, SMD, ROM, RR, OR, RD, ZCOR, PLO, PR.

    Formulas (metafor ``escalc`` defaults, vtype="LS"):

    - MD: ``m1 - m2``; ``v = sd1^2/n1 + sd2^2/n2``.
    - SMD (Hedges' g, Hedges 1981): ``J(n1+n2-2) (m1 - m2)/s_pooled``; ``v = 1/n1 + 1/n2 + g^2/(2 (n1+n2))``.
    - ROM: ``log(m1/m2)``; ``v = sd1^2/(n1 m1^2) + sd2^2/(n2 m2^2)``.
    - RR, OR (log scale), RD from 2x2 counts; a study with any zero cell gets 1/2 added to each of its four
      cells (metafor ``add=1/2, to="only0"``).
    - ZCOR: Fisher's z ``atanh(r)``; ``v = 1/(n - 3)``.
    - PR: ``x/n``; ``v = p(1-p)/n``. PLO: ``log(x/(n-x))``; ``v = 1/x + 1/(n-x)`` (1/2 added on zero cells).
    """
    measure = choice("measure", measure, MEASURES)
    convention = choice(
        "convention", convention, CONVENTIONS, aliases={"METAFOR": "metafor", "REVMAN": "revman"}
    )
    if measure in ("MD", "SMD", "ROM"):
        return _continuous(measure, convention, columns)
    if measure in ("RR", "OR", "RD"):
        return _two_by_two(measure, convention, columns)
    # RevMan's conventions differ only for SMD and the OR/RR double-zero rule; other measures are shared
    es = _correlation(columns) if measure == "ZCOR" else _proportion(measure, columns)
    es.convention = convention
    return es


def _take(columns: dict[str, object], names: tuple[str, ...], measure: str) -> dict[str, np.ndarray]:
    missing = [n for n in names if columns.get(n) is None]
    if missing:
        raise InputError(missing[0], f"is required for measure {measure} (needs {', '.join(names)})")
    arrays = {n: as_vector(n, columns[n]) for n in names}
    same_length(arrays)
    return arrays


def _reject_unused(columns: dict[str, object], allowed: tuple[str, ...], measure: str) -> None:
    extra = sorted(n for n, v in columns.items() if v is not None and n not in allowed)
    if extra:
        raise InputError(extra[0], f"is not used by measure {measure}", value=extra[0], choices=list(allowed))


def _finish(
    measure: str,
    yi: np.ndarray,
    vi: np.ndarray,
    convention: str,
    kept: np.ndarray,
    excluded: np.ndarray | None = None,
    notes: tuple[str, ...] = (),
) -> EffectSizes:
    bad = ~np.isfinite(yi) | ~np.isfinite(vi) | (vi <= 0)
    if bad.any():
        pos = int(kept[np.flatnonzero(bad)[0]])
        raise InputError(
            "columns",
            f"study at position {pos} gives no usable {measure} (effect or variance undefined or zero)",
            value=pos,
        )
    return EffectSizes(
        measure=measure,
        yi=yi,
        vi=vi,
        convention=convention,
        kept=kept,
        excluded=excluded if excluded is not None else np.empty(0, dtype=int),
        notes=notes,
    )


def _continuous(measure: str, convention: str, columns: dict[str, object]) -> EffectSizes:
    _reject_unused(columns, _CONTINUOUS, measure)
    c = _take(columns, _CONTINUOUS, measure)
    m1, sd1, n1, m2, sd2, n2 = (c[n] for n in _CONTINUOUS)
    positive("n1i", n1)
    positive("n2i", n2)
    non_negative("sd1i", sd1)
    non_negative("sd2i", sd2)
    kept = np.arange(m1.shape[0])
    if measure == "MD":
        return _finish(measure, m1 - m2, sd1**2 / n1 + sd2**2 / n2, convention, kept)
    if measure == "ROM":
        ratio = m1 / np.where(m2 == 0, np.nan, m2)
        if not (ratio > 0).all():
            bad = int(np.flatnonzero(~(ratio > 0))[0])
            raise InputError(
                "m1i", f"ROM needs means of the same sign and non-zero (position {bad})", value=bad
            )
        vi = sd1**2 / (n1 * m1**2) + sd2**2 / (n2 * m2**2)
        return _finish(measure, np.log(ratio), vi, convention, kept)
    total = n1 + n2
    if (total <= 3).any():
        bad = int(np.flatnonzero(total <= 3)[0])
        raise InputError("n1i", f"SMD needs n1i + n2i > 3 (position {bad})", value=bad)
    sd_pooled = np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (total - 2))
    if (sd_pooled <= 0).any():
        bad = int(np.flatnonzero(sd_pooled <= 0)[0])
        raise InputError("sd1i", f"SMD needs a pooled SD > 0 (position {bad})", value=bad)
    d = (m1 - m2) / sd_pooled
    if convention == "revman":
        g = d * (1 - 3 / (4 * total - 9))
        vi = total / (n1 * n2) + g**2 / (2 * (total - 3.94))
    else:
        g = hedges_correction(total - 2) * d
        vi = 1 / n1 + 1 / n2 + g**2 / (2 * total)
    return _finish(measure, g, vi, convention, kept)


def _two_by_two(measure: str, convention: str, columns: dict[str, object]) -> EffectSizes:
    allowed = ("ai", "bi", "ci", "di", "n1i", "n2i")
    _reject_unused(columns, allowed, measure)
    if columns.get("bi") is None and columns.get("n1i") is not None:
        c = _take(columns, ("ai", "n1i", "ci", "n2i"), measure)
        a, cc = c["ai"], c["ci"]
        b, d = c["n1i"] - a, c["n2i"] - cc
        for name, arr in (("ai", b), ("ci", d)):
            if (arr < 0).any():
                bad = int(np.flatnonzero(arr < 0)[0])
                raise InputError(name, f"is larger than its group total (position {bad})", value=bad)
    else:
        c = _take(columns, ("ai", "bi", "ci", "di"), measure)
        a, b, cc, d = c["ai"], c["bi"], c["ci"], c["di"]
    for name, arr in (("ai", a), ("bi", b), ("ci", cc), ("di", d)):
        non_negative(name, arr)
    positive("n1i", a + b)
    positive("n2i", cc + d)
    kept = np.arange(a.shape[0])
    excluded = np.empty(0, dtype=int)
    notes: tuple[str, ...] = ()
    if convention == "revman" and measure in ("OR", "RR"):
        double = ((a == 0) & (cc == 0)) | ((b == 0) & (d == 0))
        if double.any():
            excluded = np.flatnonzero(double)
            notes = (
                f"{excluded.size} stud(ies) with no events (or only events) in both arms left out, as RevMan does",
            )
            keep = ~double
            kept, a, b, cc, d = kept[keep], a[keep], b[keep], cc[keep], d[keep]
            if kept.size == 0:
                raise InputError("ai", "every study has zero events in both arms; no OR/RR can be estimated")
    zero = (a == 0) | (b == 0) | (cc == 0) | (d == 0)
    add = np.where(zero, 0.5, 0.0)
    a, b, cc, d = a + add, b + add, cc + add, d + add
    n1, n2 = a + b, cc + d
    p1, p2 = a / n1, cc / n2
    if measure == "RR":
        yi = np.log(p1) - np.log(p2)
        vi = 1 / a - 1 / n1 + 1 / cc - 1 / n2
    elif measure == "OR":
        yi = np.log(a * d / (b * cc))
        vi = 1 / a + 1 / b + 1 / cc + 1 / d
    else:
        yi = p1 - p2
        vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    return _finish(measure, yi, vi, convention, kept, excluded, notes)


def _correlation(columns: dict[str, object]) -> EffectSizes:
    _reject_unused(columns, ("ri", "ni"), "ZCOR")
    c = _take(columns, ("ri", "ni"), "ZCOR")
    r, n = c["ri"], c["ni"]
    if (np.abs(r) >= 1).any():
        bad = int(np.flatnonzero(np.abs(r) >= 1)[0])
        raise InputError(
            "ri", f"correlations must lie strictly between -1 and 1 (position {bad})", value=float(r[bad])
        )
    if (n <= 3).any():
        bad = int(np.flatnonzero(n <= 3)[0])
        raise InputError("ni", f"ZCOR needs ni > 3 (position {bad})", value=float(n[bad]))
    return _finish("ZCOR", np.arctanh(r), 1 / (n - 3), "metafor", np.arange(r.shape[0]))


def _proportion(measure: str, columns: dict[str, object]) -> EffectSizes:
    _reject_unused(columns, ("xi", "ni", "mi"), measure)
    if columns.get("ni") is None and columns.get("mi") is not None:
        c = _take(columns, ("xi", "mi"), measure)
        x, m = c["xi"], c["mi"]
    else:
        c = _take(columns, ("xi", "ni"), measure)
        x, m = c["xi"], c["ni"] - c["xi"]
        if (m < 0).any():
            bad = int(np.flatnonzero(m < 0)[0])
            raise InputError("xi", f"is larger than ni (position {bad})", value=bad)
    non_negative("xi", x)
    non_negative("mi", m)
    positive("ni", x + m)
    add = np.where((x == 0) | (m == 0), 0.5, 0.0)
    x, m = x + add, m + add
    n = x + m
    p = x / n
    if measure == "PR":
        yi, vi = p, p * (1 - p) / n
    else:
        yi, vi = np.log(x / m), 1 / x + 1 / m
    return _finish(measure, yi, vi, "metafor", np.arange(x.shape[0]))
