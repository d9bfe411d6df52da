"""GRADE-style certainty: each domain rates down on tiny synthetic inputs, and the one strength rule."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dryneedling.evidence.certainty import (
    CertaintyInputs,
    patient_sentence,
    rate_certainty,
    reported_certainty,
    strength_for,
)
from shipped import shipped_catalog

from .overclaim import FORBIDDEN

RULES = shipped_catalog().grade_rules

# Inputs that pass every domain: a precise, consistent, direct estimate with enough participants and
# review judgements of no serious risk of bias or publication bias.
CLEAN = dict(
    estimate=-3.0,
    ci_low=-3.5,
    ci_high=-2.5,
    k=12,
    n=800,
    i2=10.0,
    mcid=1.5,
    review_judgements={"risk_of_bias": "not_serious", "publication_bias": "not_serious"},
)


def check(**changes):
    return rate_certainty(CertaintyInputs(**{**CLEAN, **changes}), RULES)


def downgrade(result, domain):
    return sum(d.levels for d in result.downgrades if d.domain == domain)


def test_clean_randomised_evidence_stays_high_and_complete():
    result = check()
    assert result.start == "high"
    assert result.level == "high"
    assert result.downgrades == []
    assert result.complete
    assert result.describe() == "high"


@pytest.mark.parametrize(("i2", "levels"), [(49.9, 0), (50.0, 1), (74.0, 1), (75.0, 2), (98.0, 2)])
def test_inconsistency_follows_the_i2_thresholds_in_the_rules_file(i2, levels):
    result = check(i2=i2)
    assert downgrade(result, "inconsistency") == levels
    if levels:
        assert f"{i2:g}%" in next(d.reason for d in result.downgrades if d.domain == "inconsistency")


def test_a_prediction_interval_crossing_no_effect_rates_down_even_with_low_i2():
    crossing = check(i2=20.0, pi_low=-6.0, pi_high=0.4)
    not_crossing = check(i2=20.0, pi_low=-6.0, pi_high=-0.4)
    assert downgrade(crossing, "inconsistency") == 1
    assert "prediction interval" in crossing.downgrades[0].reason
    assert downgrade(not_crossing, "inconsistency") == 0


def test_a_single_study_is_not_rated_down_for_inconsistency_but_says_why():
    result = check(k=1, i2=None)
    assert downgrade(result, "inconsistency") == 0
    assert any("single study" in item for item in result.not_assessed)


def test_a_ci_including_no_effect_rates_down_for_imprecision():
    result = check(estimate=-1.0, ci_low=-2.0, ci_high=0.1, mcid=None)
    assert downgrade(result, "imprecision") == 1
    assert "includes no effect" in result.downgrades[0].reason


def test_a_ci_spanning_the_mcid_rates_down_and_names_the_threshold():
    result = check(
        estimate=-1.5, ci_low=-2.3, ci_high=-0.8, mcid=1.5, mcid_label="nprs MCID 1.5 (kovacs_2008)"
    )
    assert downgrade(result, "imprecision") == 1
    assert "kovacs_2008" in result.downgrades[0].reason
    # the same CI lying wholly beyond the MCID is precise enough
    assert downgrade(check(estimate=-2.5, ci_low=-3.0, ci_high=-1.9, mcid=1.5), "imprecision") == 0


def test_a_benefit_in_the_positive_direction_uses_the_positive_mcid():
    # e.g. pressure pain threshold, where higher is better: threshold at +mcid, not -mcid
    assert downgrade(check(estimate=2.0, ci_low=1.0, ci_high=3.0, mcid=1.5), "imprecision") == 1
    assert downgrade(check(estimate=2.5, ci_low=2.0, ci_high=3.0, mcid=1.5), "imprecision") == 0


@pytest.mark.parametrize(("n", "levels"), [(399, 1), (400, 0)])
def test_fewer_participants_than_the_optimal_information_size_rates_down(n, levels):
    result = check(n=n)
    assert downgrade(result, "imprecision") == levels
    if levels:
        assert "optimal information size of 400" in result.downgrades[0].reason


def test_imprecision_is_capped_at_two_levels():
    result = check(estimate=-1.0, ci_low=-2.0, ci_high=0.2, n=50)
    assert downgrade(result, "imprecision") == 2


def test_a_risk_ratio_is_judged_against_one_not_zero():
    result = rate_certainty(
        CertaintyInputs(estimate=1.1, ci_low=0.8, ci_high=1.3, null_value=1.0, outcome_type="binary"), RULES
    )
    assert downgrade(result, "imprecision") == 1
    assert any("event counts" in item for item in result.not_assessed)


def test_pooling_acupuncture_with_dry_needling_rates_down_for_indirectness():
    result = check(dn_specific=False)
    assert downgrade(result, "indirectness") == 1
    assert result.level == "moderate"


@pytest.mark.parametrize(("judgement", "levels"), [("not_serious", 0), ("serious", 1), ("very_serious", 2)])
def test_the_reviews_risk_of_bias_judgement_counts_at_its_stated_level(judgement, levels):
    result = check(review_judgements={"risk_of_bias": judgement, "publication_bias": "not_serious"})
    assert downgrade(result, "risk_of_bias") == levels


def test_suspected_publication_bias_rates_down():
    result = check(review_judgements={"risk_of_bias": "not_serious", "publication_bias": "serious"})
    assert downgrade(result, "publication_bias") == 1


def test_too_few_studies_for_a_funnel_test_is_said_not_guessed():
    result = check(k=6, review_judgements={"risk_of_bias": "not_serious"})
    assert downgrade(result, "publication_bias") == 0
    assert any("fewer than the 10" in item for item in result.not_assessed)


def test_missing_inputs_are_listed_and_the_level_is_only_an_upper_bound():
    result = rate_certainty(CertaintyInputs(estimate=-1.0, ci_low=-1.5, ci_high=-0.5), RULES)
    missing = " | ".join(result.not_assessed)
    assert "risk of bias" in missing
    assert "I2" in missing
    assert "total participants" in missing
    assert "no MCID" in missing
    assert not result.complete
    # Nothing that needs reported inputs could be judged and nothing was rated down: the start level
    # ("high") is no rating at all, so the check says so instead of "at most high".
    assert not result.assessable
    assert result.describe().startswith("not assessable")
    assert result.summary == result.describe()
    assert "at most" not in result.model_dump()["summary"]


def test_a_partly_judged_estimate_is_an_upper_bound():
    judged = {"risk_of_bias": "not_serious", "inconsistency": "not_serious"}
    result = rate_certainty(
        CertaintyInputs(estimate=-1.0, ci_low=-1.5, ci_high=-0.5, review_judgements=judged), RULES
    )
    assert result.assessable and not result.complete
    assert result.describe().startswith("at most high")
    assert set(result.unassessed_domains) == {"imprecision", "publication_bias"}


def test_an_estimate_rated_down_is_assessable_even_with_inputs_missing():
    result = rate_certainty(CertaintyInputs(estimate=-1.0, ci_low=-1.5, ci_high=0.5), RULES)
    assert result.downgrades and result.assessable
    assert result.describe().startswith("at most")


def test_certainty_never_falls_below_very_low():
    result = check(
        estimate=-1.0,
        ci_low=-2.0,
        ci_high=0.5,
        n=30,
        i2=90.0,
        dn_specific=False,
        review_judgements={"risk_of_bias": "very_serious", "publication_bias": "serious"},
    )
    assert sum(d.levels for d in result.downgrades) > 3
    assert result.level == "very_low"


def test_each_downgrade_is_a_structured_record():
    result = check(i2=80.0, n=100)
    assert {(d.domain, d.levels) for d in result.downgrades} == {("inconsistency", 2), ("imprecision", 1)}
    assert all(d.reason for d in result.downgrades)
    assert result.level == "very_low"


@pytest.mark.parametrize(
    ("published", "reported"),
    [
        ("moderate", "moderate"),
        ("low", "low"),
        ("very_low", "very_low"),
        ("low_or_very_low", "very_low"),
        ("very_low_to_moderate", "very_low"),
        (None, None),
    ],
)
def test_the_reported_certainty_is_the_reviews_own_rating_at_its_lower_end(published, reported):
    level, basis = reported_certainty(published, RULES)
    assert level == reported
    assert ("as rated by the review" in basis) == (published is not None)


def test_an_unknown_published_rating_is_refused():
    with pytest.raises(ValueError, match="unknown published certainty"):
        reported_certainty("excellent", RULES)


@pytest.mark.parametrize(
    ("certainty", "strength"),
    [
        ("high", "Moderate"),
        ("moderate", "Moderate"),
        ("low", "Emerging"),
        ("very_low", "Limited"),
        (None, "Limited"),
    ],
)
def test_the_one_strength_rule(certainty, strength):
    assert strength_for(certainty, RULES) == strength


FIELDS = dict(who="Dry needling", outcome="pain", comparator="fake needling", time=" in the first weeks")


@pytest.mark.parametrize("strength", list(FORBIDDEN))
@pytest.mark.parametrize("kind", ["benefit", "comparator_better", "no_difference"])
def test_patient_wording_never_claims_more_than_its_strength(strength, kind):
    text = patient_sentence(strength, kind, RULES, **FIELDS).lower()
    for word in FORBIDDEN[strength]:
        assert not re.search(rf"\b{re.escape(word)}\b", text), (strength, kind, word, text)


def test_a_template_that_overclaims_is_refused():
    raw = RULES.model_dump()
    raw["strength"]["wording"]["Limited"]["benefit"] = "{who} probably helps with {outcome}."
    rules = type(RULES).model_validate(raw)
    with pytest.raises(ValueError, match="may not say 'probably'"):
        patient_sentence("Limited", "benefit", rules, **FIELDS)


# --- properties over many inputs ------------------------------------------------------------------

LEVELS = ["very_low", "low", "moderate", "high"]
inputs = st.builds(
    dict,
    estimate=st.floats(min_value=-4, max_value=4, allow_nan=False),
    half_width=st.floats(min_value=0.01, max_value=4, allow_nan=False),
    k=st.none() | st.integers(min_value=1, max_value=40),
    n=st.none() | st.integers(min_value=10, max_value=2000),
    i2=st.none() | st.floats(min_value=0, max_value=100, allow_nan=False),
    mcid=st.none() | st.floats(min_value=0.1, max_value=3, allow_nan=False),
    dn_specific=st.booleans(),
    rob=st.sampled_from([None, "not_serious", "serious", "very_serious"]),
)


def _build(drawn: dict, **override) -> CertaintyInputs:
    drawn = {**drawn, **override}
    estimate, half = drawn["estimate"], drawn["half_width"]
    judgements = {"risk_of_bias": drawn["rob"]} if drawn["rob"] else {}
    return CertaintyInputs(
        estimate=estimate,
        ci_low=estimate - half,
        ci_high=estimate + half,
        k=drawn["k"],
        n=drawn["n"],
        i2=drawn["i2"],
        mcid=drawn["mcid"],
        dn_specific=drawn["dn_specific"],
        review_judgements=judgements,
    )


@settings(max_examples=100, deadline=None)
@given(inputs)
def test_the_level_is_the_start_minus_every_recorded_downgrade(drawn):
    result = rate_certainty(_build(drawn), RULES)
    total = sum(d.levels for d in result.downgrades)
    assert result.level == LEVELS[max(0, 3 - total)]
    assert all(1 <= d.levels <= 2 for d in result.downgrades)
    assert len({d.domain for d in result.downgrades}) == len(result.downgrades)


@settings(max_examples=100, deadline=None)
@given(inputs, st.floats(min_value=0, max_value=100, allow_nan=False), st.floats(min_value=0, max_value=100))
def test_more_heterogeneity_never_raises_certainty(drawn, first, second):
    low_i2, high_i2 = sorted((first, second))
    calmer = rate_certainty(_build(drawn, i2=low_i2), RULES)
    noisier = rate_certainty(_build(drawn, i2=high_i2), RULES)
    assert LEVELS.index(noisier.level) <= LEVELS.index(calmer.level)


@settings(max_examples=100, deadline=None)
@given(inputs, st.floats(min_value=1.0, max_value=5.0))
def test_a_wider_confidence_interval_never_raises_certainty(drawn, factor):
    narrow = rate_certainty(_build(drawn), RULES)
    wide = rate_certainty(_build(drawn, half_width=drawn["half_width"] * factor), RULES)
    assert LEVELS.index(wide.level) <= LEVELS.index(narrow.level)
