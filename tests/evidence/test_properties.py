"""Property tests for pool()/pool_many(): invariances, special cases, extremes, and REML convergence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dryneedling.evidence import METHODS, pool, pool_many

ITERATIVE = ("REML", "ML", "PM", "EB")

effects = st.floats(min_value=-5, max_value=5, allow_nan=False, allow_infinity=False)
variances = st.floats(min_value=1e-3, max_value=5, allow_nan=False, allow_infinity=False)


@st.composite
def datasets(draw, min_k=1, max_k=25):
    k = draw(st.integers(min_value=min_k, max_value=max_k))
    y = np.array(draw(st.lists(effects, min_size=k, max_size=k)))
    v = np.array(draw(st.lists(variances, min_size=k, max_size=k)))
    return y, v


methods = st.sampled_from(METHODS)
tests = st.sampled_from(("z", "knha"))


def _close(a: float, b: float, scale: float = 1.0, rel: float = 1e-7) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel * scale)


def _reml_score(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float]:
    """REML score (y'PPy - tr P)/2 and its scale tr P, from the explicit projection matrix (independent code)."""
    w = 1.0 / (v + tau2)
    big_w = np.diag(w)
    p = big_w - np.outer(w, w) / w.sum()
    return 0.5 * (y @ p @ p @ y - np.trace(p)), np.trace(p)


@settings(max_examples=60, deadline=None)
@given(data=datasets(min_k=2), method=methods, test=tests, seed=st.integers(0, 2**32 - 1))
def test_permutation_invariance(data, method, test, seed):
    y, v = data
    perm = np.random.default_rng(seed).permutation(y.shape[0])
    a = pool(y, v, method=method, test=test)
    b = pool(y[perm], v[perm], method=method, test=test)
    scale = float(np.mean(v))
    assert _close(a.tau2, b.tau2, scale)
    assert _close(a.estimate, b.estimate, math.sqrt(scale))
    assert _close(a.ci_high, b.ci_high, math.sqrt(scale))
    np.testing.assert_allclose(a.weights[perm], b.weights, rtol=1e-6, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(data=datasets(min_k=2), method=methods, shift=st.floats(-100, 100), factor=st.floats(1e-2, 1e2))
def test_location_and_scale_equivariance(data, method, shift, factor):
    y, v = data
    base = pool(y, v, method=method)
    moved = pool(factor * y + shift, factor**2 * v, method=method)
    scale = float(np.mean(v))
    assert _close(
        moved.estimate, factor * base.estimate + shift, factor * math.sqrt(scale) + abs(shift), 1e-6
    )
    assert _close(moved.tau2, factor**2 * base.tau2, factor**2 * scale, 1e-6)
    assert _close(moved.se, factor * base.se, factor * math.sqrt(scale), 1e-6)
    assert _close(moved.i2, base.i2, 100, 1e-6)
    assert _close(moved.q, base.q, max(1.0, base.q), 1e-6)


@settings(max_examples=40, deadline=None)
@given(y=effects, v=variances, method=methods, test=tests)
def test_single_study_returns_itself(y, v, method, test):
    res = pool([y], [v], method=method, test=test)
    assert res.k == 1 and res.tau2 == 0.0 and res.test == "z"
    assert res.estimate == pytest.approx(y, abs=1e-12)
    assert res.se == pytest.approx(math.sqrt(v))
    assert res.weights.tolist() == pytest.approx([100.0])


@settings(max_examples=40, deadline=None)
@given(value=effects, v=st.lists(variances, min_size=2, max_size=20), method=methods)
def test_identical_effects_have_no_heterogeneity(value, v, method):
    res = pool([value] * len(v), v, method=method)
    assert res.tau2 == 0.0
    assert res.q == pytest.approx(0.0, abs=1e-9)
    assert res.i2 == 0.0
    assert res.estimate == pytest.approx(value, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(2, 30),
    log_v=st.floats(-8, 4),
    spread=st.floats(1e-6, 1e6),
    center=st.floats(-1e6, 1e6),
    method=methods,
    seed=st.integers(0, 2**32 - 1),
)
def test_extreme_scales_converge_to_finite_results(k, log_v, spread, center, method, seed):
    rng = np.random.default_rng(seed)
    v = 10.0**log_v * rng.uniform(0.5, 2.0, size=k)
    y = center + spread * rng.standard_normal(k)
    assume(np.ptp(y) > 0)
    res = pool(y, v, method=method)
    assert res.converged, res.message
    for value in (res.estimate, res.se, res.tau2, res.i2, res.h2, res.q, res.pi_low, res.pi_high, res.pvalue):
        assert math.isfinite(value)
    assert res.tau2 >= 0 and 0 <= res.i2 <= 100 and 0 <= res.pvalue <= 1


@settings(max_examples=25, deadline=None)
@given(
    groups=st.lists(datasets(min_k=1, max_k=12), min_size=1, max_size=8),
    method=methods,
    test=tests,
)
def test_pool_many_equals_pool_per_group(groups, method, test):
    y = np.concatenate([g[0] for g in groups])
    v = np.concatenate([g[1] for g in groups])
    ids = np.concatenate([[i] * g[0].shape[0] for i, g in enumerate(groups)])
    batch = pool_many(y, v, ids, method=method, test=test)
    for index, (gy, gv) in enumerate(groups):
        single = pool(gy, gv, method=method, test=test)
        scale = float(np.mean(gv))
        assert _close(batch.tau2[index], single.tau2, scale, 1e-8)
        assert _close(batch.estimate[index], single.estimate, math.sqrt(scale), 1e-8)
        assert _close(batch.se[index], single.se, math.sqrt(scale), 1e-8)
        assert _close(batch.pi_low[index], single.pi_low, math.sqrt(scale), 1e-8)
        assert _close(batch.i2[index], single.i2, 100, 1e-8)


def test_reml_converges_on_300_ordinary_k20_datasets():
    """metafor's default Fisher scoring fails on a small share of such data sets; ours must not."""
    rng = np.random.default_rng(20261121)
    boundary = 0
    for _ in range(300):
        v = rng.chisquare(3, size=20) / 20 + 0.01
        y = rng.normal(0.3, np.sqrt(v + rng.choice([0.0, 0.01, 0.1, 0.5])))
        res = pool(y, v, method="REML")
        assert res.converged, res.message
        if res.tau2 == 0.0:
            boundary += 1
            score0, _ = _reml_score(y, v, 0.0)
            assert score0 <= 1e-12, "tau^2 = 0 returned although the likelihood still rises"
        else:
            score, scale = _reml_score(y, v, res.tau2)
            assert abs(score) <= 1e-8 * scale
    assert 0 < boundary < 300  # both kinds of optimum were exercised
    batch = pool_many(
        np.concatenate([rng.normal(0, 1, 20) for _ in range(300)]),
        np.full(6000, 0.2),
        np.repeat(np.arange(300), 20),
    )
    assert batch.converged.all()


@pytest.mark.parametrize("method", ITERATIVE)
def test_iterative_methods_report_iterations(method):
    y = np.array([0.1, 0.5, -0.2, 0.9, 0.3])
    v = np.array([0.02, 0.05, 0.03, 0.04, 0.02])
    res = pool(y, v, method=method)
    assert res.converged and res.iterations >= 1 and res.tau2 > 0
