"""Clinics kept apart, on SQLite and PostgreSQL, by persona: a clinician of another clinic (the outsider) gets
404 for every record of the first clinic - by guessing its id, through the API, the pages and the PDFs -
exactly the answer an id that exists nowhere gets, finds none of its patients by search, and leaves nothing
in the first clinic's audit log. Inside the clinic, the audit log is for auditors and owners only.

``RECORD_ENDPOINTS`` is the one list of everything that shows or changes a record by id: a new endpoint
(follow-ups, outcomes, FHIR export ...) is added there and is then checked for every persona below.
"""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
from audit_helpers import log_rows
from fastapi.testclient import TestClient
from records_helpers import profile, visit_body

from dryneedling.services import accounts

PASSWORD = "a long enough password"
CONSENT = {"signed_by": "patient", "signer_name": "Ann Example", "method": "typed_name_and_tick"}

# (record the id is of, method, path, JSON body or None). Pages are under /records, the API under /api.
RECORD_ENDPOINTS: list[tuple[str, str, str, dict | None]] = [
    ("patient", "get", "/api/patients/{id}", None),
    ("patient", "post", "/api/patients/{id}/episodes", {"profile": profile()}),
    ("episode", "get", "/api/episodes/{id}", None),
    ("episode", "get", "/api/episodes/{id}/consent", None),
    ("episode", "post", "/api/episodes/{id}/consent", CONSENT),
    ("episode", "post", "/api/episodes/{id}/consent/withdraw", None),
    ("episode", "post", "/api/episodes/{id}/assessments", {"profile": profile()}),
    ("episode", "post", "/api/episodes/{id}/close", None),
    ("episode", "post", "/api/episodes/{id}/visits", visit_body()),
    ("visit", "get", "/api/visits/{id}", None),
    ("visit", "patch", "/api/visits/{id}", {"pain_after": 1}),
    ("visit", "post", "/api/visits/{id}/sign", None),
    ("visit", "post", "/api/visits/{id}/amendments", {"text": "x"}),
    ("visit", "get", "/api/visits/{id}/note.pdf", None),
    ("patient", "get", "/records/patients/{id}", None),
    ("episode", "get", "/records/episodes/{id}", None),
    ("episode", "get", "/records/episodes/{id}/consent", None),
    ("visit", "get", "/records/visits/{id}", None),
    ("visit", "get", "/records/visits/{id}/note.pdf", None),
    # follow-ups, outcome measures and the FHIR export (issues 11 and 12)
    ("visit", "get", "/api/visits/{id}/followups", None),
    ("visit", "get", "/api/visits/{id}/followup-events", None),
    ("visit", "get", "/records/visits/{id}/followup-card.pdf", None),
    ("episode", "post", "/api/episodes/{id}/outcomes", {"measure": "nprs", "score": 5}),
    ("episode", "get", "/api/episodes/{id}/progress", None),
    ("episode", "get", "/records/episodes/{id}/progress", None),
    ("patient", "get", "/api/patients/{id}/fhir", None),
]


BORN = f"{date.today().year - profile()['age']}-06-16"  # as old as the profile says (give or take a year)


@pytest.fixture
def records_of_a(chart, world) -> dict[str, str]:
    """A patient of clinic A with an episode, consent and a draft visit."""
    patient = chart.patient(name="Ann Example", external_id="MRN-ISO-1", birth_date=BORN)
    episode = chart.episode(patient)
    chart.consent(episode)
    visit = chart.visit(episode)
    return {"patient": patient, "episode": episode, "visit": visit}


def _signed_in(api: TestClient, store, clinic_id: str, role: str) -> TestClient:
    client = TestClient(api.app, raise_server_exceptions=False)
    email = f"{role}.{uuid.uuid4().hex[:6]}@example.org"
    accounts.add_user(store, uuid.UUID(clinic_id), email, role, PASSWORD, name=f"Paged {role.title()}")
    page = client.get("/records/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    page = client.post("/records/login", data={"csrf": token, "email": email, "password": PASSWORD})
    assert page.url.path == "/records/patients", page.text
    client.headers["X-CSRF-Token"] = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client


def _call(client: TestClient, method: str, path: str, body, headers=None):
    return client.request(method, path, json=body, headers=headers or {}, follow_redirects=False)


@pytest.mark.parametrize(("kind", "method", "path", "body"), RECORD_ENDPOINTS)
def test_the_outsider_gets_404_for_every_record_of_another_clinic_as_for_one_that_is_nowhere(
    api, store, world, records_of_a, kind, method, path, body
):
    before = len(log_rows(store, world.clinic))
    if path.startswith("/records"):
        client, headers = _signed_in(api, store, world.other_clinic, "clinician"), {"accept": "text/html"}
    else:
        client, headers = api, world.outsider.headers
    theirs = _call(client, method, path.format(id=records_of_a[kind]), body, headers)
    nowhere = _call(client, method, path.format(id=uuid.uuid4()), body, headers)
    assert theirs.status_code == 404, theirs.text
    assert nowhere.status_code == 404
    if path.startswith("/api"):
        assert theirs.json() == nowhere.json()
    for secret in ("Ann Example", "MRN-ISO-1", BORN):
        assert secret not in theirs.text
    assert len(log_rows(store, world.clinic)) == before  # nothing of clinic A was read or changed


@pytest.mark.parametrize("query", ["Ann", "ann example", "MRN-ISO-1", BORN, ""])
def test_the_outsider_finds_none_of_another_clinics_patients_by_search(
    api, store, world, records_of_a, query
):
    found = api.get("/api/patients", params={"q": query}, headers=world.outsider.headers)
    assert found.status_code == 200
    assert records_of_a["patient"] not in [item["id"] for item in found.json()["items"]]
    client = _signed_in(api, store, world.other_clinic, "clinician")
    page = client.post("/records/patients/search", data={"q": query, "csrf": client.headers["X-CSRF-Token"]})
    assert page.status_code == 200
    results = page.text[page.text.index("<table>") : page.text.index("</table>")]
    assert (
        records_of_a["patient"] not in results and "MRN-ISO-1" not in results and "Ann Example" not in results
    )


API_READS = [e for e in RECORD_ENDPOINTS if e[1] == "get" and e[2].startswith("/api")]


@pytest.mark.parametrize(("kind", "method", "path", "body"), API_READS)
@pytest.mark.parametrize("persona", ["owner", "clinician", "assistant", "auditor"])
def test_everyone_in_the_clinic_reads_every_record(
    api, world, records_of_a, persona, kind, method, path, body
):
    response = _call(api, method, path.format(id=records_of_a[kind]), body, world.people[persona].headers)
    assert response.status_code == 200, response.text


# -- the audit log page ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "status"), [("owner", 200), ("auditor", 200), ("clinician", 403), ("assistant", 403)]
)
def test_only_auditors_and_owners_read_the_audit_log(api, store, world, records_of_a, role, status):
    client = _signed_in(api, store, world.clinic, role)
    page = client.get("/records/audit", headers={"accept": "text/html"})
    assert page.status_code == status, page.text
    if status == 200:
        assert records_of_a["visit"] in page.text and "create" in page.text
        assert f'href="/records/visits/{records_of_a["visit"]}"' in page.text
        for secret in ("Ann Example", "MRN-ISO-1", BORN, "worse at the desk"):
            assert secret not in page.text
        assert 'href="/records/audit"' in page.text  # the menu offers it
    else:
        assert 'href="/records/audit"' not in client.get("/records/patients").text


def test_the_audit_log_page_filters_pages_and_verifies(api, store, world, records_of_a):
    client = _signed_in(api, store, world.clinic, "auditor")
    by_visit = client.get("/records/audit", params={"entity": "visit"})
    assert by_visit.status_code == 200
    entities = re.findall(
        r"<tr>\n<td>\d+</td>\n<td>[^<]*</td>\n<td>[^<]*</td>\n<td>[^<]*</td>\n<td>(\w+)", by_visit.text
    )
    assert entities and set(entities) == {"visit"}
    by_actor = client.get("/records/audit", params={"actor": str(uuid.uuid4())})  # no one has that id
    assert by_actor.status_code == 200 and "No entries." in by_actor.text
    numbers = [int(n) for n in re.findall(r"<tr>\n<td>(\d+)</td>", client.get("/records/audit").text)]
    assert numbers == sorted(numbers, reverse=True)  # newest first
    verified = client.get("/records/audit", params={"verify": "1"})
    assert "The chain holds" in verified.text
    bad = client.get("/records/audit", params={"entity": "nonsense"})
    assert bad.status_code == 422 and "patient" in bad.text


def test_the_outsiders_audit_log_shows_nothing_of_the_other_clinic(api, store, world, records_of_a):
    client = _signed_in(api, store, world.other_clinic, "auditor")
    page = client.get("/records/audit")
    assert page.status_code == 200
    for record in records_of_a.values():
        assert record not in page.text


def test_the_audit_log_pages_through_many_entries(api, store, world, records_of_a):
    for _ in range(60):
        api.get(f"/api/patients/{records_of_a['patient']}", headers=world.auditor.headers)
    client = _signed_in(api, store, world.clinic, "owner")
    first = client.get("/records/audit")
    assert "page 1 of 2" in first.text and 'href="/records/audit?page=2"' in first.text
    second = client.get("/records/audit", params={"page": 2})
    assert "page 2 of 2" in second.text and "Newer" in second.text
    first_numbers = {int(n) for n in re.findall(r"<tr>\n<td>(\d+)</td>", first.text)}
    second_numbers = {int(n) for n in re.findall(r"<tr>\n<td>(\d+)</td>", second.text)}
    assert first_numbers and second_numbers and not first_numbers & second_numbers
