"""FHIR R4 export: GET /api/patients/{id}/fhir and `dryneedling export fhir` give one Bundle whose every
resource validates against fhir.resources' R4B models, with verified codes only (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import date

import pytest
from records_helpers import THREE_MUSCLES, born_at, profile
from typer.testing import CliRunner

from dryneedling.records import fhir

R4B = pytest.importorskip("fhir.resources.R4B", reason="fhir.resources (test extra) validates the export")
from fhir.resources.R4B import get_fhir_model_class  # noqa: E402
from fhir.resources.R4B.bundle import Bundle  # noqa: E402


def _export(api, world, patient_id: str, as_: str = "clinician"):
    return api.get(f"/api/patients/{patient_id}/fhir", headers=world.people[as_].headers)


def _signed_visit(chart, episode_id: str, **changes) -> str:
    visit_id = chart.visit(episode_id, **changes)
    response = chart.api.post(f"/api/visits/{visit_id}/sign", headers=chart.world.clinician.headers)
    assert response.status_code == 200, response.text
    return visit_id


def _patient_with_visit(chart, **changes) -> tuple[str, str, str]:
    patient_id = chart.patient()
    episode_id = chart.episode(patient_id)
    chart.consent(episode_id)
    return patient_id, episode_id, _signed_visit(chart, episode_id, **changes)


def _by_type(bundle: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for entry in bundle["entry"]:
        found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return found


def _validate(bundle: dict) -> None:
    """Every resource through its R4B model, the Bundle as a whole, and every reference resolved inside."""
    Bundle.model_validate(bundle)
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    assert len(full_urls) == len(bundle["entry"]), "duplicate fullUrl"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
    for reference in _references(bundle["entry"]):
        assert reference in full_urls, f"dangling reference {reference}"


def _references(value) -> list[str]:
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for item in value.values() for r in _references(item)]
    if isinstance(value, list):
        return [r for item in value for r in _references(item)]
    return []


def test_it_exports_a_signed_visit_as_a_valid_r4_bundle(api, chart, world, catalog):
    events = [
        {"category": "bruising", "severity": "mild"},
        {"category": "pain_after", "severity": "significant", "note": "Sore for three days"},
        {"category": "fainting", "severity": "major"},
    ]
    patient_id, _, visit_id = _patient_with_visit(chart, adverse_events=events)
    response = _export(api, world, patient_id)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.headers["cache-control"] == "no-store"
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    _validate(bundle)
    resources = _by_type(bundle)

    (patient,) = resources["Patient"]
    assert patient["id"] == patient_id and patient["gender"] == "female"
    assert patient["birthDate"] == "1980-02-03" and patient["name"] == [{"text": "Ann Example"}]
    (mrn,) = patient["identifier"]
    assert mrn["system"] == fhir.mrn_system(uuid.UUID(world.clinic)) and mrn["value"].startswith("MRN-")

    assert [p["id"] for p in resources["Practitioner"]] == [world.clinician.user_id]

    (condition,) = resources["Condition"]  # neck_pain_stiff_neck: the KB holds verified codes (M54.2, ...)
    verified = catalog.kb.conditions["neck_pain_stiff_neck"].icd10
    assert "M54.2" in {code.code for code in verified}
    assert condition["code"]["coding"] == [
        {"system": fhir.ICD10_CM, "code": code.code, "display": code.label} for code in verified
    ]
    assert condition["code"]["text"] == catalog.kb.conditions["neck_pain_stiff_neck"].label

    (consent,) = resources["Consent"]
    assert consent["status"] == "active"
    assert consent["scope"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
        "code": "treatment",
        "display": "Treatment",
    }
    assert consent["category"][0]["coding"][0]["code"] == "59284-0"
    text = base64.b64decode(consent["sourceAttachment"]["data"])
    assert consent["sourceAttachment"]["hash"] == base64.b64encode(hashlib.sha1(text).digest()).decode()
    (sha256,) = consent["sourceAttachment"]["extension"]
    assert sha256["valueString"] == hashlib.sha256(text).hexdigest()

    (procedure,) = resources["Procedure"]
    assert procedure["id"] == visit_id and procedure["status"] == "completed"
    assert procedure["code"]["coding"] == [{"system": "http://www.ama-assn.org/go/cpt", "code": "20561"}]
    names = {m.id: m.name for m in catalog.kb.muscles.values()}
    assert [site["text"] for site in procedure["bodySite"]] == [
        f"{names['upper_trapezius']}, right",
        f"{names['sternocleidomastoid']}, both sides",
        f"{names['temporalis']}, right",
    ]
    assert all("coding" not in site for site in procedure["bodySite"])  # no SNOMED code is verified
    assert "3 local twitch responses" in procedure["note"][0]["text"]
    assert procedure["reasonReference"] == [{"reference": f"urn:uuid:{condition['id']}"}]
    assert procedure["performer"] == [{"actor": {"reference": f"urn:uuid:{world.clinician.user_id}"}}]

    pain = {o["note"][0]["text"]: o for o in resources["Observation"]}
    assert pain["Reported before needling"]["valueInteger"] == 6
    assert pain["Reported after needling"]["valueInteger"] == 3
    assert {o["code"]["coding"][0]["code"] for o in resources["Observation"]} == {"72514-3"}

    severities = [e["severity"]["coding"][0]["code"] for e in resources["AdverseEvent"]]
    assert severities == ["mild", "moderate", "severe"]
    for event in resources["AdverseEvent"]:
        assert event["actuality"] == "actual"
        assert event["suspectEntity"] == [{"instance": {"reference": f"urn:uuid:{visit_id}"}}]
        assert event["subject"] == {"reference": f"urn:uuid:{patient_id}"}
    assert resources["AdverseEvent"][0]["event"]["text"] == "Bruising"
    assert resources["AdverseEvent"][1]["extension"][0]["valueString"] == "Sore for three days"


def test_it_gives_the_same_ids_when_exported_twice(api, chart, world):
    patient_id, _, _ = _patient_with_visit(chart)
    first, second = (_export(api, world, patient_id).json() for _ in range(2))
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]
    assert first["id"] == second["id"]


def test_it_leaves_drafts_out_and_marks_a_withdrawn_consent_inactive(api, chart, world):
    patient_id = chart.patient()
    episode_id = chart.episode(patient_id)
    chart.consent(episode_id)
    chart.visit(episode_id)  # a draft: may still change, so it is not exported
    withdrawn = api.post(f"/api/episodes/{episode_id}/consent/withdraw", headers=world.clinician.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    bundle = _export(api, world, patient_id).json()
    _validate(bundle)
    resources = _by_type(bundle)
    assert "Procedure" not in resources and "AdverseEvent" not in resources
    (consent,) = resources["Consent"]
    assert consent["status"] == "inactive" and "end" in consent["provision"]["period"]


def test_it_codes_a_condition_only_with_a_verified_icd10_code(api, chart, world):
    patient_id = chart.patient(birth_date=born_at(profile("plantar_heel")["age"]))
    chart.episode(patient_id, example="plantar_heel")  # plantar_heel_pain: no verified ICD-10 code in the KB
    bundle = _export(api, world, patient_id).json()
    _validate(bundle)
    (condition,) = _by_type(bundle)["Condition"]
    assert "coding" not in condition["code"] and condition["code"]["text"]


def test_it_exports_a_patient_of_the_clinic_only(api, chart, world):
    patient_id, _, _ = _patient_with_visit(chart)
    assert _export(api, world, patient_id, as_="outsider").status_code == 404
    assert _export(api, world, str(uuid.uuid4())).status_code == 404
    assert api.get(f"/api/patients/{patient_id}/fhir").status_code == 401
    assert _export(api, world, patient_id, as_="auditor").status_code == 200


def test_it_names_the_practitioners_training(store, api, chart, world, catalog):
    from dryneedling.records.entities import Training
    from dryneedling.services import accounts

    email = f"trained.{uuid.uuid4().hex[:8]}@example.org"
    training = Training(hours=54, course="DN-1", jurisdiction="Ontario", completed_on=date(2020, 5, 1))
    accounts.add_user(
        store, uuid.UUID(world.clinic), email, "clinician", None, name="Tess Trained", training=training
    )
    world.people["trained"] = type(world.clinician)(
        email=email, role="clinician", token=accounts.issue_token(store, email), user_id=""
    )
    patient_id = chart.patient(as_="trained")
    episode_id = chart.episode(patient_id, as_="trained")
    bundle = _export(api, world, patient_id).json()
    _validate(bundle)
    (practitioner,) = _by_type(bundle)["Practitioner"]
    assert practitioner["name"] == [{"text": "Tess Trained"}]
    (qualification,) = practitioner["qualification"]
    assert qualification["code"]["text"] == "Dry needling training, DN-1, 54 hours, Ontario"
    assert qualification["period"] == {"start": "2020-05-01"}
    assert episode_id


def test_the_command_line_writes_the_same_bundle(api, chart, world, database_url, tmp_path, monkeypatch):
    from dryneedling.cli import app

    patient_id, _, _ = _patient_with_visit(chart)
    from_api = _export(api, world, patient_id).json()
    monkeypatch.setenv("DRYNEEDLING_DATABASE_URL", database_url)
    out = tmp_path / "patient.json"
    result = CliRunner().invoke(app, ["export", "fhir", patient_id, "-o", str(out)])
    assert result.exit_code == 0, result.output
    from_cli = json.loads(out.read_text())
    from_api.pop("timestamp"), from_cli.pop("timestamp")
    assert from_cli == from_api
    result = CliRunner().invoke(app, ["export", "fhir", patient_id, "--clinic", world.other_clinic])
    assert result.exit_code == 1 and "patient not found" in result.output
    result = CliRunner().invoke(app, ["export", "fhir", "not-an-id"])
    assert result.exit_code == 2 and "PATIENT_ID" in result.output


def test_outcome_observations_use_loinc_only_where_verified():
    """The lead wires the outcome-measure records to this after merge; here with constructed scores."""
    patient_id, clinician_id = uuid.uuid4(), uuid.uuid4()
    terms = fhir.Terms(measures={"nprs": "Numeric Pain Rating Scale", "ndi": "Neck Disability Index"})
    scores = [
        fhir.OutcomeScore(uuid.uuid4(), patient_id, "nprs", 4, date(2026, 1, 5), clinician_id),
        fhir.OutcomeScore(uuid.uuid4(), patient_id, "ndi", 17.5, date(2026, 1, 5), note="Week 4"),
    ]
    nprs, ndi = fhir.outcome_observations(scores, terms)
    assert nprs["code"]["coding"][0] == {
        "system": fhir.LOINC,
        "code": "72514-3",
        "display": fhir.PAIN_LOINC[1],
    }
    assert nprs["valueInteger"] == 4
    assert ndi["code"]["coding"][0] == {
        "system": fhir.OUTCOME_MEASURE_SYSTEM,
        "code": "ndi",
        "display": "Neck Disability Index",
    }
    assert ndi["valueQuantity"] == {"value": 17.5}
    for resource in (nprs, ndi):
        get_fhir_model_class("Observation").model_validate(resource)


def test_every_severity_has_a_fhir_code(catalog):
    assert set(fhir.SEVERITY) == {severity.id for severity in catalog.practice.severities}
    assert THREE_MUSCLES  # the visits above needle three distinct muscles -> 20561


def test_a_guardians_consent_names_the_guardian_as_performer(api, chart, world):
    patient_id = chart.patient()
    episode_id = chart.episode(patient_id)
    response = api.post(
        f"/api/episodes/{episode_id}/consent",
        json={"signed_by": "guardian", "signer_name": "Gail Guardian", "method": "typed_name_and_tick"},
        headers=world.clinician.headers,
    )
    assert response.status_code == 201, response.text
    bundle = _export(api, world, patient_id).json()
    _validate(bundle)
    (consent,) = _by_type(bundle)["Consent"]
    assert consent["performer"] == [{"display": "Gail Guardian (guardian)"}]
    assert consent["patient"] == {"reference": f"urn:uuid:{patient_id}"}


def test_the_patient_page_links_the_export_for_a_signed_in_user(tmp_path, catalog):
    import re

    from fastapi.testclient import TestClient

    from dryneedling.db import open_store
    from dryneedling.web.app import create_app

    store = open_store(f"sqlite:///{tmp_path / 'pages.db'}", migrate=True)
    with TestClient(create_app(catalog, store, session_key="k" * 40)) as client:
        page = client.get("/records/setup")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        password = "a long enough password"
        page = client.post(
            "/records/setup",
            data={
                "csrf": token,
                "clinic": "Page Physio",
                "name": "Olive Owner",
                "email": "o@page.example",
                "password": password,
                "password_again": password,
            },
        )
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # the signed-in session's
        page = client.post(
            "/records/patients",
            data={"csrf": token, "name": "Pat Page", "birth_date": "1990-01-02", "sex": "other"},
        )
        link = re.search(r'href="(/api/patients/[^"]+/fhir)"', page.text)
        assert link, "the patient page links the FHIR export"
        response = client.get(link.group(1))  # the session is enough for a read
        assert response.status_code == 200, response.text
        _validate(response.json())
        assert _by_type(response.json())["Patient"][0]["gender"] == "other"
    store.engine.dispose()


def test_it_exports_the_episodes_outcome_scores_as_observations(api, chart, world):
    """Recorded outcome measures leave with the record: LOINC only where verified, the local system otherwise."""
    patient_id, episode_id, _ = _patient_with_visit(chart)
    headers = world.people["clinician"].headers
    for body in ({"measure": "nprs", "score": 6, "date": "2026-01-05"}, {"measure": "ndi", "score": 14}):
        response = api.post(f"/api/episodes/{episode_id}/outcomes", json=body, headers=headers)
        assert response.status_code == 201, response.text
    bundle = _export(api, world, patient_id).json()
    _validate(bundle)  # every reference, the recorder's Practitioner included, resolves inside the bundle
    surveys = [
        o
        for o in _by_type(bundle)["Observation"]
        if o.get("category", [{}])[0].get("coding", [{}])[0].get("code") == "survey"
    ]
    codes = {o["code"]["coding"][0]["code"]: o["code"]["coding"][0]["system"] for o in surveys}
    assert codes["ndi"] == fhir.OUTCOME_MEASURE_SYSTEM
    assert set(codes) == {"ndi", "nprs"} or "72514-3" in codes
    assert all(o["subject"]["reference"] == f"urn:uuid:{patient_id}" for o in surveys)
