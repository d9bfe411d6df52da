"""Mantel-Haenszel and Peto pooling of 2x2 tables, checked against metafor's rma.mh and rma.peto."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dryneedling.errors import InputError
from dryneedling.evidence.binary import mantel_haenszel, peto

from .metafor_reference_b import BCG, MANTEL_HAENSZEL, NIEL, PETO, YUSUF

RTOL = 1e-6


def _tables(name: str) -> tuple[str, tuple[np.ndarray, ...]]:
    """The 2x2 tables of a metafor data set and the rma.mh/rma.peto argument text that produced its numbers."""
    if name == "bcg":
        cells = (BCG["tpos"], BCG["tneg"], BCG["cpos"], BCG["cneg"])
        return "ai=tpos, bi=tneg, ci=cpos, di=cneg, data=bcg", tuple(np.array(c, float) for c in cells)
    data = {"yusuf": YUSUF, "niel": NIEL}[name]
    keep = np.array([v is not None for v in data["ai"]])  # metafor drops the table with missing counts
    ai, n1, ci, n2 = (
        np.array([v for v, k in zip(data[c], keep, strict=True) if k], float)
        for c in ("ai", "n1i", "ci", "n2i")
    )
    return f"ai=ai, n1i=n1i, ci=ci, n2i=n2i, data={name}", (ai, n1 - ai, ci, n2 - ci)


def _close(actual, expected):
    if expected is None:
        assert np.isnan(actual)
    else:
        assert actual == pytest.approx(expected, rel=RTOL, abs=1e-12)


FIELDS = {
    "beta": "estimate",
    "se": "se",
    "zval": "z",
    "pval": "pvalue",
    "ci.lb": "ci_low",
    "ci.ub": "ci_high",
    "QE": "q",
    "QEp": "q_pvalue",
    "I2": "i2",
    "H2": "h2",
    "k.yi": "k_yi",
}
OR_FIELDS = {
    "CO": "cochran",
    "COp": "cochran_pvalue",
    "MH": "cmh",
    "MHp": "cmh_pvalue",
    "BD": "breslow_day",
    "BDp": "breslow_day_pvalue",
    "TA": "tarone",
    "TAp": "tarone_pvalue",
    "k.pos": "k_pos",
}


@pytest.mark.parametrize("dataset", ["bcg", "yusuf", "niel"])
@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
def test_it_matches_metafor_rma_mh(dataset, measure):
    args, tables = _tables(dataset)
    result = mantel_haenszel(*tables, measure=measure)
    fields = {**FIELDS, **OR_FIELDS} if measure == "OR" else FIELDS
    for r_name, attribute in fields.items():
        expected = MANTEL_HAENSZEL[f'rma.mh({args}, measure="{measure}")${r_name}']
        _close(getattr(result, attribute), expected)


@pytest.mark.parametrize("dataset", ["bcg", "yusuf", "niel"])
def test_it_matches_metafor_cmh_test_without_continuity_correction(dataset):
    args, tables = _tables(dataset)
    result = mantel_haenszel(*tables, measure="OR", correct=False)
    _close(result.cochran, MANTEL_HAENSZEL[f'rma.mh({args}, measure="OR", correct=FALSE)$CO'])
    _close(result.cmh, MANTEL_HAENSZEL[f'rma.mh({args}, measure="OR", correct=FALSE)$MH'])


@pytest.mark.parametrize("dataset", ["bcg", "yusuf", "niel"])
def test_it_matches_metafor_rma_peto(dataset):
    args, tables = _tables(dataset)
    result = peto(*tables)
    for r_name, attribute in FIELDS.items():
        _close(getattr(result, attribute), PETO[f"rma.peto({args})${r_name}"])


def test_it_rejects_an_unknown_measure_naming_the_valid_ones():
    _, tables = _tables("bcg")
    with pytest.raises(InputError, match="measure") as caught:
        mantel_haenszel(*tables, measure="HR")
    assert caught.value.choices == ["OR", "RD", "RR"]


def test_it_rejects_negative_counts_and_mismatched_lengths():
    with pytest.raises(InputError, match="negative"):
        mantel_haenszel([1, -1], [5, 5], [2, 2], [5, 5])
    with pytest.raises(InputError, match="one value per study"):
        peto([1, 2], [5, 5], [2], [5, 5])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(*(st.integers(min_value=1, max_value=60) for _ in range(4))),
        min_size=1,
        max_size=8,
    )
)
def test_it_gives_the_inverse_odds_ratio_when_the_arms_are_swapped(rows):
    ai, bi, ci, di = (np.array(col, float) for col in zip(*rows, strict=True))
    forward = mantel_haenszel(ai, bi, ci, di, measure="OR")
    swapped = mantel_haenszel(ci, di, ai, bi, measure="OR")
    assert swapped.estimate == pytest.approx(-forward.estimate, abs=1e-12)
    assert swapped.se == pytest.approx(forward.se, rel=1e-12)
    assert peto(ci, di, ai, bi).estimate == pytest.approx(-peto(ai, bi, ci, di).estimate, abs=1e-12)
