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

import pytest
from fastapi.testclient import TestClient
from records_helpers import Chart
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from dryneedling.db import open_store
from dryneedling.services import accounts
from dryneedling.web.app import create_app
from live import serve

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


@pytest.fixture
def chart(api, world) -> Chart:
    return Chart(api, world)


# -- browser tests ---------------------------------------------------------------------------------------
@pytest.fixture
def fresh_server(tmp_path, catalog) -> Iterator[str]:
    """The app on a new, empty SQLite database (first run) under a real uvicorn; yields its URL."""
    store = open_store(f"sqlite:///{tmp_path / 'browser.db'}", migrate=True)
    app = create_app(catalog, store, session_key=secrets.token_urlsafe(40))
    with serve(app) as url:
        yield url
    store.engine.dispose()
