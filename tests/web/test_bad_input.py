"""Bad JSON bodies get HTTP 422 (or 413) in the one error shape, checked before any endpoint sees them.

Non-finite numbers name their field and are never echoed back as a bare NaN (which is not JSON); JSON
nested deeper than 32 levels is refused before the parser recurses; bodies over 1 MB are refused.
"""

from __future__ import annotations

import json

import httpx
import pytest

from dryneedling.safe_input import MAX_DEPTH
from dryneedling.web.errors import MAX_BODY_BYTES

ERROR_KEYS = {"field", "message", "value", "suggestions", "choices"}
PROFILE_REST = '"condition": "low_back_pain", "pain_regions": ["low_back"], "consent": true'


def _error(response, status=422) -> dict:
    assert response.status_code == status, response.text
    body = json.loads(response.text)  # strict: fails on a bare NaN or Infinity
    assert set(body) == {"error"} and set(body["error"]) >= ERROR_KEYS
    return body["error"]


def _post(client, text: str | bytes, content_type: str | None = "application/json", path="/api/assess"):
    headers = {"content-type": content_type} if content_type else {}
    return client.post(path, content=text, headers=headers)


@pytest.mark.parametrize(
    ("number", "value"),
    [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e400", "1e400")],
)
@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_it_names_the_field_holding_a_non_finite_number(client, number, value, content_type):
    response = _post(client, f'{{"age": {number}, {PROFILE_REST}}}', content_type)
    error = _error(response)
    assert error["field"] == "age" and "finite" in error["message"]
    assert error["value"] == value


def test_it_names_a_nested_non_finite_number_by_its_path(client):
    body = f'{{"age": 40, {PROFILE_REST}, "practitioner": {{"training_hours": NaN}}}}'
    assert _error(_post(client, body))["field"] == "practitioner.training_hours"
    body = f'{{"age": 40, {PROFILE_REST}, "medications": ["a", -Infinity]}}'
    assert _error(_post(client, body))["field"] == "medications[1]"


def test_it_refuses_a_non_finite_number_for_a_field_pydantic_would_also_refuse(client):
    # duration_weeks is a float: pydantic sees NaN as a float; the guard names it before pydantic runs.
    body = f'{{"age": 40, "duration_weeks": NaN, {PROFILE_REST}}}'
    error = _error(_post(client, body))
    assert error["field"] == "duration_weeks" and error["value"] == "NaN"


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_it_refuses_json_nested_ten_thousand_deep(client, content_type):
    error = _error(_post(client, "[" * 10_000 + "]" * 10_000, content_type))
    assert error["field"] == "body" and "nested too deeply" in error["message"]
    assert str(MAX_DEPTH) in error["message"]


def test_it_accepts_nesting_up_to_the_limit_and_leaves_the_rest_to_validation(client):
    nested = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    error = _error(_post(client, f'{{"age": 40, {PROFILE_REST}, "extra": {nested}}}'))
    assert error["field"] == "extra" and error["message"] == "is not a profile field"
    too_deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    error = _error(_post(client, f'{{"age": 40, {PROFILE_REST}, "extra": {too_deep}}}'))
    assert error["field"] == "body" and "nested too deeply" in error["message"]


def test_it_does_not_count_brackets_inside_strings(client):
    body = f'{{"age": 40, {PROFILE_REST}, "medications": ["{"[" * 100}"]}}'
    response = _post(client, body)
    assert response.status_code == 200, response.text


def test_it_refuses_an_integer_with_too_many_digits(client):
    error = _error(_post(client, f'{{"age": 1{"0" * 5000}, {PROFILE_REST}}}'))
    assert error["field"] == "age" and "too many digits" in error["message"]


def test_it_refuses_text_that_utf8_cannot_carry_instead_of_failing_to_answer(client):
    error = _error(
        _post(client, '{"age": 40, "condition": "\\ud800", "pain_regions": ["low_back"], "consent": true}')
    )
    assert error["field"] == "condition" and "Unicode" in error["message"]


def test_it_refuses_a_body_that_is_not_utf8(client):
    error = _error(_post(client, b'{"age": "\xff"}'))
    assert error["field"] == "body" and "UTF-8" in error["message"]


def test_it_still_reports_malformed_json_in_the_error_shape(client):
    error = _error(_post(client, '{"age": 40,'))
    assert error["field"] == "body" and error["message"].startswith("malformed JSON")


def test_it_refuses_a_body_over_the_size_limit_by_its_declared_length(client):
    error = _error(_post(client, b" " * (MAX_BODY_BYTES + 1)), 413)
    assert error["field"] == "body" and str(MAX_BODY_BYTES) in error["message"]


def test_it_refuses_a_streamed_body_over_the_size_limit(client):
    def chunks():
        for _ in range(MAX_BODY_BYTES // 100_000 + 2):
            yield b" " * 100_000

    response = client.post("/api/assess", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in {name.lower() for name in response.request.headers}
    _error(response, 413)


def test_it_refuses_an_oversized_form_with_an_html_page_for_a_browser(client):
    response = client.post(
        "/assess/report",
        content=b"age=" + b"1" * MAX_BODY_BYTES,
        headers={"content-type": "application/x-www-form-urlencoded", "accept": "text/html"},
    )
    assert response.status_code == 413 and "<html" in response.text


def test_a_form_body_is_not_read_as_json(client):
    response = client.post(
        "/assess/report",
        data={"age": "40", "condition": "low_back_pain", "pain_regions": "low_back", "consent": "on"},
    )
    assert response.status_code == 200, response.text


def test_the_form_refuses_a_pasted_profile_with_nan_naming_the_field(client):
    pasted = f'{{"age": NaN, {PROFILE_REST}}}'
    response = client.post("/assess/report", data={"profile_text": pasted})
    assert response.status_code == 422 and "age" in response.text and "finite" in response.text


def test_the_rule_holds_for_any_json_body_not_only_assess(client):
    # Every JSON body is checked before routing: even a path with no such endpoint gets the 422 first.
    error = _error(_post(client, '{"x": NaN}', path="/api/health"))
    assert error["field"] == "x"
    error = _error(_post(client, "[" * 100 + "]" * 100, "application/vnd.api+json", path="/api/atlas"))
    assert "nested too deeply" in error["message"]


def test_a_valid_profile_still_gets_its_report(client):
    response = _post(client, f'{{"age": 40, {PROFILE_REST}}}')
    assert response.status_code == 200 and response.json()["profile"]["age"] == 40


def test_the_live_server_answers_an_oversized_body_with_413(live_server):
    response = httpx.post(
        live_server + "/api/assess",
        content=b" " * (MAX_BODY_BYTES + 10),
        headers={"content-type": "application/json"},
        timeout=10,
    )
    _error(response, 413)
    assert httpx.get(live_server + "/api/health", timeout=10).status_code == 200
