"""The interval arithmetic against known values: Clopper-Pearson against statsmodels and published figures,
funnel limits against hand-computed ones, quartiles against numpy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from dryneedling.outcomes.stats import (
    clopper_pearson,
    funnel_limits,
    funnel_position,
    proportion,
    quartiles,
    quartiles_from_counts,
    z_for,
)


def test_it_matches_known_exact_intervals():
    # Brady 2014: no significant event in 7,629 treatments -> upper limit 0.0483 %
    assert clopper_pearson(0, 7629) == (0.0, pytest.approx(0.000483417, abs=1e-9))
    # Closed forms: 0/n -> upper 1 - 0.025^(1/n); n/n -> lower 0.025^(1/n); 1/n -> lower 1 - 0.975^(1/n)
    assert clopper_pearson(0, 10) == (0.0, pytest.approx(1 - 0.025 ** (1 / 10), abs=1e-12))  # 0.3085
    assert clopper_pearson(10, 10) == (pytest.approx(0.025 ** (1 / 10), abs=1e-12), 1.0)  # 0.6915
    assert clopper_pearson(1, 10)[0] == pytest.approx(1 - 0.975 ** (1 / 10), abs=1e-12)  # 0.0025
    assert clopper_pearson(1, 10)[1] == pytest.approx(0.445016, abs=1e-6)  # tables of exact limits


@pytest.mark.parametrize(
    ("events", "total"),
    [(0, 1), (1, 1), (0, 7629), (1463, 7629), (20, 20494), (7531, 20464), (3, 17), (50, 100)],
)
@pytest.mark.parametrize("level", [0.95, 0.99])
def test_it_agrees_with_statsmodels_beta_method(events, total, level):
    expected = proportion_confint(events, total, alpha=1 - level, method="beta")
    assert clopper_pearson(events, total, level) == pytest.approx(expected, abs=1e-12)


@given(st.integers(min_value=1, max_value=5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_it_always_brackets_the_observed_rate(case):
    events, total = case
    low, high = clopper_pearson(events, total)
    assert 0 <= low <= events / total <= high <= 1


def test_it_refuses_impossible_counts_and_has_no_rate_without_treatments():
    with pytest.raises(ValueError):
        clopper_pearson(5, 4)
    empty = proportion(0, 0)
    assert empty.rate is None and empty.low is None


def test_it_computes_funnel_limits_by_hand():
    assert z_for(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert z_for(0.998) == pytest.approx(3.090232, abs=1e-6)
    # p0 0.2, n 100: se 0.04
    assert funnel_limits(0.2, 100, 0.95) == pytest.approx(
        (0.2 - 1.959964 * 0.04, 0.2 + 1.959964 * 0.04), abs=1e-6
    )
    assert funnel_limits(0.2, 100, 0.998) == pytest.approx(
        (0.2 - 3.090232 * 0.04, 0.2 + 3.090232 * 0.04), abs=1e-6
    )
    # clipped at 0: p0 0.01, n 10 -> 0.01 - 1.96 * 0.0315 < 0
    assert funnel_limits(0.01, 10, 0.95)[0] == 0.0


def test_it_places_a_unit_inside_or_outside_the_funnel():
    assert funnel_position(0.2, 0.2, 100) == "within"
    assert funnel_position(0.29, 0.2, 100) == "above_95"  # 0.2784 < 0.29 < 0.3236
    assert funnel_position(0.35, 0.2, 100) == "above_998"
    assert funnel_position(0.10, 0.2, 100) == "below_95"


def test_it_computes_quartiles_as_numpy_does():
    values = [0, 1, 1, 2, 3, 3, 3, 5, 8, 9]
    found = quartiles(values)
    assert (found.q1, found.median, found.q3) == tuple(np.percentile(values, [25, 50, 75]))
    assert quartiles([]).median is None


@given(st.dictionaries(st.integers(0, 10).map(float), st.integers(0, 30), min_size=1))
def test_it_computes_the_same_quartiles_from_counts(counts):
    expanded = [value for value, count in counts.items() for _ in range(count)]
    assert quartiles_from_counts(counts) == quartiles(expanded)
