"""pool(): published BCG results, input errors and special cases (k = 1, identical effects, boundary)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dryneedling.errors import InputError
from dryneedling.evidence import METHODS, effect_sizes, pool, pool_many

# BCG vaccine trials (Colditz et al. 1994; metafor's dat.bcg): tpos, tneg, cpos, cneg
BCG = {
    "ai": [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27],
    "bi": [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886],
    "ci": [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29],
    "di": [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825],
}


@pytest.fixture(scope="module")
def bcg():
    return effect_sizes("RR", **BCG)


def test_bcg_reml_matches_published_metafor_output(bcg):
    # Viechtbauer (2010) J Stat Softw 36(3), section on dat.bcg: estimate -0.7145, tau^2 0.3132, I^2 92.22%
    res = pool(bcg.yi, bcg.vi, method="REML")
    assert res.k == 13
    assert round(res.estimate, 4) == -0.7145
    assert round(res.tau2, 4) == 0.3132
    assert round(res.i2, 2) == 92.22
    assert round(res.se, 4) == 0.1798
    assert round(res.q, 4) == 152.2330
    assert res.q_df == 12
    assert res.converged
    assert res.weights.sum() == pytest.approx(100.0)


def test_fe_is_an_alias_of_ee(bcg):
    fe = pool(bcg.yi, bcg.vi, method="FE")
    ee = pool(bcg.yi, bcg.vi, method="EE")
    assert fe.method == ee.method == "EE"
    assert fe.estimate == ee.estimate
    assert fe.tau2 == 0.0
    assert (fe.pi_low, fe.pi_high) == (fe.ci_low, fe.ci_high)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_gives_a_finite_result(bcg, method):
    res = pool(bcg.yi, bcg.vi, method=method)
    values = [
        res.estimate,
        res.se,
        res.ci_low,
        res.ci_high,
        res.tau2,
        res.i2,
        res.h2,
        res.pi_low,
        res.pi_high,
    ]
    assert all(math.isfinite(x) for x in values)
    assert res.ci_low < res.estimate < res.ci_high
    assert res.pi_low <= res.ci_low and res.pi_high >= res.ci_high


def test_knha_uses_t_with_k_minus_1_df(bcg):
    z = pool(bcg.yi, bcg.vi, method="REML", test="z")
    t = pool(bcg.yi, bcg.vi, method="REML", test="knha")
    assert t.df == 12 and z.df is None
    assert t.estimate == pytest.approx(z.estimate)
    assert t.ci_high - t.ci_low != pytest.approx(z.ci_high - z.ci_low)


def test_k_equal_one_falls_back_to_z_and_zero_tau2():
    res = pool([0.4], [0.04], method="REML", test="knha")
    assert res.k == 1 and res.tau2 == 0.0 and res.test == "z"
    assert res.estimate == 0.4 and res.se == pytest.approx(0.2)
    assert (res.i2, res.h2, res.q, res.q_pvalue) == (0.0, 1.0, 0.0, 1.0)
    assert "k = 1" in res.message


def test_identical_effects_give_tau2_zero_for_every_method():
    for method in METHODS:
        res = pool([0.3] * 6, [0.01, 0.02, 0.03, 0.04, 0.05, 0.06], method=method)
        assert res.tau2 == 0.0, method
        assert res.estimate == pytest.approx(0.3)


def test_dl_truncates_negative_tau2_at_zero():
    # Q well below k - 1: the untruncated DL moment estimate would be negative
    res = pool([0.1, 0.11, 0.09, 0.1], [0.5, 0.5, 0.5, 0.5], method="DL")
    assert res.tau2 == 0.0 and res.i2 == 0.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"yi": [1, 2, 3], "vi": [0.1, 0.1]}, "vi"),
        ({"yi": [1, 2], "vi": [0.1, 0.0]}, "vi"),
        ({"yi": [1, 2], "vi": [0.1, -1.0]}, "vi"),
        ({"yi": [], "vi": []}, "yi"),
        ({"yi": [1, float("nan")], "vi": [0.1, 0.1]}, "yi"),
        ({"yi": [1, 2], "vi": [0.1, float("inf")]}, "vi"),
        ({"yi": ["a", "b"], "vi": [0.1, 0.1]}, "yi"),
        ({"yi": [1, 2], "vi": [0.1, 0.1], "method": "XYZ"}, "method"),
        ({"yi": [1, 2], "vi": [0.1, 0.1], "test": "t"}, "test"),
        ({"yi": [1, 2], "vi": [0.1, 0.1], "level": 150}, "level"),
    ],
)
def test_bad_input_names_the_argument(kwargs, field):
    with pytest.raises(InputError) as err:
        pool(**kwargs)
    assert err.value.field == field


def test_unknown_method_lists_valid_choices():
    with pytest.raises(InputError) as err:
        pool([1, 2], [0.1, 0.1], method="REMl2")
    assert "REML" in err.value.choices


def test_level_accepts_percent_or_fraction(bcg):
    a = pool(bcg.yi, bcg.vi, level=90)
    b = pool(bcg.yi, bcg.vi, level=0.9)
    assert a.ci_low == b.ci_low and a.level == 90.0


def test_weights_are_percent_of_inverse_total_variance(bcg):
    res = pool(bcg.yi, bcg.vi, method="DL")
    w = 1 / (bcg.vi + res.tau2)
    np.testing.assert_allclose(res.weights, 100 * w / w.sum())


def test_dl_agrees_with_statsmodels_but_never_returns_a_negative_tau2():
    from statsmodels.stats.meta_analysis import combine_effects

    y = np.array([0.1, 0.2, 0.3, 0.1])
    v = np.array([0.5, 0.5, 0.5, 0.5])
    sm = combine_effects(y, v, method_re="chi2")
    assert sm.tau2 < 0  # statsmodels 0.15 reports the untruncated moment estimate
    ours = pool(y, v, method="DL")
    assert ours.tau2 == 0.0
    heterogeneous = effect_sizes("RR", **BCG)
    sm = combine_effects(heterogeneous.yi, heterogeneous.vi, method_re="chi2")
    ours = pool(heterogeneous.yi, heterogeneous.vi, method="DL")
    assert ours.tau2 == pytest.approx(sm.tau2, rel=1e-10)
    assert ours.estimate == pytest.approx(sm.mean_effect_re, rel=1e-10)


@pytest.mark.parametrize("method", ["REML", "ML", "PM", "EB"])
def test_bracketing_fallback_reaches_the_same_optimum(monkeypatch, bcg, method):
    """With the Newton iterations cut to 2, the brentq fallback (single fit and batch) must finish the job."""
    from dryneedling.evidence import _estimators, batch

    expected = pool(bcg.yi, bcg.vi, method=method)
    monkeypatch.setattr(_estimators, "MAXITER", 2)
    monkeypatch.setattr(batch, "MAXITER", 2)
    res = pool(bcg.yi, bcg.vi, method=method)
    assert res.converged and res.iterations > 2
    assert res.tau2 == pytest.approx(expected.tau2, rel=1e-9)
    many = batch.pool_many(np.tile(bcg.yi, 3), np.tile(bcg.vi, 3), np.repeat([1, 2, 3], bcg.k), method=method)
    np.testing.assert_allclose(many.tau2, expected.tau2, rtol=1e-9)
    assert many.converged.all()


@pytest.mark.parametrize(
    ("method", "tau2", "estimate"),
    [
        # y <- c(0, 1.25, -1); v <- c(1, 0.0625, 1)
        # rma(y, v, method="ML", control=list(threshold=1e-12))$tau2 -> 0.4191654 (coef 0.5424107)
        ("ML", 0.4191654, 0.5424107),
        # rma(y, v, method="REML", control=list(threshold=1e-12))$tau2 -> 0.9763953 (coef 0.3531162)
        ("REML", 0.9763953, 0.3531162),
    ],
)
def test_bimodal_likelihood_returns_the_global_maximum(method, tau2, estimate):
    """The ML likelihood here has a boundary maximum at 0 and a higher interior one (score < 0 at 0)."""
    y, v = [0.0, 1.25, -1.0], [1.0, 0.0625, 1.0]
    res = pool(y, v, method=method)
    assert res.tau2 == pytest.approx(tau2, rel=1e-6)
    assert res.estimate == pytest.approx(estimate, rel=1e-6)
    many = pool_many(y * 2, v * 2, [1, 1, 1, 2, 2, 2], method=method)
    np.testing.assert_allclose(many.tau2, tau2, rtol=1e-6)


def test_finds_an_interior_maximum_that_metafor_misses():
    """metafor stops at the boundary here; the interior maximum has the higher likelihood.

    y <- c(0, 0, 1); v <- c(1, 0.1875, 0.015625)
    rma(y, v, method="ML", control=list(threshold=1e-12))  -> tau2 0, logLik -2.721902
    logLik(rma(y, v, method="ML", tau2=0.1246397838776802)) -> -2.551361
    """
    from dryneedling.evidence._estimators import loglik

    y, v = np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.1875, 0.015625])
    res = pool(y, v, method="ML")
    assert res.tau2 == pytest.approx(0.1246397838776802, rel=1e-6)
    assert loglik(y, v, res.tau2, reml=False) == pytest.approx(-2.551361, abs=1e-6)
    assert loglik(y, v, 0.0, reml=False) == pytest.approx(-2.721902, abs=1e-6)
    assert "boundary maximum" in res.message


def test_result_converts_to_plain_json(bcg):
    import json

    data = pool(bcg.yi, bcg.vi, method="REML", test="knha").as_dict()
    text = json.dumps(data)
    assert json.loads(text)["df"] == 12
    assert len(data["weights"]) == 13 and data["tau"] == pytest.approx(math.sqrt(data["tau2"]))
