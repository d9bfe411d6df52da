"""The body chart draws every region of the knowledge base's vocabulary, each labelled and clickable."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from dryneedling.render.body_chart import (
    HIGHLIGHT_STYLES,
    body_chart_svg,
    chart_geometry,
    charted_region_ids,
    highlight_for,
    legend_words,
    region_views,
)
from shipped import shipped_catalog

SVG = "{http://www.w3.org/2000/svg}"


def _groups(svg_text: str) -> list[ET.Element]:
    root = ET.fromstring(svg_text)
    return [g for g in root.iter(f"{SVG}g") if g.get("data-region")]


def test_it_has_a_shape_for_every_vocabulary_region():
    kb = shipped_catalog().kb
    missing = sorted(set(kb.regions) - charted_region_ids())
    assert not missing, f"body chart has no shape for: {missing}"


def test_it_draws_only_regions_the_knowledge_base_knows():
    kb = shipped_catalog().kb
    assert not sorted(charted_region_ids() - set(kb.regions))


def test_it_places_every_region_on_a_known_view():
    for region_id, spec in chart_geometry()["regions"].items():
        assert spec["views"], region_id
        assert set(spec["views"]) <= {"front", "back"}, region_id


def test_it_gives_each_drawn_region_a_plain_title_from_the_knowledge_base():
    kb = shipped_catalog().kb
    groups = _groups(body_chart_svg({}, {rid: region.label for rid, region in kb.regions.items()}))
    drawn = {g.get("data-region") for g in groups}
    assert drawn == set(kb.regions)
    for group in groups:
        title = group.find(f"{SVG}title")
        assert title is not None and title.text == kb.regions[group.get("data-region")].label


def test_it_draws_a_region_once_per_view_it_is_visible_on():
    groups = _groups(body_chart_svg({}))
    for region_id in ("ear", "vertex", "low_back", "anterior_chest"):
        views = sorted(g.get("data-view") for g in groups if g.get("data-region") == region_id)
        assert views == sorted(region_views(region_id))


def test_it_shades_pain_and_referral_differently_and_marks_overlap_as_both():
    highlight = highlight_for(["posterior_neck", "temple"], ["temple", "occiput"])
    assert highlight == {"posterior_neck": "pain", "temple": "both", "occiput": "referral"}
    groups = {(g.get("data-region"), g.get("data-view")): g for g in _groups(body_chart_svg(highlight))}
    fills = {
        kind: groups[(region, view)][1].get("fill")
        for kind, region, view in [
            ("pain", "posterior_neck", "back"),
            ("both", "temple", "front"),
            ("referral", "occiput", "back"),
        ]
    }
    assert fills == {kind: HIGHLIGHT_STYLES[kind]["fill"] for kind in fills}
    assert len(set(fills.values())) == 3
    assert groups[("forehead", "front")].get("data-kind") is None


def test_it_has_a_legend_naming_each_shading():
    svg = body_chart_svg(highlight_for(["low_back"], ["buttock"]))
    assert HIGHLIGHT_STYLES["pain"]["legend"] in svg
    assert HIGHLIGHT_STYLES["referral"]["legend"] in svg


def test_it_refuses_a_region_it_cannot_draw():
    with pytest.raises(ValueError, match="no shape for region"):
        body_chart_svg({"elbow_of_the_moon": "pain"})


def test_it_makes_regions_keyboard_clickable_when_interactive():
    groups = _groups(body_chart_svg({"low_back": "pain"}, interactive=True))
    low_back = next(g for g in groups if g.get("data-region") == "low_back")
    assert low_back.get("role") == "button" and low_back.get("tabindex") == "0"
    assert low_back.get("aria-pressed") == "true"


def _shaded_x(group: ET.Element) -> list[float]:
    """Centre x of each shape of a region group that is shaded (not the invisible white fill)."""
    return [
        float(shape.get("cx"))
        for shape in group
        if shape.tag == f"{SVG}ellipse" and shape.get("fill") != "#ffffff"
    ]


@pytest.mark.parametrize("side", ["left", "right"])
def test_it_shades_only_the_painful_side_of_a_paired_region(side):
    groups = _groups(
        body_chart_svg({"temple": "pain", "buttock": "pain"}, sides={"temple": side, "buttock": side})
    )
    temple = next(g for g in groups if g.get("data-region") == "temple" and g.get("data-view") == "front")
    buttock = next(g for g in groups if g.get("data-region") == "buttock" and g.get("data-view") == "back")
    # The front view faces the reader (the person's left is on the reader's right); the back view does not.
    front_x, back_x = _shaded_x(temple), _shaded_x(buttock)
    assert len(front_x) == 1 and len(back_x) == 1
    assert (front_x[0] > 100) == (side == "left")
    assert (back_x[0] < 100) == (side == "left")
    assert temple.get("data-side") == side


@pytest.mark.parametrize("side", [None, "bilateral"])
def test_it_shades_both_sides_when_no_single_side_is_recorded(side):
    groups = _groups(body_chart_svg({"temple": "pain"}, sides={"temple": side}))
    temple = next(g for g in groups if g.get("data-region") == "temple")
    assert len(_shaded_x(temple)) == 2


def test_it_shades_a_midline_region_whatever_the_side():
    groups = _groups(body_chart_svg({"low_back": "pain"}, sides={"low_back": "left"}))
    low_back = next(g for g in groups if g.get("data-region") == "low_back")
    assert len(_shaded_x(low_back)) == 1


def test_it_refuses_an_unknown_side():
    with pytest.raises(ValueError, match="unknown side"):
        body_chart_svg({"temple": "pain"}, sides={"temple": "up"})


def test_it_leaves_unshaded_regions_out_of_a_printed_chart():
    groups = _groups(body_chart_svg({"temple": "pain", "occiput": "referral"}, marked_only=True))
    assert {g.get("data-region") for g in groups} == {"temple", "occiput"}


def test_it_names_each_drawn_colour_in_words_matching_its_fill():
    words = legend_words(highlight_for(["temple"], ["temple", "occiput"]))
    assert words == [
        (HIGHLIGHT_STYLES["referral"]["colour"], HIGHLIGHT_STYLES["referral"]["legend"]),
        (HIGHLIGHT_STYLES["both"]["colour"], HIGHLIGHT_STYLES["both"]["legend"]),
    ]
    assert [HIGHLIGHT_STYLES[k]["colour"] for k in ("pain", "referral", "both")] == ["red", "blue", "purple"]
