"""Meta-regression against metafor's rma(yi, vi, mods=...) on the BCG trials (absolute latitude, year)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dryneedling.errors import InputError
from dryneedling.evidence.meta_regression import meta_regression

from .metafor_reference_b import BCG, META_REGRESSION

RTOL = 1e-6
FIELDS = {
    "beta": "coef",
    "se": "se",
    "zval": "stat",
    "pval": "pvalue",
    "ci.lb": "ci_low",
    "ci.ub": "ci_high",
    "tau2": "tau2",
    "QM": "qm",
    "QMp": "qm_pvalue",
    "QE": "qe",
    "QEp": "qe_pvalue",
    "I2": "i2",
    "H2": "h2",
    "k": "k",
    "p": "p",
    "R2": "r2",
    "ddf": "df",
}
SPECS = [
    ("ablat", "REML", "z"),
    ("ablat", "REML", "knha"),
    ("ablat", "DL", "z"),
    ("ablat", "ML", "z"),
    ("ablat", "FE", "z"),
    ("ablat + year", "REML", "z"),
    ("ablat + year", "REML", "knha"),
]


def _call(mods: str, method: str, test: str) -> str:
    knha = ', test="knha"' if test == "knha" else ""
    return f'rma(yi, vi, mods=~{mods}, data=bcg, method="{method}"{knha}, control=ctrl)'


@pytest.mark.parametrize(("mods", "method", "test"), SPECS)
def test_it_matches_metafor_meta_regression(mods, method, test):
    columns = [BCG[name] for name in mods.split(" + ")]
    result = meta_regression(BCG["yi"], BCG["vi"], np.column_stack(columns), method=method, test=test)
    call = _call(mods, method, test)
    checked = 0
    for r_name, attribute in FIELDS.items():
        key = f"{call}${r_name}"
        if key not in META_REGRESSION:
            continue
        expected = META_REGRESSION[key]
        actual = getattr(result, attribute)
        if r_name == "tau2" and expected == 0:
            assert actual == 0
        else:
            np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=1e-10)
        checked += 1
    assert checked >= 15
    if test == "knha":
        assert [result.qm_df, result.df] == META_REGRESSION[f"{call}$QMdf"]


def test_it_reports_r2_as_missing_for_the_fixed_effects_model():
    result = meta_regression(BCG["yi"], BCG["vi"], BCG["ablat"], method="FE")
    assert result.r2 is None and result.tau2 == 0


def test_it_names_the_coefficients_and_serialises_them():
    result = meta_regression(BCG["yi"], BCG["vi"], BCG["ablat"], names=["ablat"])
    data = result.as_dict()
    assert [row["name"] for row in data["coefficients"]] == ["intercept", "ablat"]
    assert data["qm_df"] == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"method": "BAYES"}, "method"),
        ({"test": "t"}, "test"),
        ({"mods": np.column_stack([BCG["ablat"], np.array(BCG["ablat"]) * 2.0])}, "mods"),
        ({"mods": [1.0, 2.0]}, "mods"),
    ],
)
def test_it_rejects_bad_models_naming_the_field(kwargs, field):
    arguments = {"mods": BCG["ablat"], **kwargs}
    with pytest.raises(InputError) as caught:
        meta_regression(BCG["yi"], BCG["vi"], **arguments)
    assert caught.value.field == field


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=-2, max_value=2),
            st.floats(min_value=0.01, max_value=1),
        ),
        min_size=3,
        max_size=15,
    ),
    st.sampled_from(["EE", "DL", "REML", "ML"]),
)
def test_it_reduces_to_the_pooled_mean_without_moderators(rows, method):
    from dryneedling.evidence.pooling import pool

    yi, vi = (np.array(col) for col in zip(*rows, strict=True))
    regression = meta_regression(yi, vi, None, method=method)
    pooled = pool(yi, vi, method=method)
    assert regression.coef[0] == pytest.approx(pooled.estimate, rel=1e-6, abs=1e-9)
    assert regression.tau2 == pytest.approx(pooled.tau2, rel=1e-5, abs=1e-8)
    assert regression.qe == pytest.approx(pooled.q, rel=1e-9, abs=1e-9)


def test_it_finds_the_interior_ml_maximum_that_fisher_scoring_from_zero_misses():
    # Found by the property test: the ML likelihood has a local maximum at tau^2 = 0 (score slightly
    # negative there) and a higher one near 0.0164; an intercept-only model must agree with pool().
    from dryneedling.evidence.pooling import pool

    yi = np.array([0.3, 0, 0, 1.3, 0, 0.9, -0.1, 0.6, -0.5, 0.5, 1.6, 1.0])
    vi = np.array(
        [0.09823, 0.011702, 0.768612, 0.859836, 0.191885, 0.207452, 0.909823, 0.276016, 0.223577, 0.767927]
        + [0.86886, 0.54437]
    )
    regression = meta_regression(yi, vi, None, method="ML")
    pooled = pool(yi, vi, method="ML")
    assert pooled.tau2 > 0.01
    assert regression.tau2 == pytest.approx(pooled.tau2, rel=1e-6)
    assert regression.coef[0] == pytest.approx(pooled.estimate, rel=1e-6)
