"""Forest and funnel plots: valid, deterministic SVG that carries the study labels, weights and intervals."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from dryneedling.errors import InputError
from dryneedling.evidence.bias import trim_and_fill
from dryneedling.evidence.plots import forest_plot, funnel_plot
from dryneedling.evidence.pooling import pool

from .metafor_reference_b import BCG, HACKSHAW

SVG = "{http://www.w3.org/2000/svg}"
LABELS = [f"{author} {year}" for author, year in zip(BCG["author"], BCG["year"], strict=True)]


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


@pytest.fixture(scope="module")
def bcg_forest() -> str:
    return forest_plot(
        LABELS, BCG["yi"], BCG["vi"], pool(BCG["yi"], BCG["vi"]), exponentiate=True, xlabel="Risk ratio"
    )


def test_it_draws_a_forest_plot_with_every_study_label(bcg_forest):
    texts = _texts(bcg_forest)
    for label in LABELS:
        assert label in texts


def test_it_shows_weights_pooled_estimate_and_prediction_interval(bcg_forest):
    result = pool(BCG["yi"], BCG["vi"])
    texts = _texts(bcg_forest)
    assert "Weight" in texts
    assert f"{result.weights[0]:.1f}%" in texts
    pooled = f"{np.exp(result.estimate):.2f} [{np.exp(result.ci_low):.2f}, {np.exp(result.ci_high):.2f}]"
    assert pooled in texts
    assert "95% prediction interval" in texts
    assert f"[{np.exp(result.pi_low):.2f}, {np.exp(result.pi_high):.2f}]" in texts


def test_it_leaves_out_the_prediction_interval_for_a_common_effect_model():
    texts = _texts(forest_plot(LABELS, BCG["yi"], BCG["vi"], pool(BCG["yi"], BCG["vi"], method="EE")))
    assert "95% prediction interval" not in texts
    assert "Common effect, k = 13" in texts


def test_it_renders_the_same_bytes_every_time(bcg_forest):
    again = forest_plot(
        LABELS, BCG["yi"], BCG["vi"], pool(BCG["yi"], BCG["vi"]), exponentiate=True, xlabel="Risk ratio"
    )
    assert again == bcg_forest
    assert "<dc:date>" not in bcg_forest


def test_it_keeps_awkward_labels_literal():
    labels = ["Smith & Jones $2020$", "<Lee>", "Ng"]
    svg = forest_plot(labels, [0.1, 0.2, 0.3], [0.01, 0.02, 0.03], pool([0.1, 0.2, 0.3], [0.01, 0.02, 0.03]))
    texts = _texts(svg)
    assert "Smith & Jones $2020$" in texts and "<Lee>" in texts


def test_it_draws_a_funnel_plot_with_filled_studies():
    filled = trim_and_fill(HACKSHAW["yi"], HACKSHAW["vi"])
    svg = funnel_plot(
        HACKSHAW["yi"],
        HACKSHAW["vi"],
        pool(HACKSHAW["yi"], HACKSHAW["vi"]),
        filled_yi=filled.filled_yi,
        filled_vi=filled.filled_vi,
        exponentiate=True,
    )
    texts = _texts(svg)
    assert "Standard error" in texts
    assert "Funnel plot (k = 37)" in texts
    assert "Filled (trim-and-fill)" in texts


def test_it_refuses_mismatched_inputs():
    with pytest.raises(InputError):
        forest_plot(["a"], [0.1, 0.2], [0.1, 0.1], pool([0.1, 0.2], [0.1, 0.1]))
