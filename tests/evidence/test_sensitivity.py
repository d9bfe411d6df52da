"""Leave-one-out, cumulative meta-analysis and influence diagnostics against metafor (leave1out, cumul, influence)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dryneedling.errors import InputError
from dryneedling.evidence.pooling import pool
from dryneedling.evidence.sensitivity import cumulative, influence, leave_one_out

from .metafor_reference_b import BCG, SENSITIVITY

RTOL = 1e-6
MODELS = {"bcg_re": ("REML", "z"), "bcg_knha": ("REML", "knha"), "bcg_dl": ("DL", "z")}
YI, VI = np.array(BCG["yi"]), np.array(BCG["vi"])


def _assert_column(actual, key):
    np.testing.assert_allclose(actual, SENSITIVITY[key], rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("model", MODELS)
def test_it_matches_metafor_leave1out(model):
    method, test = MODELS[model]
    table = leave_one_out(YI, VI, method=method, test=test, labels=BCG["author"])
    for r_name, column in [
        ("estimate", "estimate"),
        ("se", "se"),
        ("zval", "stat"),
        ("pval", "pvalue"),
        ("ci.lb", "ci_low"),
        ("ci.ub", "ci_high"),
        ("Q", "q"),
        ("Qp", "q_pvalue"),
        ("tau2", "tau2"),
        ("I2", "i2"),
        ("H2", "h2"),
    ]:
        if r_name == "zval" and test == "knha":
            r_name = "tval"  # metafor names the Knapp-Hartung statistic t
        _assert_column(table.column(column), f"leave1out({model})${r_name}")
    assert table.labels == tuple(BCG["author"])


@pytest.mark.parametrize("model", MODELS)
def test_it_matches_metafor_cumul_ordered_by_year(model):
    method, test = MODELS[model]
    table = cumulative(YI, VI, method=method, test=test, order_by=BCG["year"])
    for r_name, column in [
        ("estimate", "estimate"),
        ("se", "se"),
        ("ci.lb", "ci_low"),
        ("ci.ub", "ci_high"),
        ("pval", "pvalue"),
        ("Q", "q"),
        ("tau2", "tau2"),
        ("I2", "i2"),
    ]:
        _assert_column(table.column(column), f"cumul({model}, order=bcg$year)${r_name}")
    assert [p + 1 for p in table.positions] == SENSITIVITY["order(bcg$year)"]


def test_it_keeps_the_input_order_when_no_key_is_given():
    _assert_column(cumulative(YI, VI).column("estimate"), "cumul(bcg_re)$estimate")


@pytest.mark.parametrize("model", MODELS)
def test_it_matches_metafor_influence(model):
    method, test = MODELS[model]
    result = influence(YI, VI, method=method, test=test)
    for r_name, attribute in [
        ("rstudent", "rstudent"),
        ("dffits", "dffits"),
        ("cook.d", "cook_d"),
        ("cov.r", "cov_r"),
        ("tau2.del", "tau2_del"),
        ("QE.del", "qe_del"),
        ("hat", "hat"),
        ("weight", "weight"),
    ]:
        _assert_column(getattr(result, attribute), f"influence({model})$inf${r_name}")
    _assert_column(result.dfbetas, f"influence({model})$dfbs$intrcpt")


def test_it_flags_influential_studies_by_metafors_rule():
    result = influence(YI, VI)
    # Rule from metafor: |dffits| > 3 sqrt(1/(k-1)), P(chi2_1 < cook) > .5, hat > 3/k or |dfbetas| > 1
    k = YI.size
    expected = (
        (np.abs(result.dffits) > 3 * np.sqrt(1 / (k - 1)))
        | (result.hat > 3 / k)
        | (np.abs(result.dfbetas) > 1)
    )
    assert (expected <= result.influential).all()
    assert result.rows()[0]["study"] == "Study 1"


def test_it_rejects_mismatched_labels_and_keys():
    with pytest.raises(InputError) as caught:
        leave_one_out(YI, VI, labels=["a", "b"])
    assert caught.value.field == "labels"
    with pytest.raises(InputError) as caught:
        cumulative(YI, VI, order_by=[1, 2])
    assert caught.value.field == "order_by"


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(min_value=-3, max_value=3), st.floats(min_value=0.01, max_value=2)),
        min_size=2,
        max_size=12,
    ),
    st.sampled_from(["EE", "DL", "REML"]),
)
def test_it_gives_k_leave_one_out_results_each_equal_to_pooling_the_rest(rows, method):
    yi, vi = (np.array(col) for col in zip(*rows, strict=True))
    table = leave_one_out(yi, vi, method=method)
    assert len(table.results) == yi.size
    for i, result in enumerate(table.results):
        rest = pool(np.delete(yi, i), np.delete(vi, i), method=method)
        assert result.k == yi.size - 1
        assert result.estimate == rest.estimate
        assert result.tau2 == rest.tau2
