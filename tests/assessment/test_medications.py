"""Medicines as patients write them: brands, dose text, casing, stopped and unsure entries, near misses.

One table of real-world spellings, read against the shipped vocabulary; then the vocabulary itself
(unique names, ATC codes, sources that resolve) and how screening uses what was read.
"""

from __future__ import annotations

import re
import shutil

import pytest
import yaml
from assess_helpers import profile

from dryneedling.assessment.medications import lookup_names, read_entry, tokens
from dryneedling.assessment.profile import InputErrors, MedicationEntry, load_profile, profile_schema
from dryneedling.assessment.screening import bleeding_risk, screen
from dryneedling.knowledge.guidance import (
    ATC_PATTERN,
    GUIDANCE_DIR,
    GuidanceError,
    load_guidance,
)
from shipped import shipped_catalog

BLEEDING = "bleeding_disorder_anticoagulants"

# (as written, drug id or None, status, dose or None)
SPELLINGS = [
    # ---- low-molecular-weight heparins and heparin ----
    ("Lovenox", "enoxaparin", "current", None),
    ("LOVENOX 40 mg SC daily", "enoxaparin", "current", "40 mg SC daily"),
    ("Clexane", "enoxaparin", "current", None),
    ("Clexane(R)", "enoxaparin", "current", None),
    ("clexane 40mg", "enoxaparin", "current", "40mg"),
    ("ENOXAPARIN 40MG/0.4ML", "enoxaparin", "current", "40MG/0.4ML"),
    ("Inhixa 4000 IU", "enoxaparin", "current", "4000 IU"),
    ("Fragmin 5000 units", "dalteparin", "current", "5000 units"),
    ("dalteparin", "dalteparin", "current", None),
    ("Innohep", "tinzaparin", "current", None),
    ("tinzaparin 4500iu", "tinzaparin", "current", "4500iu"),
    ("Fraxiparine", "nadroparin", "current", None),
    ("nadroparin", "nadroparin", "current", None),
    ("bemiparin", "bemiparin", "current", None),
    ("Certoparin", "certoparin", "current", None),
    ("reviparin", "reviparin", "current", None),
    ("parnaparin", "parnaparin", "current", None),
    ("Heparin 5000 units", "heparin", "current", "5000 units"),
    ("unfractionated heparin", "heparin", "current", None),
    ("LMWH injections", "lmwh_unspecified", "current", None),
    ("low-molecular-weight heparin", "lmwh_unspecified", "current", None),
    ("Arixtra 2.5mg", "fondaparinux", "current", "2.5mg"),
    ("fondaparinux", "fondaparinux", "current", None),
    # ---- vitamin K antagonists ----
    ("warfarin5mg", "warfarin", "current", "5mg"),
    ("WARFARIN", "warfarin", "current", None),
    ("Coumadin", "warfarin", "current", None),
    ("Jantoven 2.5 mg", "warfarin", "current", "2.5 mg"),
    ("Marevan", "warfarin", "current", None),
    ("Sintrom", "acenocoumarol", "current", None),
    ("Sinthrome 1mg", "acenocoumarol", "current", "1mg"),
    ("Sintrom-Uno", "acenocoumarol", "current", None),
    ("acenocoumarol", "acenocoumarol", "current", None),
    ("Marcoumar", "phenprocoumon", "current", None),
    ("Marcumar 3 mg", "phenprocoumon", "current", "3 mg"),
    ("Falithrom", "phenprocoumon", "current", None),
    ("phenprocoumon", "phenprocoumon", "current", None),
    ("Previscan 20mg", "fluindione", "current", "20mg"),
    ("phenindione", "phenindione", "current", None),
    # ---- direct oral anticoagulants and parenteral direct thrombin inhibitors ----
    ("Eliquis 5 mg twice daily", "apixaban", "current", "5 mg twice daily"),
    ("eliquis", "apixaban", "current", None),
    ("Xarelto® 20 mg", "rivaroxaban", "current", "20 mg"),
    ("Pradaxa 150mg bd", "dabigatran", "current", "150mg bd"),
    ("Pradax", "dabigatran", "current", None),
    ("dabigatran etexilate", "dabigatran", "current", None),
    ("Savaysa", "edoxaban", "current", None),
    ("Lixiana 60mg", "edoxaban", "current", "60mg"),
    ("Bevyxxa", "betrixaban", "current", None),
    ("argatroban", "argatroban", "current", None),
    ("Angiox", "bivalirudin", "current", None),
    ("bivalirudin", "bivalirudin", "current", None),
    ("desirudin", "desirudin", "current", None),
    ("blood thinners", "blood_thinner_unspecified", "current", None),
    # ---- antiplatelets ----
    ("aspirin 81", "aspirin", "current", "81"),
    ("Aspirin 75mg", "aspirin", "current", "75mg"),
    ("baby aspirin", "aspirin", "current", None),
    ("ASA 81 mg", "aspirin", "current", "81 mg"),
    ("Ecotrin", "aspirin", "current", None),
    ("Entrophen", "aspirin", "current", None),
    ("Bufferin", "aspirin", "current", None),
    ("Halfprin 81", "aspirin", "current", "81"),
    ("Novasen", "aspirin", "current", None),
    ("Asaphen 80mg", "aspirin", "current", "80mg"),
    ("Astrix 100", "aspirin", "current", "100"),
    ("Plavix 75mg od", "clopidogrel", "current", "75mg od"),
    ("Iscover", "clopidogrel", "current", None),
    ("clopidogrel", "clopidogrel", "current", None),
    ("Effient 10mg", "prasugrel", "current", "10mg"),
    ("Efient", "prasugrel", "current", None),
    ("Brilinta", "ticagrelor", "current", None),
    ("Brilique 90mg bd", "ticagrelor", "current", "90mg bd"),
    ("ticlopidine", "ticlopidine", "current", None),
    ("Ticlid", "ticlopidine", "current", None),
    ("Persantin", "dipyridamole", "current", None),
    ("Persantine", "dipyridamole", "current", None),
    ("Persantin Retard 200mg", "dipyridamole", "current", "200mg"),
    ("Pletal", "cilostazol", "current", None),
    ("cilostazol 100 mg", "cilostazol", "current", "100 mg"),
    ("Zontivity", "vorapaxar", "current", None),
    ("Kengreal", "cangrelor", "current", None),
    ("Kengrexal", "cangrelor", "current", None),
    ("Aggrenox", "aspirin_dipyridamole", "current", None),
    ("Asasantin Retard", "aspirin_dipyridamole", "current", None),
    ("aspirin/dipyridamole", "aspirin_dipyridamole", "current", None),
    ("DuoPlavin", "clopidogrel_aspirin", "current", None),
    ("DuoCover", "clopidogrel_aspirin", "current", None),
    # ---- negated, stopped and unsure ----
    ("not on warfarin", "warfarin", "stopped", None),
    ("no blood thinners", "blood_thinner_unspecified", "stopped", None),
    ("stopped warfarin 2019", "warfarin", "stopped", None),
    ("warfarin (stopped)", "warfarin", "stopped", None),
    ("ex-warfarin", "warfarin", "stopped", None),
    ("Plavix - discontinued", "clopidogrel", "stopped", None),
    ("used to take Eliquis", "apixaban", "stopped", None),
    ("previously on Xarelto 20mg", "rivaroxaban", "stopped", "20mg"),
    ("no aspirin", "aspirin", "stopped", None),
    ("warfarin?", "warfarin", "unknown", None),
    ("not sure if still on Clexane", "enoxaparin", "unknown", None),
    # ---- unknown names and near misses (never recognised) ----
    ("metformin 500mg", None, "current", "500mg"),
    ("vitamin D", None, "current", None),
    ("paracetamol", None, "current", None),
    ("asprin", None, "current", None),
    ("Eliqis", None, "current", None),
    ("warfrin 5mg", None, "current", "5mg"),
    ("Plavics", None, "current", None),
]


@pytest.fixture(scope="module")
def guidance():
    return shipped_catalog().guidance


def test_the_table_is_large_and_covers_every_brand_in_the_vocabulary(guidance):
    assert len(SPELLINGS) >= 60
    written = {" ".join(tokens(text)) for text, *_ in SPELLINGS}
    brands = {
        " ".join(tokens(brand.name))
        for klass in guidance.medications.classes
        for drug in klass.drugs
        for brand in drug.brands
    }
    missing = {b for b in brands if not any(re.search(rf"\b{re.escape(b)}\b", w) for w in written)}
    assert not missing, f"brands without a row in the table: {sorted(missing)}"


@pytest.mark.parametrize(("text", "drug", "status", "dose"), SPELLINGS)
def test_it_reads_real_world_spellings(guidance, text, drug, status, dose):
    finding = read_entry(text, guidance)
    assert finding.name == text
    assert finding.drug == drug
    assert finding.recognised is (drug is not None)
    assert finding.status == status
    assert finding.dose == dose
    if drug is None:
        assert finding.atc is None and "not recognised - check manually" in finding.note
    else:
        assert re.match(ATC_PATTERN, finding.atc) and finding.drug_class in {"anticoagulant", "antiplatelet"}


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [("asprin", "aspirin"), ("Eliqis", "Eliquis"), ("warfrin 5mg", "warfarin"), ("Plavics", "Plavix")],
)
def test_a_near_miss_is_only_a_suggestion(guidance, text, suggestion):
    finding = read_entry(text, guidance)
    assert not finding.recognised and finding.drug is None
    assert finding.suggestion == suggestion
    assert f"did you mean {suggestion}?" in finding.note


def test_far_off_names_get_no_suggestion(guidance):
    assert read_entry("metformin", guidance).suggestion is None
    assert read_entry("paracetamol", guidance).suggestion is None


def test_an_entry_object_keeps_its_own_status_and_dose(guidance):
    stopped = read_entry(MedicationEntry(name="Eliquis", status="stopped", dose="5 mg"), guidance)
    assert (stopped.drug, stopped.status, stopped.dose) == ("apixaban", "stopped", "5 mg")
    # An explicit status wins over the wording of the name.
    current = read_entry(MedicationEntry(name="stopped warfarin", status="current"), guidance)
    assert current.status == "current"


def test_a_combination_entry_names_every_drug_it_holds(guidance):
    finding = read_entry("warfarin and Plavix", guidance)
    assert finding.drug == "warfarin" and "also names clopidogrel" in finding.note


# ---------------- the vocabulary itself ----------------
def test_every_name_is_unique_and_every_drug_has_an_atc_code_and_resolving_sources(guidance):
    kb = shipped_catalog().kb
    owner: dict[str, str] = {}
    for klass in guidance.medications.classes:
        for drug in klass.drugs:
            assert re.match(ATC_PATTERN, drug.atc), drug.id
            assert drug.atc.startswith("B01A"), drug.id  # every listed drug is an antithrombotic
            assert drug.sources and all(s in kb.sources for s in drug.sources), drug.id
            for brand in drug.brands:
                assert brand.sources and all(s in kb.sources for s in brand.sources), brand.name
            for name in drug.all_names():
                key = " ".join(tokens(name))
                assert owner.setdefault(key, drug.id) == drug.id, f"{name!r} names two drugs"


def test_the_vocabulary_covers_every_anticoagulant_and_antiplatelet_group(guidance):
    codes = {drug.atc[:5] for klass in guidance.medications.classes for drug in klass.drugs}
    assert {"B01AA", "B01AB", "B01AC", "B01AE", "B01AF", "B01AX"} <= codes


@pytest.fixture
def copy(tmp_path):
    target = tmp_path / "guidance"
    shutil.copytree(GUIDANCE_DIR, target)
    return target


def _edit_medications(directory, change):
    path = directory / "medications.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_kb_check_reports_a_name_that_maps_to_two_drugs(copy):
    _edit_medications(copy, lambda d: d["classes"][0]["drugs"][1]["names"].append("Warfarin"))
    with pytest.raises(GuidanceError, match="also names 'warfarin'"):
        load_guidance(copy, shipped_catalog().kb)


def test_kb_check_reports_a_malformed_atc_code(copy):
    _edit_medications(copy, lambda d: d["classes"][0]["drugs"][0].update(atc="B1AA03"))
    with pytest.raises(GuidanceError, match="atc"):
        load_guidance(copy, shipped_catalog().kb)


def test_kb_check_reports_a_misspelt_field(copy):
    _edit_medications(copy, lambda d: d["classes"][0]["drugs"][0].update(brand=["Coumadin"]))
    with pytest.raises(GuidanceError, match="brand"):
        load_guidance(copy, shipped_catalog().kb)


def test_kb_check_reports_a_brand_source_that_does_not_resolve(copy):
    _edit_medications(copy, lambda d: d["classes"][0]["drugs"][0]["brands"][0]["sources"].append("nope_2099"))
    with pytest.raises(GuidanceError, match="nope_2099"):
        load_guidance(copy, shipped_catalog().kb)


# ---------------- the profile and screening ----------------
def test_a_profile_takes_strings_and_objects(guidance):
    loaded = load_profile(
        profile(medications=["Clexane 40mg", {"name": "warfarin", "status": "stopped", "dose": "5 mg"}]),
        shipped_catalog(),
    )
    assert loaded.medications[0] == MedicationEntry(name="Clexane 40mg")
    assert loaded.medications[1].status == "stopped"
    assert str(loaded.medications[1]) == "warfarin (5 mg, stopped)"


def test_a_bad_status_names_the_field_and_the_valid_choices():
    with pytest.raises(InputErrors) as caught:
        load_profile(profile(medications=[{"name": "warfarin", "status": "paused"}]), shipped_catalog())
    error = caught.value
    assert error.field == "medications[0].status"
    assert error.choices == ["current", "stopped", "unknown"]


def test_an_unknown_field_in_an_entry_is_reported():
    with pytest.raises(InputErrors) as caught:
        load_profile(profile(medications=[{"name": "warfarin", "dosage": "5 mg"}]), shipped_catalog())
    assert caught.value.field == "medications[0].dosage"


def test_the_schema_offers_a_string_or_an_entry():
    schema = profile_schema(shipped_catalog())
    items = schema["properties"]["medications"]["items"]["anyOf"]
    assert items[0]["type"] == "string" and items[1] == {"$ref": "#/$defs/MedicationEntry"}
    status = schema["$defs"]["MedicationEntry"]["properties"]["status"]
    assert status["enum"] == ["current", "stopped", "unknown"]


def _screen(medications):
    return screen(load_profile(profile(medications=medications), shipped_catalog()), shipped_catalog())


@pytest.mark.parametrize(
    "written", ["Lovenox", "Sintrom", "Marcoumar", "Arixtra", "Brilique", "Efient", "warfarin5mg"]
)
def test_brands_that_were_missed_before_now_raise_the_bleeding_item(written):
    screening = _screen([written])
    bleeding = next(i for i in screening.items if i.id == BLEEDING)
    assert written in bleeding.reason


@pytest.mark.parametrize("written", ["not on warfarin", "stopped warfarin 2019", "no blood thinners"])
def test_a_stopped_or_negated_medicine_is_listed_but_raises_nothing(written):
    screening = _screen([written])
    assert BLEEDING not in {i.id for i in screening.items}
    assert "medications" not in {i.id for i in screening.items}
    assert [m.status for m in screening.medications] == ["stopped"]
    assert not bleeding_risk(
        load_profile(profile(medications=[written]), shipped_catalog()), shipped_catalog().guidance
    )


def test_an_antithrombotic_of_unknown_status_still_raises_the_bleeding_item():
    screening = _screen([{"name": "Eliquis", "status": "unknown"}])
    assert BLEEDING in {i.id for i in screening.items}


def test_an_unknown_name_is_kept_for_a_manual_check():
    screening = _screen(["asprin"])
    manual = next(i for i in screening.items if i.id == "medications")
    assert "asprin" in manual.reason
    assert BLEEDING not in {i.id for i in screening.items}


def test_lookup_names_suggests_known_names_for_a_prefix(guidance):
    items = lookup_names("clex", guidance)
    assert items[0] == {"name": "Clexane", "drug": "enoxaparin", "class": "anticoagulant", "atc": "B01AB05"}
    assert lookup_names("", guidance) == []
    assert lookup_names("eliqis", guidance)[0]["name"] == "Eliquis"
