"""Schemathesis over the whole OpenAPI document, signed in (issue 12.7), on SQLite and on PostgreSQL.

Every operation of the app's own OpenAPI document (the stateless API, the records, the tokens) is called
with the bearer token of the owner of a seeded clinic. Path parameters are swapped for the ids of a real
patient, episode and visit on every other case, so reads and writes reach real rows (and their 200, 409 and
422 answers) as well as the 404 of an unknown id. No answer may be a server error, and every answer must be
as documented (status and schema), errors in the one error shape.

The operations are driven with Hypothesis directly (one test per backend): schemathesis's lazy pytest
fixture loader does not run under pytest 9.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

EXAMPLES_PER_OPERATION = 12
TIME_BUDGET_S = 60


def test_no_generated_request_gets_a_server_error_when_signed_in(api, world, chart):
    episode = chart.episode(as_="owner")
    chart.consent(episode, as_="owner")
    real_ids = {
        "patient_id": chart.patient(as_="owner"),
        "episode_id": episode,
        "visit_id": chart.visit(episode, as_="owner"),
    }
    headers = world.owner.headers
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    # The operations that end a record's changes (close, withdraw, sign) run last, so the writes before
    # them meet an open episode with consent and a draft visit.
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda operation: operation.label.endswith(("/close", "/withdraw", "/sign")),
    )
    assert len(operations) >= 25  # the whole document, tokens included
    answers: Counter[tuple[str, int]] = Counter()
    turn = itertools.count()
    started = time.monotonic()

    def fuzz(operation) -> None:
        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
            database=None,
        )
        def call(case):
            if case.path_parameters and next(turn) % 2 == 0:
                case.path_parameters = {
                    name: real_ids.get(name, value) for name, value in case.path_parameters.items()
                }
            # Ids and codes are checked against the database and the knowledge base, so a schema-valid
            # request can rightly be refused (404, 409, 422): "schema-valid request accepted" does not apply.
            response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
            answers[(operation.label, response.status_code)] += 1
            assert response.status_code < 500, operation.label
            if response.status_code >= 400:
                assert set(response.json()) == {"error"}, operation.label

        call()

    for operation in operations:
        fuzz(operation)

    elapsed = time.monotonic() - started
    assert not [key for key in answers if key[1] >= 500]
    # it was signed in and reached real rows: successes on reads and writes of the records
    succeeded = {label for (label, status), _count in answers.items() if status < 300}
    for label in ("GET /api/patients/{patient_id}", "GET /api/episodes/{episode_id}", "GET /api/tokens"):
        assert label in succeeded, sorted(answers.items())
    assert elapsed < TIME_BUDGET_S, f"{elapsed:.0f} s"


def test_a_patch_that_nulls_a_required_visit_field_is_bad_input_not_a_server_error(api, world, chart):
    """Found by the fuzz test above: PATCH {"heat_before": null} was a 500."""
    visit = chart.visit()
    for field in ("heat_before", "needling", "needles_out"):
        response = api.patch(f"/api/visits/{visit}", json={field: None}, headers=world.clinician.headers)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["field"] == field and "leave it out" in error["message"]
