"""Egger's regression test, Begg's rank test and trim-and-fill against metafor (regtest, ranktest, trimfill)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dryneedling.errors import InputError
from dryneedling.evidence.bias import egger_test, rank_test, trim_and_fill

from .metafor_reference_b import BCG, BIAS, HACKSHAW, TRIM_AND_FILL

RTOL = 1e-6
DATA = {"hack": HACKSHAW, "bcg": BCG}
# metafor model object -> (data set, method, test)
MODELS = {
    "hack_re": ("hack", "REML", "z"),
    "bcg_re": ("bcg", "REML", "z"),
    "hack_fe": ("hack", "FE", "z"),
    "bcg_knha": ("bcg", "REML", "knha"),
    "bcg_dl": ("bcg", "DL", "z"),
}


def _data(model):
    name, method, test = MODELS[model]
    return np.array(DATA[name]["yi"]), np.array(DATA[name]["vi"]), method, test


@pytest.mark.parametrize("model", ["hack_re", "bcg_re", "hack_fe", "bcg_knha"])
def test_it_matches_metafor_regtest_meta_regression_form(model):
    yi, vi, method, test = _data(model)
    result = egger_test(yi, vi, model="rma", method=method, test=test)
    assert result.stat == pytest.approx(BIAS[f"regtest({model})$zval"], rel=RTOL)
    assert result.pvalue == pytest.approx(BIAS[f"regtest({model})$pval"], rel=RTOL)
    assert result.limit_estimate == pytest.approx(BIAS[f"regtest({model})$est"], rel=RTOL)
    assert result.limit_ci_low == pytest.approx(BIAS[f"regtest({model})$ci.lb"], rel=RTOL)
    assert result.limit_ci_high == pytest.approx(BIAS[f"regtest({model})$ci.ub"], rel=RTOL)
    if test == "knha":
        assert result.df == BIAS[f"regtest({model})$dfs"]


@pytest.mark.parametrize("model", ["hack_re", "bcg_re"])
def test_it_matches_metafor_regtest_classic_weighted_regression(model):
    yi, vi, _, _ = _data(model)
    result = egger_test(yi, vi, model="lm")
    call = f'regtest({model}, model="lm")'
    assert result.stat == pytest.approx(BIAS[f"{call}$zval"], rel=RTOL)
    assert result.pvalue == pytest.approx(BIAS[f"{call}$pval"], rel=RTOL)
    assert result.df == BIAS[f"{call}$dfs"]
    assert result.limit_estimate == pytest.approx(BIAS[f"{call}$est"], rel=RTOL)
    assert result.limit_ci_low == pytest.approx(BIAS[f"{call}$ci.lb"], rel=RTOL)
    assert result.limit_ci_high == pytest.approx(BIAS[f"{call}$ci.ub"], rel=RTOL)


@pytest.mark.parametrize("model", ["hack_re", "bcg_re"])
def test_it_matches_metafor_ranktest(model):
    yi, vi, _, _ = _data(model)
    result = rank_test(yi, vi)
    assert result.tau == pytest.approx(BIAS[f"ranktest({model})$tau"], rel=RTOL)
    assert result.pvalue == pytest.approx(BIAS[f"ranktest({model})$pval"], rel=RTOL)
    assert result.exact


TRIMFILL_CASES = [
    ("hack_re", {}, ""),
    ("hack_fe", {}, ""),
    ("bcg_re", {}, ""),
    ("hack_re", {"estimator": "R0"}, 'estimator="R0", '),
    ("hack_fe", {"estimator": "R0"}, 'estimator="R0", '),
    ("bcg_re", {"side": "left"}, 'side="left", '),
    ("bcg_re", {"side": "right"}, 'side="right", '),
    ("bcg_dl", {}, ""),
]


@pytest.mark.parametrize(("model", "options", "r_options"), TRIMFILL_CASES)
def test_it_matches_metafor_trimfill(model, options, r_options):
    yi, vi, method, _ = _data(model)
    result = trim_and_fill(yi, vi, method=method, **options)
    call = f"trimfill({model}, {r_options}control=ctrl)"
    assert result.k0 == TRIM_AND_FILL[f"{call}$k0"]
    assert (result.side == "left") == bool(TRIM_AND_FILL[f'({call}$side == "left") + 0'])
    pooled = result.result
    for r_name, attribute in [
        ("beta", "estimate"),
        ("se", "se"),
        ("ci.lb", "ci_low"),
        ("ci.ub", "ci_high"),
        ("pval", "pvalue"),
        ("QE", "q"),
        ("I2", "i2"),
    ]:
        assert getattr(pooled, attribute) == pytest.approx(TRIM_AND_FILL[f"{call}${r_name}"], rel=RTOL)
    assert pooled.tau2 == pytest.approx(TRIM_AND_FILL[f"{call}$tau2"], rel=RTOL, abs=1e-12)
    np.testing.assert_allclose(
        result.filled_yi,
        TRIM_AND_FILL[f"{call}$yi[trimfill({model}, {r_options}control=ctrl)$fill]"],
        rtol=RTOL,
    )
    np.testing.assert_allclose(
        result.filled_vi,
        TRIM_AND_FILL[f"{call}$vi[trimfill({model}, {r_options}control=ctrl)$fill]"],
        rtol=RTOL,
    )
    assert result.result.k == yi.size + result.k0


def test_it_refuses_too_few_studies_and_unknown_options():
    with pytest.raises(InputError, match="at least 3"):
        egger_test([0.1, 0.2], [0.1, 0.1])
    with pytest.raises(InputError) as caught:
        trim_and_fill(HACKSHAW["yi"], HACKSHAW["vi"], estimator="Q9")
    assert caught.value.field == "estimator"
    with pytest.raises(InputError):
        egger_test(HACKSHAW["yi"], HACKSHAW["vi"], model="glm")


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(min_value=-2, max_value=2), st.floats(min_value=0.01, max_value=1)),
        min_size=4,
        max_size=12,
        unique_by=lambda row: row[1],
    )
)
def test_it_mirrors_trim_and_fill_when_the_effects_are_negated(rows):
    yi, vi = (np.array(col) for col in zip(*rows, strict=True))
    forward = trim_and_fill(yi, vi, method="FE", side="left")
    mirrored = trim_and_fill(-yi, vi, method="FE", side="right")
    assert mirrored.k0 == forward.k0
    assert mirrored.result.estimate == pytest.approx(-forward.result.estimate, abs=1e-9)
    np.testing.assert_allclose(np.sort(mirrored.filled_yi), np.sort(-forward.filled_yi), atol=1e-9)
