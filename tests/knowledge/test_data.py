"""The knowledge data keeps the reference's ids, sources and confidence marks, and its own rules."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml

from shipped import shipped_catalog

REFERENCE = Path("/work/shared/reference")
needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason="project reference notes not present")


def reference(name: str) -> dict:
    return yaml.safe_load((REFERENCE / name).read_text(encoding="utf-8"))


# Issue 9 (sources a clinician trusts) dropped these from the bibliography: a flashcard deck, a download-site
# copy of a course chapter, a GitHub page; it added a web page and a case report saying the same.
DROPPED_SOURCES = {"brainscape_tp_cards", "tp_master_leg", "posture_repo_tp_list", "repo_code_tables"}
ADDED_SOURCES = {"webmanmed_abductor_hallucis", "park_2015_gmin_case"}


def same_sources_and_confidence(kb, entry, ref: dict) -> bool:
    """The reference's sources (less the dropped ones) and confidence; lowered to low only when tier 3 alone is left."""
    ours = [s for s in entry.sources if s not in ADDED_SOURCES]
    theirs = [s for s in ref["sources"] if s not in DROPPED_SOURCES]
    only_tier_3 = all(kb.sources[s].tier == 3 for s in entry.sources)
    lowered = entry.confidence == "low" and only_tier_3
    return ours == theirs and (entry.confidence == ref["confidence"] or lowered)


@needs_reference
def test_it_keeps_every_atlas_muscle_with_its_zones_confidence_and_sources():
    kb = shipped_catalog().kb
    for ref in reference("trigger_points.yaml")["muscles"]:
        muscle = kb.muscle(ref["id"])
        assert set(muscle.referral_zones) | set(muscle.doubtful_referral_zones) == set(ref["referral_zones"])
        assert same_sources_and_confidence(kb, muscle, ref), muscle.id
        assert list(muscle.conditions) == ref["conditions"]
        assert muscle.needling_safety[0].anatomical_region == ref["needling_safety"].get("region")
        assert muscle.needling_safety[0].anatomy_sourced == ref["needling_safety"].get(
            "anatomy_sourced", True
        )
        assert bool(muscle.audit) or not ref.get("audit")


def test_it_never_ranks_on_the_zone_the_audit_doubts():
    vastus = shipped_catalog().kb.muscle("vastus_lateralis")
    assert "lateral_buttock" in vastus.doubtful_referral_zones
    assert "lateral_buttock" not in vastus.referral_zones


@needs_reference
def test_it_keeps_every_safety_item_with_its_class_confidence_and_sources():
    kb = shipped_catalog().kb
    ref = reference("safety.yaml")
    for item in ref["items"]:
        ours = kb.safety_item(item["id"])
        assert ours.klass == item["class"]
        assert same_sources_and_confidence(kb, ours, item), ours.id
    for region in ref["anatomical_regions"]:
        ours = kb.anatomical_region(region["id"])
        assert (ours.confidence, list(ours.sources)) == (region["confidence"], region["sources"])


def test_it_marks_local_items_as_regional():
    kb = shipped_catalog().kb
    regional = {i.id for i in kb.safety_items.values() if i.scope == "regional"}
    assert regional >= {
        "lymphedema_area",
        "local_infection_skin_lesion",
        "local_malignancy",
        "recent_surgery_fracture",
        "implants_devices",
        "lymph_node_removal_at_risk_limb",
    }
    assert "pregnancy" not in regional and "needle_phobia" not in regional


def test_it_places_the_lung_under_the_upper_back_and_chest_regions():
    lung = shipped_catalog().kb.anatomical_region("thorax_lung")
    assert {"anterior_chest", "interscapular", "suprascapular"} <= set(lung.body_regions)


def test_it_writes_patient_text_at_grade_eight_or_below(reading_grade):
    kb = shipped_catalog().kb
    texts = {i.id: i.patient_text for i in kb.safety_items.values()}
    texts |= {r.id: r.patient_text for r in kb.anatomical_regions.values()}
    too_hard = {key: round(reading_grade(text), 1) for key, text in texts.items() if reading_grade(text) > 8}
    assert not too_hard


@needs_reference
def test_it_keeps_every_measure_id_and_drops_unverified_mcids():
    kb = shipped_catalog().kb
    ref = reference("measures.yaml")["measures"]
    assert {m["id"] for m in ref} == set(kb.measures)
    for m in ref:
        ours = kb.measure(m["id"])
        kept_sources = {x.source for x in ours.mcid}
        for value in m.get("mcid", []):
            if value.get("verified") is False:
                assert value["value"] is None and ours.mcid_note  # dropped, and said so
            elif value.get("scale_verified") is False:
                assert not next(x for x in ours.mcid if x.source == value["source"]).usable
            else:
                assert value["source"] in kept_sources


def test_it_excludes_mcids_of_unknown_scale_from_use():
    ndi = shipped_catalog().kb.measure("ndi")
    assert [m.value for m in ndi.usable_mcids] == [5]
    assert {m.value for m in ndi.mcid} == {5, 7.5, 14}


@needs_reference
def test_it_lists_only_icd10_codes_verified_in_the_billing_notes():
    billing = (REFERENCE / "billing.md").read_text(encoding="utf-8")
    section = billing.split("## 3.")[1].split("## 4.")[0]
    table_rows = [line for line in section.splitlines() if line.startswith("| ")]
    verified = set()
    for row in table_rows:
        for code in re.findall(r"[A-Z]\d\d\.\d+(?:/\.\d+)*", row.split("|")[1]):
            stem, *tails = code.split("/")
            verified.add(stem)
            verified.update(stem.rsplit(".", 1)[0] + tail for tail in tails)
    codes = {code.code for c in shipped_catalog().kb.conditions.values() for code in c.icd10}
    assert codes and codes <= verified


@needs_reference
def test_it_covers_the_atlas_conditions_and_uses_the_evidence_table_regions():
    kb = shipped_catalog().kb
    assert set(reference("trigger_points.yaml")["vocabulary"]["conditions"]) <= set(kb.conditions)
    with (REFERENCE / "evidence_syntheses.csv").open(encoding="utf-8") as handle:
        csv_regions = {row["body_region"] for row in csv.DictReader(handle)}
    used = {c.evidence_region for c in kb.conditions.values()} - {None}
    assert used <= csv_regions
    assert set(kb.evidence_regions) == csv_regions


def test_it_includes_the_conditions_the_evidence_covers():
    kb = shipped_catalog().kb
    expected = {
        "post_stroke_spasticity": "other",
        "fibromyalgia": "fibromyalgia_or_widespread",
        "knee_osteoarthritis": "knee",
        "doms_athletic_recovery": None,
        "plantar_heel_pain": "plantar_heel",
        "tmd_orofacial_pain": "tmd_jaw",
    }
    assert {key: kb.condition(key).evidence_region for key in expected} == expected
    assert kb.condition("doms_athletic_recovery").evidence_note


def test_it_gives_an_icd10_note_wherever_no_code_is_listed():
    for condition in shipped_catalog().kb.conditions.values():
        assert condition.icd10 or condition.icd10_note, condition.id


def _prose(kb) -> dict[str, str]:
    """Every free-text field of the knowledge base, keyed by where it lives."""
    texts: dict[str, str] = {}
    for m in kb.muscles.values():
        texts |= {f"{m.id}.notes": m.notes, f"{m.id}.evidence_notes": m.evidence_notes or ""}
        texts |= {f"{m.id}.audit": m.audit or ""}
        texts |= {f"{m.id}.needling_safety.{i}": h.note for i, h in enumerate(m.needling_safety)}
    for item in kb.safety_items.values():
        for name in ("rationale", "clinician_action", "patient_text", "audit"):
            texts[f"{item.id}.{name}"] = getattr(item, name) or ""
    for region in kb.anatomical_regions.values():
        texts |= {f"{region.id}.facts.{i}": fact for i, fact in enumerate(region.facts)}
        texts |= {f"{region.id}.precautions.{i}": step for i, step in enumerate(region.precautions)}
    for measure in kb.measures.values():
        for name in ("scoring", "licensing", "notes", "mcid_note", "audit"):
            texts[f"{measure.id}.{name}"] = getattr(measure, name) or ""
        texts |= {f"{measure.id}.mcid.{i}": m.context for i, m in enumerate(measure.mcid)}
    for condition in kb.conditions.values():
        texts |= {f"{condition.id}.description": condition.description}
    return texts


@needs_reference
def test_it_words_the_text_itself_instead_of_copying_the_reference():
    run = 10  # words in a row; shorter shared runs are names, numbers and set phrases
    reference_text = " ".join(p.read_text(encoding="utf-8") for p in REFERENCE.glob("*.*"))
    ref_words = re.findall(r"[a-z]+", reference_text.lower())
    ref_runs = {tuple(ref_words[i : i + run]) for i in range(len(ref_words) - run + 1)}
    copied = {}
    for where, text in _prose(shipped_catalog().kb).items():
        words = re.findall(r"[a-z]+", text.lower())
        shared = [
            " ".join(words[i : i + run])
            for i in range(len(words) - run + 1)
            if tuple(words[i : i + run]) in ref_runs
        ]
        if shared:
            copied[where] = shared[0]
    assert not copied
