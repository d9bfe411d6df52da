"""The guidance data loads, and every bad id or uncited claim in it is reported, not ignored."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from dryneedling.knowledge.guidance import GUIDANCE_DIR, GuidanceError, load_guidance
from shipped import shipped_catalog


@pytest.fixture
def copy(tmp_path):
    target = tmp_path / "guidance"
    shutil.copytree(GUIDANCE_DIR, target)
    return target


def _edit(directory, name, change):
    path = directory / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_it_loads_the_shipped_guidance_with_every_source_resolved():
    guidance = shipped_catalog().guidance
    kb = shipped_catalog().kb
    assert {"anticoagulant", "antiplatelet"} == {c.id for c in guidance.medications.classes}
    assert all(s in kb.sources for m in guidance.modifiers for s in m.sources)
    assert "warfarin" in guidance.drug_index() and "eliquis" in guidance.drug_index()


def test_it_reports_an_unknown_source_id(copy):
    _edit(copy, "heat", lambda d: d["before"]["sources"].append("made_up_2099"))
    with pytest.raises(GuidanceError, match="made_up_2099"):
        load_guidance(copy, shipped_catalog().kb)


def test_it_reports_an_unknown_safety_item_and_region(copy):
    _edit(copy, "screening", lambda d: d["region_fields"].update(implant_regions="no_such_item"))
    _edit(copy, "screening", lambda d: d["pregnancy"]["avoid_regions"].append("moon"))
    with pytest.raises(GuidanceError) as caught:
        load_guidance(copy, shipped_catalog().kb)
    text = str(caught.value)
    assert "no_such_item" in text and "moon" in text


def test_it_refuses_an_uncited_claim_that_is_not_marked_as_reasoning(copy):
    def strip(data):
        data["modifiers"][0]["sources"] = []

    _edit(copy, "modifiers", strip)
    with pytest.raises(GuidanceError, match="sources"):
        load_guidance(copy, shipped_catalog().kb)


def test_it_keeps_clinical_reasoning_at_low_confidence(copy):
    def raise_confidence(data):
        rule = next(m for m in data["modifiers"] if m.get("clinical_reasoning"))
        rule["confidence"] = "high"

    _edit(copy, "modifiers", raise_confidence)
    with pytest.raises(GuidanceError, match="clinical reasoning"):
        load_guidance(copy, shipped_catalog().kb)


def test_it_requires_the_csi_cut_off_to_come_from_a_kb_measure(copy):
    def point_elsewhere(data):
        rule = next(m for m in data["modifiers"] if m["trigger"]["kind"] == "csi_at_least")
        rule["trigger"]["cutoff_from_measure"] = "nprs"  # NPRS has no screening cut-off

    _edit(copy, "modifiers", point_elsewhere)
    with pytest.raises(GuidanceError, match="cutoff"):
        load_guidance(copy, shipped_catalog().kb)


REFERENCE = Path("/work/shared/reference")


def _strings(node, where=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{where}[{index}]")
    elif isinstance(node, str):
        yield where, node


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="project reference notes not present")
def test_it_words_the_guidance_itself_instead_of_copying_the_reference():
    run = 10  # words in a row; shorter shared runs are names, numbers and set phrases
    reference_words = re.findall(r"[a-z]+", " ".join(p.read_text() for p in REFERENCE.glob("*.*")).lower())
    reference_runs = {tuple(reference_words[i : i + run]) for i in range(len(reference_words) - run + 1)}
    copied = {}
    for path in GUIDANCE_DIR.glob("*.yaml"):
        for where, text in _strings(yaml.safe_load(path.read_text())):
            words = re.findall(r"[a-z]+", text.lower())
            runs = [" ".join(words[i : i + run]) for i in range(len(words) - run + 1)]
            shared = [r for r in runs if tuple(r.split()) in reference_runs]
            if shared:
                copied[f"{path.stem}{where}"] = shared[0]
    assert not copied
