"""pool() and pool_many() run the same estimator code: each kernel agrees on a single analysis and on segments."""

from __future__ import annotations

import numpy as np
import pytest

from dryneedling.evidence import _estimators as est


def _data(seed: int = 7):
    rng = np.random.default_rng(seed)
    k = np.array([1, 2, 5, 13, 30])
    v = rng.chisquare(3, size=k.sum()) / 20 + 0.01
    y = rng.normal(0.3, np.sqrt(v + 0.05))
    return y, v, k


def _ones(y, v, k):
    starts = np.concatenate(([0], np.cumsum(k)[:-1]))
    return [est.One(y[s : s + n], v[s : s + n]) for s, n in zip(starts, k, strict=True)]


@pytest.mark.parametrize("name", sorted(est.CLOSED_FORMS))
def test_closed_forms_agree_on_one_analysis_and_on_segments(name):
    y, v, k = _data()
    many = est.CLOSED_FORMS[name](est.Segments(y, v, k))
    for index, one in enumerate(_ones(y, v, k)):
        if one.k > 1:  # k = 1 is fixed at 0 by the callers
            assert float(est.CLOSED_FORMS[name](one)) == pytest.approx(many[index], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("method", ["REML", "ML", "PM", "EB"])
def test_score_and_loglik_agree_on_one_analysis_and_on_segments(method):
    y, v, k = _data()
    tau2 = np.linspace(0.0, 0.2, k.shape[0])
    segments = est.Segments(y, v, k)
    many = est.score(segments, tau2, method)
    ll = est.group_loglik(segments, tau2, reml=method == "REML")
    for index, one in enumerate(_ones(y, v, k)):
        single = est.score(one, float(tau2[index]), method)
        for a, b in zip(single, many, strict=True):
            assert a == pytest.approx(b[index], rel=1e-9, abs=1e-9)
        assert float(est.group_loglik(one, float(tau2[index]), method == "REML")) == pytest.approx(
            ll[index], rel=1e-12
        )
