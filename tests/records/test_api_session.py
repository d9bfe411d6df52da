"""The records JSON API with the web session instead of a bearer token: reads need only the session; a
request that changes data also carries the session's CSRF token as ``X-CSRF-Token``; a bearer request needs
no CSRF token; without either the answer is 401."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from records_helpers import PATIENT

from dryneedling.services import accounts

PASSWORD = "a long enough password"


@pytest.fixture
def browser(api) -> Iterator[TestClient]:
    """A client of the same app with its own cookie jar (the shared ``api`` client keeps none)."""
    with TestClient(api.app, raise_server_exceptions=False) as client:
        yield client


def _sign_in(client: TestClient, store, world, role: str = "clinician") -> str:
    """Signs a new user of the world's clinic in through the page; returns the session's CSRF token."""
    email = f"{role}.{uuid.uuid4().hex[:6]}@example.org"
    accounts.add_user(store, uuid.UUID(world.clinic), email, role, PASSWORD, name=f"Session {role.title()}")
    page = client.get("/records/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    page = client.post("/records/login", data={"csrf": token, "email": email, "password": PASSWORD})
    assert page.url.path == "/records/patients", page.text
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def test_a_signed_in_session_reads_and_with_its_csrf_header_writes(browser, store, world, chart):
    token = _sign_in(browser, store, world)
    created = browser.post("/api/patients", json=PATIENT, headers={"X-CSRF-Token": token})
    assert created.status_code == 201, created.text
    patient = created.json()["id"]
    assert browser.get(f"/api/patients/{patient}").json()["name"] == "Ann Example"
    assert any(item["id"] == patient for item in browser.get("/api/patients?q=ann").json()["items"])
    # what a bearer clinician of the same clinic made is readable by the session too
    assert browser.get(f"/api/patients/{chart.patient()}").status_code == 200


@pytest.mark.parametrize("header", [None, "forged", ""])
def test_a_session_write_without_its_csrf_token_is_refused(browser, store, world, header):
    _sign_in(browser, store, world)
    headers = {} if header is None else {"X-CSRF-Token": header}
    response = browser.post("/api/patients", json=PATIENT, headers=headers)
    assert response.status_code == 403, response.text
    assert "X-CSRF-Token" in response.json()["error"]["message"]
    assert browser.get("/api/patients?q=ann").status_code == 200


def test_the_session_keeps_the_roles(browser, store, world):
    token = _sign_in(browser, store, world, role="auditor")
    response = browser.post("/api/patients", json=PATIENT, headers={"X-CSRF-Token": token})
    assert response.status_code == 403
    assert browser.get("/api/patients").status_code == 200


def test_a_session_sees_nothing_of_another_clinic(browser, store, world, api):
    other = api.post("/api/patients", json=PATIENT, headers=world.outsider.headers).json()["id"]
    _sign_in(browser, store, world)
    assert browser.get(f"/api/patients/{other}").status_code == 404


def test_a_bearer_request_needs_no_csrf_token(api, world):
    api.cookies.clear()
    response = api.post("/api/patients", json=PATIENT, headers=world.clinician.headers)
    assert response.status_code == 201, response.text


def test_a_bad_bearer_token_is_refused_even_beside_a_valid_session(browser, store, world):
    _sign_in(browser, store, world)
    response = browser.get("/api/patients", headers={"Authorization": "Bearer dn_nope"})
    assert response.status_code == 401


def test_signing_out_ends_api_access(browser, store, world):
    token = _sign_in(browser, store, world)
    assert browser.get("/api/patients").status_code == 200
    browser.post("/records/logout", data={"csrf": token})
    response = browser.get("/api/patients")
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


def test_a_forged_session_cookie_is_no_session(browser):
    browser.cookies.set("dn_session", "eyJ1c2VyIjoge319.forged.sig")
    assert browser.get("/api/patients").status_code == 401


def test_the_openapi_document_names_both_ways_in(api):
    schemes = api.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert schemes["APIKeyCookie"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "dn_session",
        "description": schemes["APIKeyCookie"]["description"],
    }
