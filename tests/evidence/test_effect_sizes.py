"""effect_sizes() against metafor's escalc() on its bundled data sets, RevMan conventions and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dryneedling.errors import InputError
from dryneedling.evidence import MEASURES, effect_sizes
from dryneedling.evidence.effect_sizes import hedges_correction

from .metafor_reference import (
    BCG,
    EFFECT_SIZES,
    MOLLOY2014,
    NIELWEISE2007,
    NORMAND1999,
    PRITZ1997,
    YUSUF1985_TABLE6,
)

RTOL = 1e-10

CASES = {
    "bcg": ("RR", {"ai": BCG["tpos"], "bi": BCG["tneg"], "ci": BCG["cpos"], "di": BCG["cneg"]}),
    "normand_md": ("MD", NORMAND1999),
    "normand_smd": ("SMD", NORMAND1999),
    "normand_rom": ("ROM", NORMAND1999),
    "molloy_zcor": ("ZCOR", MOLLOY2014),
    "pritz_pr": ("PR", PRITZ1997),
    "pritz_plo": ("PLO", PRITZ1997),
    "niel_or": ("OR", NIELWEISE2007),
    "niel_rr": ("RR", NIELWEISE2007),
    "niel_rd": ("RD", NIELWEISE2007),
    "yusuf_or": ("OR", YUSUF1985_TABLE6),
    "yusuf_rr": ("RR", YUSUF1985_TABLE6),
    "yusuf_rd": ("RD", YUSUF1985_TABLE6),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_effect_sizes_match_escalc(name):
    measure, columns = CASES[name]
    es = effect_sizes(measure, **columns)
    assert es.measure == measure
    np.testing.assert_allclose(es.yi, EFFECT_SIZES[name]["yi"], rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(es.vi, EFFECT_SIZES[name]["vi"], rtol=RTOL, atol=1e-14)


def test_reference_exercises_every_measure_and_zero_cells():
    assert {measure for measure, _ in CASES.values()} == set(MEASURES)
    # nielweise2007 has studies with a zero cell; pritz1997 has proportions of 1 (x = n)
    assert 0 in NIELWEISE2007["ai"]
    assert any(x == n for x, n in zip(PRITZ1997["xi"], PRITZ1997["ni"], strict=True))


def test_zero_cell_correction_touches_only_affected_studies():
    es = effect_sizes("OR", ai=[0, 4], bi=[10, 6], ci=[3, 2], di=[7, 8])
    assert es.yi[0] == pytest.approx(math.log(0.5 * 7.5 / (10.5 * 3.5)))
    assert es.yi[1] == pytest.approx(math.log(4 * 8 / (6 * 2)))
    assert es.vi[1] == pytest.approx(1 / 4 + 1 / 6 + 1 / 2 + 1 / 8)


def test_two_by_two_accepts_group_totals():
    a = effect_sizes("RR", ai=[3, 5], n1i=[20, 30], ci=[6, 5], n2i=[21, 29])
    b = effect_sizes("RR", ai=[3, 5], bi=[17, 25], ci=[6, 5], di=[15, 24])
    np.testing.assert_array_equal(a.yi, b.yi)
    np.testing.assert_array_equal(a.vi, b.vi)


def test_hedges_correction_is_the_exact_gamma_ratio():
    m = np.array([2.0, 10.0, 98.0])
    expected = [math.gamma(x / 2) / (math.sqrt(x / 2) * math.gamma((x - 1) / 2)) for x in m]
    np.testing.assert_allclose(hedges_correction(m), expected, rtol=1e-13)
    # large samples do not overflow and approach 1
    assert 0.99 < hedges_correction(np.array([1e6]))[0] < 1


def test_revman_smd_uses_its_approximate_correction_and_variance():
    cols = dict(m1i=[3.1], sd1i=[1.2], n1i=[20], m2i=[4.0], sd2i=[1.5], n2i=[22])
    es = effect_sizes("SMD", convention="revman", **cols)
    sp = math.sqrt((19 * 1.2**2 + 21 * 1.5**2) / 40)
    g = (3.1 - 4.0) / sp * (1 - 3 / (4 * 42 - 9))
    assert es.yi[0] == pytest.approx(g, rel=1e-14)
    assert es.vi[0] == pytest.approx(42 / (20 * 22) + g**2 / (2 * (42 - 3.94)), rel=1e-14)
    assert es.convention == "revman"
    # metafor's exact correction differs only slightly
    assert effect_sizes("SMD", **cols).yi[0] == pytest.approx(g, rel=1e-3)


def test_revman_leaves_out_double_zero_studies_for_ratio_measures():
    es = effect_sizes(
        "OR", convention="revman", ai=[0, 2, 1], n1i=[10, 12, 15], ci=[0, 4, 3], n2i=[10, 12, 14]
    )
    np.testing.assert_array_equal(es.kept, [1, 2])
    np.testing.assert_array_equal(es.excluded, [0])
    assert es.k == 2 and es.notes
    metafor_style = effect_sizes("OR", ai=[0, 2, 1], n1i=[10, 12, 15], ci=[0, 4, 3], n2i=[10, 12, 14])
    assert metafor_style.k == 3 and metafor_style.yi[0] == 0.0


@pytest.mark.parametrize(
    ("measure", "columns", "field"),
    [
        ("XYZ", {}, "measure"),
        ("SMD", {"m1i": [1], "sd1i": [1], "n1i": [10], "m2i": [1], "sd2i": [1]}, "n2i"),
        ("SMD", {**NORMAND1999, "n2i": NORMAND1999["n2i"][:-1]}, "n2i"),
        ("MD", {**NORMAND1999, "sd1i": [-1] * 9}, "sd1i"),
        ("MD", {**NORMAND1999, "n1i": [0] * 9}, "n1i"),
        ("OR", {"ai": [-1], "bi": [3], "ci": [2], "di": [4]}, "ai"),
        ("OR", {"ai": [5], "n1i": [3], "ci": [2], "n2i": [4]}, "ai"),
        ("ZCOR", {"ri": [1.0], "ni": [20]}, "ri"),
        ("ZCOR", {"ri": [0.3], "ni": [3]}, "ni"),
        ("PR", {"xi": [5], "ni": [3]}, "xi"),
        ("PR", {"xi": [float("nan")], "ni": [3]}, "xi"),
        ("MD", {**NORMAND1999, "ri": [0.1]}, "ri"),
        ("ROM", {**NORMAND1999, "m2i": [-1] * 9}, "m1i"),
    ],
)
def test_bad_input_names_the_argument(measure, columns, field):
    with pytest.raises(InputError) as err:
        effect_sizes(measure, **columns)
    assert err.value.field == field


def test_measure_names_are_case_insensitive_and_errors_list_choices():
    assert effect_sizes("smd", **NORMAND1999).measure == "SMD"
    with pytest.raises(InputError) as err:
        effect_sizes("SMDD", **NORMAND1999)
    assert "SMD" in err.value.suggestions


# Tricyclic antidepressants for depression (Furukawa et al., Cochrane review data) as printed, with RevMan 5
# conventions, in Schwarzer, Carpenter & Ruecker (2015) Meta-Analysis with R, Springer: Fig. 2.1 (data),
# section 2.1 (study 1, Blashki), Example 2.4 and Fig. 2.4 (pooled results, DerSimonian-Laird).
FURUKAWA = {
    "n1i": [13, 17, 10, 7, 73, 26, 17, 11, 105, 22, 13, 29, 13, 78, 23, 11, 11],
    "m1i": [6.4, 11.0, 17.5, 12.3, 15.7, 8.5, 25.5, 6.2, -8.1, 13.4, 12.5, 1.99, 11.0, 15.8, -8.5, 51.9, 8.0],
    "sd1i": [5.4, 8.2, 8.8, 9.9, 10.6, 11.0, 24.0, 7.6, 3.9, 2.3, 7.6, 0.77, 8.2, 6.8, 8.6, 18.5, 8.1],
    "n2i": [18, 16, 6, 7, 73, 28, 10, 10, 46, 19, 15, 39, 13, 71, 23, 11, 18],
    "m2i": [
        11.4,
        19.0,
        23.0,
        20.0,
        18.7,
        14.5,
        53.2,
        10.0,
        -8.5,
        19.7,
        12.5,
        2.54,
        15.0,
        17.1,
        -8.3,
        74.3,
        10.0,
    ],
    "sd2i": [9.6, 8.2, 8.8, 10.5, 10.6, 11.0, 11.2, 7.6, 5.2, 1.3, 7.6, 0.77, 8.2, 7.2, 6.0, 18.5, 9.7],
}


def test_revman_convention_reproduces_a_printed_cochrane_analysis():
    from dryneedling.evidence import pool

    es = effect_sizes("SMD", convention="revman", **FURUKAWA)
    se1 = math.sqrt(es.vi[0])
    # study 1: SMD -0.60 [-1.33; 0.13]
    assert [round(x, 2) for x in (es.yi[0], es.yi[0] - 1.96 * se1, es.yi[0] + 1.96 * se1)] == [
        -0.60,
        -1.33,
        0.13,
    ]
    fixed = pool(es.yi, es.vi, method="EE")
    assert round(fixed.estimate, 4) == -0.3915 and round(fixed.se**2, 4) == 0.0049
    assert [round(x, 2) for x in (fixed.ci_low, fixed.ci_high, fixed.stat)] == [-0.53, -0.25, -5.61]
    random = pool(es.yi, es.vi, method="DL")
    assert [round(x, 2) for x in (random.estimate, random.ci_low, random.ci_high, random.stat)] == [
        -0.59,
        -0.87,
        -0.30,
        -4.04,
    ]
    assert round(random.tau2, 4) == 0.2309
    assert round(random.i2, 1) == 72.5
    assert round(random.q, 2) == 58.27 and random.q_df == 16
    assert round(math.sqrt(random.h2), 2) == 1.91
    # metafor's exact correction moves study 1 in the third decimal only
    assert effect_sizes("SMD", **FURUKAWA).yi[0] == pytest.approx(es.yi[0], abs=5e-3)
