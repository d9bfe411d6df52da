"""The self-check over HTTP: POSTed, answered no-store, no cookie, the same decision as the service."""

from __future__ import annotations

import datetime as dt

import pytest

from dryneedling.catalog import data_files
from dryneedling.services.self_check import self_check
from learn.test_self_check import PEOPLE
from learn.text import forbidden_in, numbers, visible
from shipped import shipped_catalog

CATALOG = shipped_catalog()


@pytest.mark.parametrize("person", list(PEOPLE))
def test_it_answers_without_storing_anything(client, person, reading_grade):
    answers = PEOPLE[person][0]
    response = client.post("/learn/self-check", data=answers)
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    expected = self_check(CATALOG, answers)
    assert expected.decision_heading in response.text
    assert f"decision-{expected.decision}" in response.text
    body, _ = visible(response.text)
    assert "you should" not in body.lower()
    assert not forbidden_in(body, list(CATALOG.grade_rules.strength.forbidden_always))
    assert reading_grade(body) <= 8


def test_it_keeps_the_answers_out_of_the_address(client):
    html = client.get("/learn/self-check").text
    assert 'method="post"' in html


def test_it_names_a_bad_answer_with_422(client):
    response = client.post("/learn/self-check", data={"area": "moon"})
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert "set-cookie" not in response.headers


def test_it_labels_every_form_control(client):
    html = client.get("/learn/self-check").text
    assert html.count("<fieldset>") == html.count("<legend>")
    for control in ("area", "blood_thinner_name"):
        assert f'<label for="{control}">' in html and f'id="{control}"' in html


def test_it_states_no_number_that_is_not_in_the_data(client):
    text = "\n".join(path.read_text(encoding="utf-8") for path in data_files(CATALOG.data_dir))
    children = CATALOG.guidance.screening.children
    today = dt.date.today()
    # The age band's upper edge is derived from the data (one below the children rule's age).
    allowed = numbers(text) | {str(today.day), str(today.year), str(children.under_age - 1)}
    for response in (
        client.get("/learn/self-check"),
        client.post("/learn/self-check", data=PEOPLE["on apixaban"][0]),
        client.post("/learn/self-check", data=PEOPLE["pregnant, first trimester"][0]),
    ):
        body, sources = visible(response.text)
        assert not numbers(f"{body} {sources}".replace(CATALOG.version, "")) - allowed
