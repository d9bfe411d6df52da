"""The set-up commands: ``db upgrade``, ``clinic add``, ``user add`` (argon2id) and ``user token``."""

from __future__ import annotations

import uuid

import pytest
from typer.testing import CliRunner

from dryneedling.cli import app
from dryneedling.db import open_store
from dryneedling.db.engine import current_revision, head_revision
from dryneedling.services import accounts

runner = CliRunner()


@pytest.fixture
def env(database_url, monkeypatch):
    monkeypatch.setenv("DRYNEEDLING_DATABASE_URL", database_url)
    return database_url


def _run(*args: str, stdin: str | None = None):
    return runner.invoke(app, list(args), input=stdin)


def test_it_upgrades_the_database_and_says_to_which_revision(env):
    result = _run("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}" in result.output
    store = open_store(env)
    assert current_revision(store.engine) == head_revision()
    store.engine.dispose()


def test_it_sets_up_a_clinic_an_owner_and_a_token_that_opens_the_api(env, api):
    clinic = _run("clinic", "add", "Harbour Physio").output.strip()
    uuid.UUID(clinic)
    email = f"owner.{uuid.uuid4().hex[:6]}@example.org"
    added = _run(
        "user",
        "add",
        email,
        "--clinic",
        clinic,
        "--role",
        "owner",
        "--password-stdin",
        "--training-hours",
        "54",
        "--training-course",
        "Level 1 DN",
        "--training-date",
        "2024-05-01",
        stdin="correct horse battery\n",
    )
    assert added.exit_code == 0, added.output
    token = _run("user", "token", email).output.strip()
    assert token.startswith("dn_")
    response = api.get("/api/patients", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json() == {"items": []}
    store = open_store(env)
    user = accounts.authenticate_password(store, email, "correct horse battery")
    assert user.role == "owner" and user.training.hours == 54 and user.training.course == "Level 1 DN"
    with store.accounts() as accounts_:
        stored = accounts_.user_by_email(email)[1]
    assert stored.startswith("$argon2id$")
    store.engine.dispose()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--role", "boss"], None, "role"),
        (["--role", "owner", "--password-stdin"], "short\n", "at least 12"),
        (["--role", "owner", "--clinic", "nope"], None, "--clinic"),
    ],
)
def test_it_refuses_a_bad_user_with_one_line_naming_the_problem(env, args, stdin, message):
    clinic = _run("clinic", "add", "Harbour Physio").output.strip()
    options = ["--clinic", clinic, *args] if "--clinic" not in args else args
    result = _run("user", "add", "someone@example.org", *options, stdin=stdin)
    assert result.exit_code == 2 and message in result.output


def test_it_refuses_a_second_user_with_the_same_email_and_a_token_for_nobody(env):
    clinic = _run("clinic", "add", "Harbour Physio").output.strip()
    email = f"dup.{uuid.uuid4().hex[:6]}@example.org"
    assert _run("user", "add", email, "--clinic", clinic, "--role", "auditor").exit_code == 0
    again = _run("user", "add", email, "--clinic", clinic, "--role", "auditor")
    assert again.exit_code == 1 and "exists already" in again.output
    nobody = _run("user", "token", "nobody@example.org")
    assert nobody.exit_code == 1 and "user not found" in nobody.output


def test_it_refuses_an_unsupported_database_url(monkeypatch):
    monkeypatch.setenv("DRYNEEDLING_DATABASE_URL", "mysql://root@localhost/x")
    result = _run("db", "upgrade")
    assert result.exit_code == 2 and "DRYNEEDLING_DATABASE_URL" in result.output


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DRYNEEDLING_DATABASE_URL", "mysql://root@localhost/x"), ("DRYNEEDLING_SECRET_KEY", "short")],
)
def test_it_refuses_to_serve_with_a_bad_records_setting(monkeypatch, tmp_path, variable, value):
    monkeypatch.setenv("DRYNEEDLING_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(variable, value)
    result = _run("serve", "--port", "8765")
    assert result.exit_code == 2 and variable in result.output
