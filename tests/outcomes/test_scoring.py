"""Scoring and MCID for every measure of the knowledge base: totals checked against the range, items only where
the licence lets them be shown, the MCID that applies per condition and variant, and whether a change reached it."""

from __future__ import annotations

from datetime import date

import pytest

from dryneedling.errors import InputError
from dryneedling.outcomes import scoring
from dryneedling.outcomes.progress import Point, choose_mcid, measure_progress, reached

# measure -> (recordable, items shown, MCID for an episode with no condition, variant used)
EVERY_MEASURE = {
    "nprs": (True, False, 2, None),
    "vas_100mm": (True, False, 15, None),
    "ndi": (True, False, 5, None),
    "odi": (True, False, 10, None),
    "rmdq": (True, False, 5, None),
    "spadi": (True, False, None, None),
    "dash": (True, False, 10.83, None),
    "quickdash": (True, False, 15.91, None),
    "hit6": (True, False, 8, None),
    "psfs": (True, True, 1.3, None),
    "lefs": (True, True, 9, None),
    "faam": (True, False, 8, "adl"),
    "ffi": (False, False, None, None),
    "fhsq": (False, False, 13, None),
    "ppt_algometry": (True, False, None, None),
    "cervical_rom": (True, False, None, None),
    "csi": (True, False, None, None),
    "tsk": (True, False, 4, "tsk17"),
    "groc": (True, False, None, "15_point"),
}


def test_it_knows_every_measure_of_the_knowledge_base(catalog):
    assert set(EVERY_MEASURE) == set(catalog.kb.measures)


@pytest.mark.parametrize("measure_id", sorted(EVERY_MEASURE))
def test_it_scores_a_total_inside_the_range_and_refuses_one_outside(catalog, measure_id):
    measure = catalog.kb.measures[measure_id]
    ok, _, _, variant = EVERY_MEASURE[measure_id]
    if not ok:
        with pytest.raises(InputError) as refused:
            scoring.score(measure, 1, variant=variant)
        assert refused.value.field == "measure" and "cannot be recorded" in refused.value.message
        return
    low, high = scoring.scale(measure, variant)
    inside = low + 1 if high is None else (low + high) / 2
    scored = scoring.score(measure, inside, variant=variant)
    assert scored.score == pytest.approx(inside) and scored.items is None and scored.variant == variant
    with pytest.raises(InputError) as below:
        scoring.score(measure, low - 0.5, variant=variant)
    assert below.value.field == "score" and measure_id in below.value.message
    if high is not None:
        with pytest.raises(InputError) as above:
            scoring.score(measure, high + 0.5, variant=variant)
        assert above.value.field == "score"


@pytest.mark.parametrize(
    "measure_id", sorted(m for m, spec in EVERY_MEASURE.items() if spec[0] and not spec[1])
)
def test_it_takes_only_a_total_where_the_licence_does_not_let_items_be_shown(catalog, measure_id):
    measure = catalog.kb.measures[measure_id]
    with pytest.raises(InputError) as refused:
        scoring.score(measure, items=[1, 1, 1], variant=EVERY_MEASURE[measure_id][3])
    assert refused.value.field == "items" and "total only" in refused.value.message


def test_it_sums_the_twenty_lefs_answers(catalog):
    lefs = catalog.kb.measures["lefs"]
    assert scoring.score(lefs, items=[4] * 10 + [1] * 10).score == 50
    assert scoring.score(lefs, items=[0] * 20).score == 0 and scoring.score(lefs, items=[4] * 20).score == 80
    with pytest.raises(InputError, match="20 items"):
        scoring.score(lefs, items=[4] * 19)
    with pytest.raises(InputError) as refused:
        scoring.score(lefs, items=[5] + [0] * 19)
    assert refused.value.field == "items.0"


def test_it_averages_the_activities_a_patient_named_on_the_psfs(catalog):
    psfs = catalog.kb.measures["psfs"]
    assert scoring.score(psfs, items=[2, 5, 6]).score == pytest.approx(13 / 3, abs=1e-4)
    assert scoring.score(psfs, items=[7]).score == 7
    with pytest.raises(InputError):
        scoring.score(psfs, items=[])
    with pytest.raises(InputError) as refused:
        scoring.score(psfs, items=[3, 11])
    assert refused.value.field == "items.1"


def test_it_wants_either_a_total_or_items(catalog):
    lefs = catalog.kb.measures["lefs"]
    for kwargs in ({}, {"total": 40, "items": [2] * 20}):
        with pytest.raises(InputError) as refused:
            scoring.score(lefs, **kwargs)
        assert refused.value.field == "score"


def test_it_names_the_variants_a_measure_needs(catalog):
    tsk = catalog.kb.measures["tsk"]
    with pytest.raises(InputError) as missing:
        scoring.score(tsk, 30)
    assert missing.value.field == "variant" and missing.value.choices == ["tsk11", "tsk17"]
    with pytest.raises(InputError) as outside:
        scoring.score(tsk, 50, variant="tsk11")  # TSK-11 runs 11-44
    assert outside.value.field == "score"
    assert scoring.score(tsk, 50, variant="tsk17").score == 50
    with pytest.raises(InputError) as unneeded:
        scoring.score(catalog.kb.measures["nprs"], 3, variant="tsk11")
    assert unneeded.value.field == "variant"


def test_it_refuses_what_is_not_a_number(catalog):
    nprs = catalog.kb.measures["nprs"]
    for bad in (True, float("nan"), "5"):
        with pytest.raises(InputError):
            scoring.score(nprs, bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("measure_id", sorted(EVERY_MEASURE))
def test_it_applies_the_first_usable_mcid_when_no_condition_matches(catalog, measure_id):
    measure = catalog.kb.measures[measure_id]
    expected, variant = EVERY_MEASURE[measure_id][2], EVERY_MEASURE[measure_id][3]
    chosen = choose_mcid(measure, None, variant)
    if expected is None:
        assert chosen is None
        return
    assert chosen is not None and chosen.value == expected and not chosen.specific
    assert chosen.source in catalog.kb.sources


@pytest.mark.parametrize("measure_id", sorted(EVERY_MEASURE))
def test_it_applies_a_condition_specific_mcid_where_the_knowledge_base_has_one(catalog, measure_id):
    measure = catalog.kb.measures[measure_id]
    for value in measure.usable_mcids:
        for condition in value.conditions:
            chosen = choose_mcid(measure, condition, value.variant)
            assert chosen.specific and chosen.value == next(
                m.value for m in measure.usable_mcids if condition in m.conditions
            )


@pytest.mark.parametrize(
    ("measure_id", "condition", "variant", "value", "source"),
    [
        ("nprs", "neck_pain_stiff_neck", None, 1.5, "kovacs_2008"),
        ("nprs", "low_back_pain", None, 2, "ostelo_2008"),
        ("vas_100mm", "plantar_heel_pain", None, 8, "landorf_2010"),
        ("quickdash", "lateral_epicondylalgia", None, 15.8, "qdash_diagnosis_specific_2016"),
        ("hit6", "tension_type_headache", None, 8, "castien_2012"),
        ("faam", None, "sports", 9, "martin_2005_faam"),
        ("faam", None, "adl", 8, "martin_2005_faam"),
    ],
)
def test_it_chooses_the_mcid_of_the_population(catalog, measure_id, condition, variant, value, source):
    chosen = choose_mcid(catalog.kb.measures[measure_id], condition, variant)
    assert (chosen.value, chosen.source) == (value, source)


def test_it_never_applies_an_mcid_of_unverified_scale(catalog):
    ndi = catalog.kb.measures["ndi"]
    assert choose_mcid(ndi, "neck_pain_stiff_neck").value == 5  # not 7.5 or 14 (scale unknown)


@pytest.mark.parametrize(
    ("measure_id", "baseline", "latest", "mcid", "expected"),
    [
        ("nprs", 7, 5, 2, True),  # lower is better: a fall of 2 reaches 2
        ("nprs", 7, 5.5, 2, False),
        ("nprs", 3, 6, 2, False),  # worse
        ("lefs", 40, 49, 9, True),  # higher is better
        ("lefs", 40, 48, 9, False),
        ("lefs", 49, 40, 9, False),
        ("odi", 40, 30, 10, True),
    ],
)
def test_it_says_whether_the_change_reached_the_mcid_by_direction(
    catalog, measure_id, baseline, latest, mcid, expected
):
    measure = catalog.kb.measures[measure_id]
    assert reached(measure, latest - baseline, mcid) is expected


def test_it_says_plainly_whether_the_change_reached_the_mcid(catalog):
    nprs = catalog.kb.measures["nprs"]
    points = [Point(date(2026, 3, 1), 7), Point(date(2026, 1, 1), 8), Point(date(2026, 2, 1), 6)]
    progress = measure_progress(nprs, points, "neck_pain_stiff_neck")
    assert (progress.baseline, progress.latest, progress.change, progress.reached) == (8, 7, -1, False)
    assert progress.sentence.startswith(
        "The change of 1 point (better) did not reach the minimal important change of 1.5"
    )
    assert "kovacs_2008" in progress.sentence
    one = measure_progress(nprs, points[:1], "neck_pain_stiff_neck")
    assert one.reached is None and "Only the baseline" in one.sentence
    groc = measure_progress(catalog.kb.measures["groc"], points, None, "15_point")
    assert groc.mcid is None and groc.reached is None and "no minimal important change" in groc.sentence
