"""Subgroup analysis of the BCG trials by allocation method, against metafor."""

from __future__ import annotations

import numpy as np
import pytest

from dryneedling.errors import InputError
from dryneedling.evidence.pooling import pool
from dryneedling.evidence.subgroup import subgroup

from .metafor_reference_b import BCG, SUBGROUP

RTOL = 1e-6
YI, VI, ALLOC = np.array(BCG["yi"]), np.array(BCG["vi"]), BCG["alloc"]


def test_it_pools_each_group_as_metafor_does_with_a_subset():
    result = subgroup(YI, VI, ALLOC, method="REML")
    assert result.names == ("alternate", "random", "systematic")
    for name in result.names:
        group = result.groups[name]
        for r_name, attribute in [
            ("beta", "estimate"),
            ("se", "se"),
            ("ci.lb", "ci_low"),
            ("ci.ub", "ci_high"),
            ("QE", "q"),
            ("I2", "i2"),
            ("k", "k"),
        ]:
            assert getattr(group, attribute) == pytest.approx(
                SUBGROUP[f"sub_{name}${r_name}"], rel=RTOL, abs=1e-12
            )
        assert group.tau2 == pytest.approx(SUBGROUP[f"sub_{name}$tau2"], rel=RTOL, abs=1e-12)
    assert result.positions["alternate"] == (4, 5)


def test_it_gives_revmans_test_with_a_separate_tau2_per_group():
    result = subgroup(YI, VI, ALLOC, method="REML")
    assert result.separate.q == pytest.approx(SUBGROUP['rma(sub_est, sei=sub_se, method="FE")$QE'], rel=RTOL)
    assert result.separate.pvalue == pytest.approx(
        SUBGROUP['rma(sub_est, sei=sub_se, method="FE")$QEp'], rel=RTOL
    )
    assert result.separate.df == 2


def test_it_gives_the_mixed_effects_test_with_a_common_tau2():
    result = subgroup(YI, VI, ALLOC, method="REML")
    call = 'rma(yi, vi, mods=~factor(alloc), data=bcg, method="REML", control=ctrl)'
    assert result.common.q == pytest.approx(SUBGROUP[f"{call}$QM"], rel=RTOL)
    assert result.common.pvalue == pytest.approx(SUBGROUP[f"{call}$QMp"], rel=RTOL)
    assert result.regression.tau2 == pytest.approx(SUBGROUP[f"{call}$tau2"], rel=RTOL)


def test_it_gives_the_fixed_effect_between_groups_test_as_total_minus_within_q():
    result = subgroup(YI, VI, ALLOC, method="EE")
    expected = SUBGROUP['rma(yi, vi, mods=~factor(alloc), data=bcg, method="FE")$QM']
    assert result.common.q == pytest.approx(expected, rel=RTOL)
    assert result.separate.q == pytest.approx(expected, rel=RTOL)
    within = sum(
        SUBGROUP[f'rma(yi, vi, data=bcg, method="FE", subset=alloc=="{g}")$QE'] for g in result.names
    )
    assert result.overall.q - within == pytest.approx(expected, rel=RTOL)
    assert result.groups["random"].estimate == pytest.approx(
        SUBGROUP['rma(yi, vi, data=bcg, method="FE", subset=alloc=="random")$beta'], rel=RTOL
    )


def test_it_equals_pooling_everything_for_the_overall_result():
    result = subgroup(YI, VI, ALLOC)
    assert result.overall.estimate == pool(YI, VI).estimate
    assert result.as_dict()["groups"][0]["group"] == "alternate"


def test_it_needs_two_groups_and_one_group_per_study():
    with pytest.raises(InputError, match="two different groups"):
        subgroup(YI, VI, ["same"] * YI.size)
    with pytest.raises(InputError) as caught:
        subgroup(YI, VI, ALLOC[:3])
    assert caught.value.field == "groups"
