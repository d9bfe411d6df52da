"""Loading validates the whole knowledge base and reports every problem with its file, entry and field."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from dryneedling.errors import InputError
from dryneedling.knowledge import KnowledgeError, load_knowledge
from dryneedling.knowledge.load import _load
from shipped import shipped_catalog

from .helpers import entry


def problems_of(data_dir: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(data_dir)
    return [str(p) for p in caught.value.problems]


def test_it_loads_the_packaged_knowledge_base_with_the_expected_counts():
    kb = shipped_catalog().kb
    assert len(kb.muscles) == 45
    assert len(kb.safety_items) == 26
    assert len(kb.anatomical_regions) == 5
    assert len(kb.conditions) >= 32
    assert len(kb.areas) == 13
    assert len(kb.regions) == 81
    assert len(kb.measures) >= 15


def test_it_returns_the_same_cached_object_on_every_call():
    assert shipped_catalog().kb is shipped_catalog().kb


def test_it_loads_well_under_200_ms(data_copy):
    assert shipped_catalog().kb  # warm imports
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        _load(data_copy)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.2, timings


def test_it_is_read_only():
    kb = shipped_catalog().kb
    with pytest.raises(TypeError):
        kb.muscles["new"] = kb.muscles["deltoid"]  # type: ignore[index]
    with pytest.raises(ValidationError):
        kb.muscles["deltoid"].confidence = "high"  # type: ignore[misc]


def test_it_names_the_closest_ids_when_an_entry_is_unknown():
    kb = shipped_catalog().kb
    with pytest.raises(InputError) as caught:
        kb.muscle("upper_trapezus")
    assert caught.value.field == "muscle"
    assert "upper_trapezius" in caught.value.suggestions
    with pytest.raises(InputError):
        kb.region("elbow_pit")
    with pytest.raises(InputError):
        kb.measure("ndx")


def test_it_reports_an_unknown_condition_referenced_by_a_muscle(data_copy, edit):
    edit("muscles.yaml", lambda d: entry(d, "muscles", "upper_trapezius")["conditions"].append("hiccups"))
    assert "muscles.yaml: upper_trapezius.conditions: unknown condition id 'hiccups'" in problems_of(
        data_copy
    )


def test_it_reports_an_unknown_measure_referenced_by_a_condition(data_copy, edit):
    edit("conditions.yaml", lambda d: entry(d, "conditions", "low_back_pain")["measures"].append("odix"))
    assert "conditions.yaml: low_back_pain.measures: unknown measure id 'odix'" in problems_of(data_copy)


def test_it_reports_an_unknown_anatomical_region_in_needling_safety(data_copy, edit):
    def change(d):
        entry(d, "muscles", "rhomboids")["needling_safety"][0]["anatomical_region"] = "lungs"

    edit("muscles.yaml", change)
    expected = (
        "muscles.yaml: rhomboids.needling_safety.0.anatomical_region: unknown anatomical region id 'lungs'"
    )
    assert expected in problems_of(data_copy)


def test_it_reports_an_evidence_region_the_evidence_table_does_not_use(data_copy, edit):
    edit("conditions.yaml", lambda d: entry(d, "conditions", "knee_pain").update(evidence_region="knees"))
    expected = "conditions.yaml: knee_pain.evidence_region: unknown evidence region id 'knees'"
    assert expected in problems_of(data_copy)


def test_it_reports_a_duplicate_muscle_id(data_copy, edit):
    edit("muscles.yaml", lambda d: d["muscles"].append(dict(entry(d, "muscles", "soleus"))))
    assert "muscles.yaml: soleus.id: duplicate muscle id 'soleus'" in problems_of(data_copy)


def test_it_reports_a_source_id_defined_in_two_bibliography_files(data_copy, edit):
    edit(
        "sources/general.yaml",
        lambda d: d["sources"].append(
            {"id": "medlink_scm", "citation": "again", "tier": 3, "url": "https://example.org"}
        ),
    )
    expected = "sources/general.yaml: medlink_scm.id: duplicate source id 'medlink_scm' (also in atlas.yaml)"
    assert expected in problems_of(data_copy)


def test_it_merges_every_bibliography_file_in_the_sources_folder(data_copy):
    (data_copy / "sources" / "extra.yaml").write_text(
        'sources:\n- {id: extra_2026, citation: Extra source, tier: 3, url: "https://example.org/extra"}\n'
    )
    assert load_knowledge(data_copy).source("extra_2026").citation == "Extra source"


def test_it_reports_a_citation_that_does_not_resolve(data_copy, edit):
    edit("safety.yaml", lambda d: entry(d, "items", "pregnancy")["sources"].append("nobody_2099"))
    assert "safety.yaml: pregnancy.sources: unknown source id 'nobody_2099'" in problems_of(data_copy)


def test_it_reports_an_unresolved_mcid_source(data_copy, edit):
    edit("measures.yaml", lambda d: entry(d, "measures", "odi")["mcid"][0].update(source="ostelo_2009"))
    assert "measures.yaml: odi.mcid.0.source: unknown source id 'ostelo_2009'" in problems_of(data_copy)


def test_it_reports_a_referral_zone_outside_the_vocabulary(data_copy, edit):
    edit("muscles.yaml", lambda d: entry(d, "muscles", "supinator")["referral_zones"].append("elbow_pit"))
    assert "muscles.yaml: supinator.referral_zones: unknown body region id 'elbow_pit'" in problems_of(
        data_copy
    )


def test_it_reports_an_anatomical_region_lying_under_an_unknown_body_region(data_copy, edit):
    edit(
        "safety.yaml", lambda d: entry(d, "anatomical_regions", "thorax_lung")["body_regions"].append("ribs")
    )
    assert "safety.yaml: thorax_lung.body_regions: unknown body region id 'ribs'" in problems_of(data_copy)


def test_it_reports_an_mcid_larger_than_its_scale(data_copy, edit):
    edit("measures.yaml", lambda d: entry(d, "measures", "nprs")["mcid"][0].update(value=12))
    problems = problems_of(data_copy)
    assert any(p.startswith("measures.yaml: nprs.mcid.0.value: 12") and "outside" in p for p in problems)


def test_it_reports_a_band_outside_the_range(data_copy, edit):
    edit("measures.yaml", lambda d: entry(d, "measures", "ndi")["bands"][-1].update(high=60))
    assert any(p.startswith("measures.yaml: ndi.bands.4:") for p in problems_of(data_copy))


def test_it_reports_a_missing_confidence(data_copy, edit):
    edit("safety.yaml", lambda d: entry(d, "items", "needle_phobia").pop("confidence"))
    assert "safety.yaml: needle_phobia.confidence: missing required field" in problems_of(data_copy)


def test_it_reports_a_confidence_that_is_not_high_moderate_or_low(data_copy, edit):
    edit("muscles.yaml", lambda d: entry(d, "muscles", "deltoid").update(confidence="certain"))
    assert any(p.startswith("muscles.yaml: deltoid.confidence:") for p in problems_of(data_copy))


def test_it_reports_an_unknown_field(data_copy, edit):
    edit("conditions.yaml", lambda d: entry(d, "conditions", "whiplash").update(icd_10=[]))
    assert any(p.startswith("conditions.yaml: whiplash.icd_10:") for p in problems_of(data_copy))


def test_it_reports_a_file_that_is_not_valid_yaml(data_copy):
    (data_copy / "measures.yaml").write_text("measures: [unclosed\n")
    assert any(p.startswith("measures.yaml: -: not valid YAML") for p in problems_of(data_copy))


def test_it_reports_every_problem_at_once(data_copy, edit):
    edit("muscles.yaml", lambda d: entry(d, "muscles", "soleus")["referral_zones"].append("moon"))
    edit("safety.yaml", lambda d: entry(d, "items", "children").pop("confidence"))
    problems = problems_of(data_copy)
    assert any("soleus.referral_zones" in p for p in problems)
    assert any("children.confidence" in p for p in problems)


def test_it_reports_a_muscle_missing_from_the_risk_list_of_the_region_its_safety_note_names(data_copy, edit):
    edit(
        "safety.yaml",
        lambda d: entry(d, "anatomical_regions", "thorax_lung")["muscles_at_risk"].remove("rhomboids"),
    )
    expected = (
        "safety.yaml: thorax_lung.muscles_at_risk: "
        "muscle 'rhomboids' names this region in its needling_safety but is not listed"
    )
    assert expected in problems_of(data_copy)
