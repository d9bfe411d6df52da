"""Schemathesis fuzzes the records endpoints as a signed-in clinician (SQLite): no 5xx, every answer as
documented, every error in the one shape. Ids in generated paths are random, so most reads are 404s and
most writes 422s; the persona tests cover the successful paths."""

from __future__ import annotations

import tempfile
import uuid

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from dryneedling.catalog import load_catalog
from dryneedling.db import open_store
from dryneedling.services import accounts
from dryneedling.web.app import create_app

_store = open_store(f"sqlite:///{tempfile.mkdtemp(prefix='dn-fuzz-')}/fuzz.db", migrate=True)
_clinic = accounts.add_clinic(_store, "Fuzz clinic")
_email = f"fuzz.{uuid.uuid4().hex[:6]}@example.org"
accounts.add_user(_store, _clinic.id, _email, "clinician", None)
TOKEN = accounts.issue_token(_store, _email)
app = create_app(load_catalog(), _store)

schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(
    path_regex=r"^/api/(patients|episodes|visits|clinic)"
)


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_it_answers_every_generated_records_request_as_documented(case):
    # Ids are checked against the database and the knowledge base, so a schema-valid request can rightly be
    # refused (404, 409, 422): the "schema-valid request accepted" check does not apply.
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=[positive_data_acceptance]
    )
    assert response.status_code < 500
    if response.status_code >= 400:
        assert set(response.json()) == {"error"}
