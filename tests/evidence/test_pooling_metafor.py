"""pool() against tightly converged metafor 3.8 rma() for every estimator, both tests, 10 data sets.

Reference numbers and the R calls that produced them: tests/evidence/metafor_reference.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dryneedling.evidence import pool

from .metafor_reference import DATASETS, FISHER_FAILURES, POOL

RTOL = 1e-6
# tau^2 at the zero boundary and p-values far in the tail are compared on an absolute scale
ATOL = 1e-9

SCALAR_FIELDS = (
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "stat",
    "pvalue",
    "tau2",
    "i2",
    "h2",
    "q",
    "q_pvalue",
    "pi_low",
    "pi_high",
)


def _close(ours: float, theirs: float | None, atol: float = ATOL) -> bool:
    if theirs is None:
        return False
    return math.isclose(ours, theirs, rel_tol=RTOL, abs_tol=atol)


@pytest.mark.parametrize("case", sorted(POOL), ids=lambda c: "-".join(c))
def test_pool_matches_metafor(case):
    name, method, test = case
    ref = POOL[case]
    data = DATASETS[name]
    res = pool(data["yi"], data["vi"], method=method, test=test)
    assert res.converged, res.message
    fields = SCALAR_FIELDS
    if method == "EE":
        # metafor's predict() gives no prediction interval for an equal-effects model; ours equals the CI
        assert ref["pi_low"] is None
        assert (res.pi_low, res.pi_high) == (res.ci_low, res.ci_high)
        fields = tuple(f for f in SCALAR_FIELDS if not f.startswith("pi_"))
    mismatches = {
        field: (getattr(res, field), ref[field])
        for field in fields
        if not _close(getattr(res, field), ref[field])
    }
    assert not mismatches, f"{ref['call']}: {mismatches}"
    np.testing.assert_allclose(res.weights, ref["weights"], rtol=RTOL, atol=ATOL)
    assert res.df == (len(data["yi"]) - 1 if test == "knha" else None)


def test_reference_covers_every_method_and_test():
    methods = {m for _, m, _ in POOL}
    tests = {t for _, _, t in POOL}
    assert methods == {"EE", "DL", "REML", "ML", "PM", "HE", "SJ", "EB", "HS"}
    assert tests == {"z", "knha"}
    # at least one data set where REML sits on the tau^2 = 0 boundary
    assert any(POOL[(n, "REML", "z")]["tau2"] == 0 for n in DATASETS)


@pytest.mark.parametrize("index", range(len(FISHER_FAILURES)))
def test_converges_where_metafor_default_fisher_scoring_fails(index):
    case = FISHER_FAILURES[index]
    assert "did not converge" in case["default_error"]  # metafor's rma() with default control
    res = pool(case["yi"], case["vi"], method="REML")
    assert res.converged
    assert res.tau2 == pytest.approx(case["tau2"], rel=RTOL)
    assert res.estimate == pytest.approx(case["estimate"], rel=RTOL)
    assert res.se == pytest.approx(case["se"], rel=RTOL)
