"""Fixtures for the practice records: every test runs on SQLite and on PostgreSQL.

``database_url`` is parametrised over both backends (test ids end in ``[sqlite]`` / ``[postgresql]``); each
test session gets a fresh SQLite file and a fresh PostgreSQL database ``dryneedling_test_<random>``, migrated
once and dropped at the end. Tests isolate themselves by making their own clinics (the tenant boundary the
product relies on). Choose backends with ``--records-db sqlite|postgresql|both`` (default both).

PostgreSQL: ``DRYNEEDLING_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``)
names a server and a role that may create databases. When nothing answers there, the PostgreSQL leg is
skipped with a message; with ``DRYNEEDLING_TEST_POSTGRES=required`` (as ``.ci/run`` sets) it fails instead.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from dryneedling.db import open_store
from dryneedling.services import accounts
from dryneedling.web.app import create_app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HOW_TO_RUN = (
    "PostgreSQL leg skipped: no server answered at {url} ({error}). Start one (Debian: "
    "`pg_ctlcluster 15 main start`) or point DRYNEEDLING_TEST_POSTGRES_URL at a role that may create "
    "databases; set DRYNEEDLING_TEST_POSTGRES=required to make this a failure."
)


def pytest_addoption(parser):
    parser.addoption(
        "--records-db",
        default=os.environ.get("DRYNEEDLING_TEST_DB", "both"),
        choices=("sqlite", "postgresql", "both"),
        help="database backend(s) for the practice-records tests (default: both)",
    )


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--records-db")
        backends = ["sqlite", "postgresql"] if chosen == "both" else [chosen]
        metafunc.parametrize("backend", backends, scope="session")


def _admin_url() -> str:
    return os.environ.get("DRYNEEDLING_TEST_POSTGRES_URL", DEFAULT_POSTGRES)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this session (worker); dropped afterwards."""
    admin_url = make_url(_admin_url())
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        admin.dispose()
        message = HOW_TO_RUN.format(
            url=admin_url.render_as_string(hide_password=True), error=str(error.orig).strip().splitlines()[0]
        )
        if os.environ.get("DRYNEEDLING_TEST_POSTGRES", "").lower() == "required":
            pytest.fail(message.replace("leg skipped", "leg REQUIRED but unreachable"), pytrace=False)
        pytest.skip(message)
    name = f"dryneedling_test_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(backend, tmp_path_factory, request) -> str:
    """An empty database of ``backend`` for this session."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('records') / 'records.db'}"
    return request.getfixturevalue("postgres_database")


@pytest.fixture(scope="session")
def store(database_url):
    """The records store on the session's database, migrated to the newest revision."""
    store = open_store(database_url, migrate=True)
    yield store
    store.engine.dispose()


@pytest.fixture(scope="session")
def api(store, catalog) -> Iterator[TestClient]:
    """The web app on that store, in-process."""
    with TestClient(create_app(catalog, store), raise_server_exceptions=False) as client:
        yield client


@dataclass
class Persona:
    email: str
    role: str
    token: str
    user_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    """Clinic A (owner, clinician, a second clinician, assistant, auditor) and clinic B (its clinician)."""

    clinic: str
    other_clinic: str
    people: dict[str, Persona] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Persona:
        try:
            return self.__dict__["people"][name]
        except KeyError:
            raise AttributeError(name) from None


def _persona(store, clinic_id, role: str, label: str) -> Persona:
    email = f"{label}.{secrets.token_hex(4)}@example.org"
    user = accounts.add_user(store, clinic_id, email, role, None, name=label.replace("_", " ").title())
    return Persona(email=email, role=role, token=accounts.issue_token(store, email), user_id=str(user.id))


@pytest.fixture
def world(store) -> World:
    clinic = accounts.add_clinic(store, "Harbour Physio")
    other = accounts.add_clinic(store, "Hill Physio")
    result = World(clinic=str(clinic.id), other_clinic=str(other.id))
    for label, role in (
        ("owner", "owner"),
        ("clinician", "clinician"),
        ("colleague", "clinician"),
        ("assistant", "assistant"),
        ("auditor", "auditor"),
    ):
        result.people[label] = _persona(store, clinic.id, role, label)
    result.people["outsider"] = _persona(store, other.id, "clinician", "outsider")
    return result


def profile(name: str = "neck_pain_headache") -> dict:
    return yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())


PATIENT = {"name": "Ann Example", "birth_date": "1980-02-03", "sex": "female", "external_id": "MRN-1"}
THREE_MUSCLES = [
    {
        "muscle": "upper_trapezius",
        "side": "right",
        "needles": 2,
        "length_mm": 30,
        "gauge": 0.25,
        "depth_mm": 15,
        "technique": "fast_in_fast_out",
        "twitch_responses": 3,
    },
    {
        "muscle": "suboccipitals",
        "side": "bilateral",
        "needles": 2,
        "length_mm": 30,
        "gauge": 0.25,
        "depth_mm": 20,
        "technique": "static",
        "twitch_responses": 0,
        "duration_min": 10,
    },
    {
        "muscle": "temporalis",
        "side": "right",
        "needles": 1,
        "length_mm": 15,
        "gauge": 0.2,
        "depth_mm": 8,
        "technique": "static",
        "twitch_responses": 1,
    },
]


def visit_body(needling=None, **changes) -> dict:
    needling = THREE_MUSCLES if needling is None else needling
    body = {
        "subjective": "Headache 4 days a week; worse at the desk.",
        "pain_before": 6,
        "pain_after": 3,
        "heat_before": False,
        "heat_after": True,
        "needling": needling,
        "needles_out": sum(entry["needles"] for entry in needling),
        "clean_technique": True,
        "sharps_disposed": True,
        "adverse_events": [{"category": "bruising", "severity": "mild"}],
        "plan": "Review soreness at 48 h; home stretches.",
    }
    body.update(changes)
    return body


class Chart:
    """Builds records through the API as a given persona and returns their ids."""

    def __init__(self, api: TestClient, world: World) -> None:
        self.api = api
        self.world = world

    def patient(self, as_: str = "clinician", **changes) -> str:
        body = {**PATIENT, "external_id": f"MRN-{secrets.token_hex(4)}", **changes}
        response = self.api.post("/api/patients", json=body, headers=self.world.people[as_].headers)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def episode(
        self, patient_id: str | None = None, as_: str = "clinician", example: str = "neck_pain_headache"
    ) -> str:
        patient_id = patient_id or self.patient()
        response = self.api.post(
            f"/api/patients/{patient_id}/episodes",
            json={"profile": profile(example), "goals": "Work a full day without headache"},
            headers=self.world.people[as_].headers,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def consent(self, episode_id: str, as_: str = "clinician") -> dict:
        response = self.api.post(
            f"/api/episodes/{episode_id}/consent",
            json={
                "signed_by": "patient",
                "signer_name": "Ann Example",
                "method": "typed_name_and_tick",
                "copy_given": True,
            },
            headers=self.world.people[as_].headers,
        )
        assert response.status_code == 201, response.text
        return response.json()

    def visit(self, episode_id: str | None = None, as_: str = "clinician", **changes) -> str:
        if episode_id is None:
            episode_id = self.episode()
            self.consent(episode_id)
        response = self.api.post(
            f"/api/episodes/{episode_id}/visits",
            json=visit_body(**changes),
            headers=self.world.people[as_].headers,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def signed_visit(self, as_: str = "clinician") -> str:
        visit_id = self.visit(as_=as_)
        response = self.api.post(f"/api/visits/{visit_id}/sign", headers=self.world.people[as_].headers)
        assert response.status_code == 200, response.text
        return visit_id


@pytest.fixture
def chart(api, world) -> Chart:
    return Chart(api, world)
