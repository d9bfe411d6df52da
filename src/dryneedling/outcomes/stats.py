"""Interval arithmetic for the dashboard: exact binomial intervals, quartiles and funnel limits.

- :func:`clopper_pearson`: the exact (Clopper-Pearson) interval of a proportion x/n from the beta
  distribution; 0/n has lower limit 0 and n/n upper limit 1 (the same as statsmodels'
  ``proportion_confint(method="beta")``).
- :func:`funnel_limits`: control limits of a funnel plot for proportions around a target p0 (Spiegelhalter,
  Statist Med 2005;24:1185-1202), normal approximation p0 +- z sqrt(p0 (1 - p0) / n), clipped to [0, 1], at
  95 % (z 1.96) and 99.8 % (z 3.09).
- :func:`quartiles`: median and quartiles by linear interpolation between order statistics (numpy's
  default, R type 7).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.special import betaincinv, ndtri

#: Two-sided coverage of the funnel's inner and outer limits.
FUNNEL_LEVELS = (0.95, 0.998)


@dataclass(frozen=True)
class Proportion:
    """x events among n, with the exact interval (None when n is 0)."""

    events: int
    total: int
    rate: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict:
        return {
            "events": self.events,
            "total": self.total,
            "rate": self.rate,
            "ci_low": self.low,
            "ci_high": self.high,
        }


def clopper_pearson(events: int, total: int, level: float = 0.95) -> tuple[float, float]:
    """The exact two-sided ``level`` interval for ``events`` successes in ``total`` trials."""
    if total <= 0 or not 0 <= events <= total:
        raise ValueError(f"need 0 <= events <= total and total > 0, got {events}/{total}")
    alpha = 1 - level
    # beta.ppf(q, a, b) is betaincinv(a, b, q); called directly it skips scipy.stats' argument machinery.
    low = 0.0 if events == 0 else float(betaincinv(events, total - events + 1, alpha / 2))
    high = 1.0 if events == total else float(betaincinv(events + 1, total - events, 1 - alpha / 2))
    return low, high


def proportion(events: int, total: int, level: float = 0.95) -> Proportion:
    if total == 0:
        return Proportion(events, total, None, None, None)
    low, high = clopper_pearson(events, total, level)
    return Proportion(events, total, events / total, low, high)


def z_for(level: float) -> float:
    """The normal quantile for a two-sided ``level`` (1.96 for 95 %, 3.09 for 99.8 %)."""
    return _FUNNEL_Z.get(level) or float(ndtri(1 - (1 - level) / 2))


#: The funnel's two quantiles, computed once at import (a funnel asks for them some hundred times).
_FUNNEL_Z = {level: float(ndtri(1 - (1 - level) / 2)) for level in FUNNEL_LEVELS}


def funnel_limits(p0: float, total: int, level: float) -> tuple[float, float]:
    """Lower and upper funnel limits for a unit with ``total`` cases around the target ``p0``."""
    if total <= 0:
        raise ValueError("total must be positive")
    half = z_for(level) * math.sqrt(p0 * (1 - p0) / total)
    return max(0.0, p0 - half), min(1.0, p0 + half)


def funnel_position(rate: float, p0: float, total: int) -> str:
    """Where a unit lies: ``within``, ``above_95``/``below_95`` or ``above_998``/``below_998``."""
    for level, name in ((FUNNEL_LEVELS[1], "998"), (FUNNEL_LEVELS[0], "95")):
        low, high = funnel_limits(p0, total, level)
        if rate > high:
            return f"above_{name}"
        if rate < low:
            return f"below_{name}"
    return "within"


@dataclass(frozen=True)
class Quartiles:
    n: int
    q1: float | None
    median: float | None
    q3: float | None

    def as_dict(self) -> dict:
        return {"n": self.n, "q1": self.q1, "median": self.median, "q3": self.q3}


def quantile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile of sorted values by linear interpolation (R type 7)."""
    position = (len(ordered) - 1) * q
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def quartiles(values: Sequence[float]) -> Quartiles:
    ordered = sorted(values)
    if not ordered:
        return Quartiles(0, None, None, None)
    return Quartiles(len(ordered), quantile(ordered, 0.25), quantile(ordered, 0.5), quantile(ordered, 0.75))


def quartiles_from_counts(counts: dict[float, int]) -> Quartiles:
    """Quartiles of values given as value -> how many (what a GROUP BY returns), without expanding them."""
    items = sorted((value, count) for value, count in counts.items() if count > 0)
    n = sum(count for _, count in items)
    if n == 0:
        return Quartiles(0, None, None, None)

    def at(index: int) -> float:
        seen = 0
        for value, count in items:
            seen += count
            if index < seen:
                return value
        return items[-1][0]

    def q(p: float) -> float:
        position = (n - 1) * p
        below = math.floor(position)
        low, high = at(below), at(min(below + 1, n - 1))
        return low + (high - low) * (position - below)

    return Quartiles(n, q(0.25), q(0.5), q(0.75))
