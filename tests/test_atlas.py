"""The atlas ranks muscles by how much of the pain their known referral patterns explain."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dryneedling.assessment.atlas import rank_muscles
from dryneedling.errors import InputError
from shipped import shipped_catalog


def top(pain, n=5, **kwargs):
    return [c.muscle for c in rank_muscles(shipped_catalog(), pain, **kwargs)[:n]]


def test_it_puts_the_classic_headache_muscles_first_for_temple_and_occiput():
    assert {"upper_trapezius", "suboccipitals", "sternocleidomastoid"} <= set(top(["temple", "occiput"]))


def test_it_finds_the_heel_muscles_for_plantar_heel_pain():
    assert set(top(["plantar_heel"], n=3)) == {"soleus", "quadratus_plantae", "abductor_hallucis"}


def test_it_finds_gluteus_minimus_and_vastus_lateralis_for_the_outer_thigh_and_knee():
    assert top(["lateral_thigh", "lateral_knee"], n=2) == ["gluteus_minimus", "vastus_lateralis"]


def test_it_scores_the_share_of_painful_regions_explained():
    by_muscle = {c.muscle: c for c in rank_muscles(shipped_catalog(), ["temple", "occiput"])}
    scm = by_muscle["sternocleidomastoid"]
    assert scm.score == 0.5
    assert scm.matched_regions == ["occiput"] and scm.unmatched_regions == ["temple"]
    assert by_muscle["upper_trapezius"].score == 1.0


def test_it_breaks_ties_by_confidence_then_name():
    ranked = rank_muscles(shipped_catalog(), ["temple", "occiput"])
    full = [c for c in ranked if c.score == 1.0]
    assert [c.confidence for c in full] == ["high", "moderate", "low"]
    heel = rank_muscles(shipped_catalog(), ["plantar_heel"])
    assert [c.name for c in heel] == sorted(c.name for c in heel)


def test_it_leaves_out_muscles_that_explain_none_of_the_pain():
    assert all(c.matched_regions for c in rank_muscles(shipped_catalog(), ["great_toe"]))
    assert "upper_trapezius" not in top(["great_toe"], n=50)


def test_it_gives_a_bounded_bonus_to_muscles_listed_for_the_condition():
    plain = {c.muscle: c.score for c in rank_muscles(shipped_catalog(), ["temple", "occiput"])}
    with_tmd = {
        c.muscle: c
        for c in rank_muscles(shipped_catalog(), ["temple", "occiput"], condition="tmd_orofacial_pain")
    }
    assert with_tmd["temporalis"].condition_match and not with_tmd["upper_trapezius"].condition_match
    assert with_tmd["temporalis"].score > plain["temporalis"] * 0.8
    # explaining every region still beats explaining half, even with the condition bonus
    assert with_tmd["upper_trapezius"].score > with_tmd["temporalis"].score


def test_it_never_scores_on_a_zone_the_audit_doubts():
    assert "vastus_lateralis" not in top(["lateral_buttock"], n=50)


def test_it_records_the_side_on_paired_muscles():
    assert {c.side for c in rank_muscles(shipped_catalog(), ["plantar_heel"], side="left")} == {"left"}


def test_it_carries_safety_notes_tied_to_the_anatomical_region():
    candidate = next(c for c in rank_muscles(shipped_catalog(), ["temple"]) if c.muscle == "upper_trapezius")
    assert candidate.safety[0].anatomical_region == "thorax_lung"
    assert candidate.model_dump()["safety"][0]["region"] == "thorax_lung"
    assert candidate.sources


def test_it_drops_muscles_in_an_area_where_needling_is_not_allowed():
    assert "soleus" not in top(["plantar_heel"], excluded_regions=frozenset({"posterior_leg_calf"}))
    assert "abductor_hallucis" in top(["plantar_heel"], excluded_regions=frozenset({"posterior_leg_calf"}))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"pain": []}, "pain"),
        ({"pain": ["templ"]}, "pain"),
        ({"pain": ["temple"], "condition": "migraine"}, "condition"),
        ({"pain": ["temple"], "side": "both"}, "side"),
        ({"pain": ["temple"], "excluded_regions": frozenset({"neckk"})}, "excluded_regions"),
    ],
)
def test_it_rejects_bad_input_naming_the_field(kwargs, field):
    with pytest.raises(InputError) as caught:
        rank_muscles(shipped_catalog(), **kwargs)
    assert caught.value.field == field


def test_it_suggests_the_closest_region_for_a_typo():
    with pytest.raises(InputError) as caught:
        rank_muscles(shipped_catalog(), ["plantar_heal"])
    assert caught.value.suggestions[0] == "plantar_heel"


REGION_IDS = sorted(shipped_catalog().kb.regions)
CONDITION_IDS = sorted(shipped_catalog().kb.conditions)


@settings(max_examples=150, deadline=None)
@given(
    pain=st.lists(st.sampled_from(REGION_IDS), min_size=1, max_size=6),
    condition=st.one_of(st.none(), st.sampled_from(CONDITION_IDS)),
)
def test_it_always_returns_bounded_sorted_scores_that_account_for_every_painful_region(pain, condition):
    ranked = rank_muscles(shipped_catalog(), pain, condition=condition)
    unique = list(dict.fromkeys(pain))
    scores = [c.score for c in ranked]
    assert scores == sorted(scores, reverse=True)
    for c in ranked:
        assert 0 < c.score <= 1
        assert c.matched_regions and sorted(c.matched_regions + c.unmatched_regions) == sorted(unique)
        coverage = len(c.matched_regions) / len(unique)
        expected = coverage if condition is None else 0.8 * coverage + 0.2 * c.condition_match
        assert c.score == pytest.approx(expected, abs=1e-4)
