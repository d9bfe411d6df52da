"""The JSON API answers like the CLI and reports every bad input in one error shape with HTTP 422."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dryneedling.assessment.atlas import rank_muscles
from dryneedling.assessment.profile import load_profile
from dryneedling.assessment.report import build_report
from dryneedling.evidence.table import evidence_table
from shipped import shipped_catalog

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))
ERROR_KEYS = {"field", "message", "value", "suggestions", "choices"}
MINIMAL_PROFILE = {"age": 52, "condition": "low_back_pain", "pain_regions": ["low_back"], "consent": True}


def _error(response, status=422):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) >= ERROR_KEYS
    return body["error"]


def test_it_reports_health_with_the_knowledge_base_size(client):
    kb = shipped_catalog().kb
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert (body["regions"], body["muscles"], body["conditions"]) == (
        len(kb.regions),
        len(kb.muscles),
        len(kb.conditions),
    )


def test_it_lists_every_region_with_a_label_and_a_chart_view(client):
    kb = shipped_catalog().kb
    regions = client.get("/api/regions").json()
    assert {r["id"] for r in regions} == set(kb.regions)
    assert all(r["label"] and r["views"] and r["area_label"] for r in regions)


def test_it_lists_every_condition(client):
    kb = shipped_catalog().kb
    conditions = client.get("/api/conditions").json()
    assert {c["id"] for c in conditions} == set(kb.conditions)


def test_it_ranks_muscles_exactly_as_the_atlas_does(client):
    response = client.get("/api/atlas", params={"pain": "posterior_neck,temple", "side": "left"})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = rank_muscles(shipped_catalog(), ["posterior_neck", "temple"], side="left")
    assert [c["muscle"] for c in body["candidates"]] == [c.muscle for c in expected]
    assert body["candidates"], "neck and temple pain should have candidate muscles"
    scores = [c["score"] for c in body["candidates"]]
    assert scores == sorted(scores, reverse=True)


def test_it_names_an_unknown_pain_region_and_suggests_the_closest(client):
    error = _error(client.get("/api/atlas", params={"pain": "posterior_nek"}))
    assert error["field"].startswith("pain")
    assert "posterior_neck" in error["suggestions"]


def test_it_asks_for_at_least_one_painful_region(client):
    error = _error(client.get("/api/atlas", params={"pain": " , "}))
    assert error["field"] == "pain"


def test_it_lists_the_valid_sides_when_the_side_is_wrong(client):
    error = _error(client.get("/api/atlas", params={"pain": "low_back", "side": "up"}))
    assert error["field"] == "side"
    assert error["choices"] == ["left", "right"]


def test_it_names_a_missing_query_parameter(client):
    error = _error(client.get("/api/atlas"))
    assert error["field"] == "pain" and error["message"] == "is required"


def test_it_filters_the_evidence_table_like_the_core(client):
    expected = evidence_table(shipped_catalog(), region="neck")
    body = client.get("/api/evidence", params={"region": "neck"}).json()
    assert [row["id"] for row in body["rows"]] == [row.id for row in expected.rows]
    assert body["rows"] and all(row["region"] == "neck" for row in body["rows"])


def test_it_rejects_an_unknown_evidence_filter(client):
    error = _error(client.get("/api/evidence", params={"comparator": "shamm"}))
    assert error["field"] == "comparator"


def test_it_has_example_profiles_to_check_against():
    assert EXAMPLES, "examples/*.yaml missing: the API-vs-core identity tests would check nothing"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_it_returns_the_same_report_as_the_core_for_every_example(client, example, audience):
    data = yaml.safe_load(example.read_text())
    response = client.post(f"/api/assess?audience={audience}", json=data)
    assert response.status_code == 200, response.text
    expected = build_report(
        load_profile(example, shipped_catalog()), shipped_catalog(), audience=audience
    ).model_dump(mode="json")
    assert response.json() == expected
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers


def test_it_names_an_unknown_condition_with_suggestions(client):
    data = dict(MINIMAL_PROFILE) | {"condition": "low_bak_pain"}
    error = _error(client.post("/api/assess", json=data))
    assert error["field"] == "condition"
    assert "low_back_pain" in error["suggestions"]


def test_it_names_a_missing_required_profile_field(client):
    data = dict(MINIMAL_PROFILE)
    data.pop("consent")
    error = _error(client.post("/api/assess", json=data))
    assert error["field"] == "consent" and error["message"] == "is required"


def test_it_turns_malformed_json_into_the_error_shape(client):
    error = _error(
        client.post("/api/assess", content=b"{not json", headers={"content-type": "application/json"})
    )
    assert error["field"] == "body" and "malformed JSON" in error["message"]


def test_it_rejects_a_profile_that_is_not_an_object(client):
    error = _error(client.post("/api/assess", json=[1, 2]))
    assert error["field"] == "body"


def test_it_rejects_an_unknown_audience(client):
    data = dict(MINIMAL_PROFILE)
    error = _error(client.post("/api/assess?audience=press", json=data))
    assert error["field"] == "audience" and error["choices"] == ["clinician", "patient"]


def test_it_answers_unknown_paths_with_404_in_the_same_shape(client):
    error = _error(client.get("/api/nothing-here"), status=404)
    assert error["field"] is None and "/api/nothing-here" in error["message"]


def test_it_answers_a_wrong_method_in_the_same_shape(client):
    error = _error(client.delete("/api/regions"), status=405)
    assert error["field"] is None


def test_it_documents_typed_responses_and_the_error_shape_in_openapi(client):
    spec = client.get("/openapi.json").json()
    assess = spec["paths"]["/api/assess"]["post"]
    assert assess["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Report")
    assert assess["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorResponse"
    )
    assert assess["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/PatientProfile")
    schemas = spec["components"]["schemas"]
    assert {"Report", "PatientProfile", "ErrorResponse", "AtlasAnswer", "EvidenceTable"} <= set(schemas)
    for path in ("/api/atlas", "/api/evidence", "/api/regions", "/api/conditions", "/api/health"):
        assert "$ref" in str(spec["paths"][path]["get"]["responses"]["200"]), path


def test_it_suggests_known_medicine_names_for_a_fragment(client):
    response = client.get("/api/medications", params={"q": "clex"})
    assert response.status_code == 200
    first = response.json()["items"][0]
    assert first == {"name": "Clexane", "drug": "enoxaparin", "class": "anticoagulant", "atc": "B01AB05"}
    assert client.get("/api/medications", params={"q": ""}).json() == {"items": []}
    assert client.get("/api/medications", params={"q": "zzzzqqq"}).json() == {"items": []}
