"""The records pages: first-run set-up, sign-in, and the walk patient -> episode -> consent -> visit with
three muscles (CPT 20561) -> sign -> amendment -> PDF, with sessions, CSRF and roles."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient

from dryneedling.db import open_store
from dryneedling.services import accounts
from dryneedling.web.app import create_app

PASSWORD = "a long enough password"
THREE = {
    "muscle_0": "upper_trapezius",
    "side_0": "right",
    "needles_0": "2",
    "length_0": "30",
    "gauge_0": "0.25",
    "depth_0": "15",
    "technique_0": "fast_in_fast_out",
    "twitch_0": "2",
    "muscle_1": "temporalis",
    "side_1": "right",
    "needles_1": "1",
    "length_1": "15",
    "gauge_1": "0.2",
    "depth_1": "8",
    "technique_1": "static",
    "muscle_2": "sternocleidomastoid",
    "side_2": "bilateral",
    "needles_2": "2",
    "length_2": "30",
    "gauge_2": "0.25",
    "depth_2": "20",
    "technique_2": "static",
}


def csrf(response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', response.text).group(1)


def last_id(response) -> str:
    return str(response.url).rstrip("/").rsplit("/", 1)[1]


def walk(client: TestClient, first: object) -> dict[str, str]:
    """From a signed-in page: patient -> episode -> consent -> visit -> sign -> amendment; returns the ids."""
    page = client.get("/records/patients")
    page = client.post(
        "/records/patients",
        data={"csrf": csrf(page), "name": "Ann Example", "birth_date": "1980-02-03", "sex": "female"},
    )
    assert page.status_code == 200 and "Ann Example" in page.text
    patient = last_id(page)
    page = client.post(
        f"/records/patients/{patient}/episodes",
        data={
            "csrf": csrf(page),
            "condition": "tension_type_headache",
            "pain_regions": ["temple", "posterior_neck"],
            "side": "right",
            "pain_nprs": "6",
            "consent": "on",
            "goals": "Work without headache",
        },
    )
    assert "No valid consent" in page.text, page.text[:2000]
    episode = last_id(page)
    page = client.get(f"/records/episodes/{episode}/consent")
    assert "not acupuncture" in page.text and "Brady S" in page.text
    sha = re.search(r'name="text_sha256" value="([^"]+)"', page.text).group(1)
    page = client.post(
        f"/records/episodes/{episode}/consent",
        data={
            "csrf": csrf(page),
            "text_sha256": sha,
            "signed_by": "patient",
            "signer_name": "Ann Example",
            "typed_name": "Ann Example",
            "ticked": "on",
            "copy_given": "on",
        },
    )
    assert "Signed by patient Ann Example" in page.text
    visit_form = {
        "csrf": csrf(page),
        "pain_before": "6",
        "pain_after": "3",
        "clean_technique": "on",
        "sharps_disposed": "on",
        "event_0": "bruising",
        "severity_0": "mild",
        **THREE,
    }
    wrong = client.post(f"/records/episodes/{episode}/visits", data={**visit_form, "needles_out": "4"})
    assert wrong.status_code == 422 and "4 needles counted out but 5 went in" in wrong.text
    page = client.post(f"/records/episodes/{episode}/visits", data={**visit_form, "needles_out": "5"})
    assert "CPT 20561: 3 distinct muscles" in page.text and "Draft - not signed" in page.text
    visit = last_id(page)
    page = client.post(f"/records/visits/{visit}/sign", data={"csrf": csrf(page)})
    assert "Signed by" in page.text
    page = client.post(f"/records/visits/{visit}/amendments", data={"csrf": csrf(page), "text": "LTR were 3"})
    assert "LTR were 3" in page.text
    pdf = client.get(f"/records/visits/{visit}/note.pdf?paper=Letter")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    return {"patient": patient, "episode": episode, "visit": visit}


def test_it_walks_from_first_run_to_the_signed_note(tmp_path, catalog):
    store = open_store(f"sqlite:///{tmp_path / 'first.db'}", migrate=True)
    with TestClient(create_app(catalog, store, session_key="k" * 40)) as client:
        page = client.get("/records")
        assert page.url.path == "/records/setup"
        page = client.post(
            "/records/setup",
            data={
                "csrf": csrf(page),
                "clinic": "Harbour Physio",
                "name": "Olive Owner",
                "email": "olive@harbour.example",
                "password": PASSWORD,
                "password_again": PASSWORD,
            },
        )
        assert page.url.path == "/records/patients" and "Olive Owner (owner)" in page.text
        walk(client, None)
        # set up once: the first-run page now sends people to sign in
        assert client.get("/records/setup").url.path == "/records/login"
    store.engine.dispose()


def test_it_names_a_setup_mistake_in_words(tmp_path, catalog):
    store = open_store(f"sqlite:///{tmp_path / 'first.db'}", migrate=True)
    with TestClient(create_app(catalog, store, session_key="k" * 40)) as client:
        page = client.get("/records/setup")
        page = client.post(
            "/records/setup",
            data={
                "csrf": csrf(page),
                "clinic": "Harbour",
                "name": "O",
                "email": "o@h.example",
                "password": PASSWORD,
                "password_again": PASSWORD + "x",
            },
        )
        assert page.status_code == 422 and "the two passwords differ" in page.text
    store.engine.dispose()


@pytest.fixture
def clinician(store):
    clinic = accounts.add_clinic(store, "Harbour Physio")
    email = f"cara.{uuid.uuid4().hex[:6]}@example.org"
    accounts.add_user(store, clinic.id, email, "clinician", PASSWORD, name="Cara Clinician")
    return email


def sign_in(api: TestClient, email: str, password: str = PASSWORD):
    api.cookies.clear()
    page = api.get("/records/login")
    return api.post("/records/login", data={"csrf": csrf(page), "email": email, "password": password})


def test_it_walks_patient_to_signed_note_after_signing_in(api, clinician):
    page = sign_in(api, clinician)
    assert page.url.path == "/records/patients" and "Cara Clinician (clinician)" in page.text
    walk(api, None)


def test_it_refuses_a_wrong_password_without_saying_which_part_was_wrong(api, clinician):
    page = sign_in(api, clinician, "not the password")
    assert page.status_code == 401 and "wrong e-mail address or password" in page.text
    page = sign_in(api, "nobody@example.org", "not the password")
    assert page.status_code == 401 and "wrong e-mail address or password" in page.text


def test_it_sends_a_visitor_without_a_session_to_sign_in(api):
    api.cookies.clear()
    response = api.get(f"/records/visits/{uuid.uuid4()}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/records/login"


def test_it_refuses_a_form_without_the_sessions_csrf_token(api, clinician):
    sign_in(api, clinician)
    response = api.post(
        "/records/patients", data={"csrf": "forged", "name": "X", "birth_date": "1980-01-01", "sex": "male"}
    )
    assert response.status_code == 403 and "reload the page" in response.text


def test_the_patient_search_keeps_what_was_searched_for_out_of_the_address(api, clinician):
    page = sign_in(api, clinician)
    for name, born in (("Ann Example", "1980-02-03"), ("Bob Other", "1971-05-06")):
        page = api.post(
            "/records/patients", data={"csrf": csrf(page), "name": name, "birth_date": born, "sex": "female"}
        )
    page = api.get("/records/patients")
    found = api.post("/records/patients/search", data={"csrf": csrf(page), "q": "ann"})
    assert found.status_code == 200 and "Ann Example" in found.text and "Bob Other" not in found.text
    assert "ann" not in str(found.url).lower() and found.url.path == "/records/patients/search"
    assert 'value="ann"' in found.text  # the box keeps what was typed
    # a query string is not a search any more: it shows the list, and the form posts
    listed = api.get("/records/patients", params={"q": "ann"})
    assert "Bob Other" in listed.text and 'method="post" action="/records/patients/search"' in listed.text
    forged = api.post("/records/patients/search", data={"csrf": "forged", "q": "ann"})
    assert forged.status_code == 403 and "Ann Example" not in forged.text


@pytest.mark.parametrize(
    "data",
    [
        {"name": "Ann\x00Example", "birth_date": "1980-02-03", "sex": "female"},
        {"name": "Ann Example", "birth_date": "1980-02-03", "sex": "female", "external_id": "MRN\x00"},
    ],
)
def test_a_form_holding_a_nul_character_is_refused_naming_the_field(api, clinician, data):
    # PostgreSQL text cannot hold U+0000: such a form reached the database and answered 500
    sign_in(api, clinician)
    page = api.get("/records/patients")
    response = api.post(
        "/records/patients", data={"csrf": csrf(page), **data}, headers={"Accept": "text/html"}
    )
    assert response.status_code == 422, response.text
    field = next(key for key, value in data.items() if "\x00" in value)
    assert field in response.text and "NUL" in response.text


def test_it_keeps_another_clinics_records_out_of_reach_of_a_signed_in_user(
    api, clinician, store, world, chart
):
    visit_id = chart.visit()
    sign_in(api, clinician)
    response = api.get(f"/records/visits/{visit_id}", headers={"accept": "text/html"})
    assert response.status_code == 404 and "Ann Example" not in response.text


def test_it_sets_no_cookie_on_the_pages_that_store_nothing(api):
    api.cookies.clear()
    assert "set-cookie" not in api.get("/atlas").headers
