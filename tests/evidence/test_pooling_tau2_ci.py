"""tau2_ci(): Q-profile and profile-likelihood intervals against metafor's confint() (tight tolerance)."""

from __future__ import annotations

import math

import pytest

from dryneedling.errors import InputError
from dryneedling.evidence import tau2_ci

from .metafor_reference import DATASETS, TAU2_CI

RTOL = 1e-6
ATOL = 1e-9


@pytest.mark.parametrize("case", sorted(TAU2_CI), ids=lambda c: "-".join(c))
def test_tau2_ci_matches_metafor_confint(case):
    name, method, ci_type = case
    ref = TAU2_CI[case]
    data = DATASETS[name]
    ci = tau2_ci(data["yi"], data["vi"], method=method, type=ci_type)
    ours = {
        "tau2": (ci.tau2, ci.tau2_low, ci.tau2_high),
        "tau": (ci.tau, ci.tau_low, ci.tau_high),
        "i2": (ci.i2, ci.i2_low, ci.i2_high),
        "h2": (ci.h2, ci.h2_low, ci.h2_high),
    }
    mismatches = {
        key: (ours[key], ref[key])
        for key in ours
        if not all(
            math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL) for a, b in zip(ours[key], ref[key], strict=True)
        )
    }
    assert not mismatches, f"{ref['call']}: {mismatches}"


def test_reference_includes_zero_lower_bounds():
    assert any(ref["tau2"][1] == 0 for ref in TAU2_CI.values())
    assert any(ref["tau2"][1] > 0 for ref in TAU2_CI.values())


def test_interval_widens_with_level():
    data = DATASETS["bcg"]
    narrow = tau2_ci(data["yi"], data["vi"], level=80)
    wide = tau2_ci(data["yi"], data["vi"], level=99)
    assert wide.tau2_low < narrow.tau2_low < narrow.tau2 < narrow.tau2_high < wide.tau2_high


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"method": "EE"}, "method"),
        ({"method": "DL", "type": "PL"}, "method"),
        ({"type": "Wald"}, "type"),
    ],
)
def test_bad_requests_name_the_argument(kwargs, field):
    data = DATASETS["bcg"]
    with pytest.raises(InputError) as err:
        tau2_ci(data["yi"], data["vi"], **kwargs)
    assert err.value.field == field


def test_single_study_has_no_tau2_interval():
    with pytest.raises(InputError) as err:
        tau2_ci([0.2], [0.1])
    assert err.value.field == "yi"
