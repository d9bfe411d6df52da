"""Backup and restore: `dryneedling db backup FILE` / `db restore FILE [--force]` round-trip every row of every
table, on SQLite (online backup) and PostgreSQL (pg_dump/pg_restore); a restore over data needs --force."""

from __future__ import annotations

import secrets
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from records_helpers import Chart
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from dryneedling.cli import app as cli
from dryneedling.db import open_store
from dryneedling.db.backup import BackupError, backup, restore, row_count
from dryneedling.db.engine import head_revision, make_engine
from dryneedling.db.tables import metadata
from dryneedling.services import accounts
from dryneedling.services.audit import verify_all
from dryneedling.web.app import create_app


@pytest.fixture
def new_database(backend, tmp_path, request) -> Iterator:
    """A factory of new, empty databases of ``backend`` (PostgreSQL ones are dropped afterwards)."""
    made: list[str] = []
    admin = None
    if backend == "postgresql":
        admin_url = make_url(request.getfixturevalue("postgres_database")).set(database="postgres")
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")

    def make() -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / f'db-{secrets.token_hex(4)}.db'}"
        name = f"dryneedling_backup_{secrets.token_hex(5)}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return admin_url.set(database=name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect() as connection:
            for name in made:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class _Persona:
    headers: dict[str, str]


@dataclass
class _World:
    people: dict[str, _Persona] = field(default_factory=dict)

    def __getattr__(self, name):
        return self.__dict__["people"][name]


def _fill(url: str, catalog) -> None:
    """A clinic with patients, an episode, consent, signed and draft visits, an amendment (through the API)."""
    store = open_store(url, migrate=True)
    clinic = accounts.add_clinic(store, "Backup Physio")
    email = f"bk.{secrets.token_hex(3)}@example.org"
    accounts.add_user(store, clinic.id, email, "clinician", "a long enough password", name="Bea Backup")
    world = _World({"clinician": _Persona({"Authorization": f"Bearer {accounts.issue_token(store, email)}"})})
    with TestClient(create_app(catalog, store)) as api:
        chart = Chart(api, world)
        visit_id = chart.signed_visit()
        chart.visit()
        amended = api.post(
            f"/api/visits/{visit_id}/amendments",
            json={"text": "Depth was 14 mm"},
            headers=world.clinician.headers,
        )
        assert amended.status_code == 201, amended.text
    store.engine.dispose()


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table (and the migration revision), sorted, for comparing databases."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = {
                table.name: sorted(tuple(map(repr, row)) for row in connection.execute(select(table)))
                for table in metadata.sorted_tables
            }
            rows["alembic_version"] = [
                tuple(connection.execute(text("SELECT version_num FROM alembic_version")))
            ]
    finally:
        engine.dispose()
    return rows


def _cli(url: str, *args: str):
    return CliRunner().invoke(cli, list(args), env={"DRYNEEDLING_DATABASE_URL": url})


def test_it_round_trips_every_row_through_backup_and_restore(new_database, catalog, tmp_path):
    source = new_database()
    _fill(source, catalog)
    before = snapshot(source)
    assert sum(len(rows) for rows in before.values()) > 20
    file = tmp_path / "records.backup"

    result = _cli(source, "db", "backup", str(file))
    assert result.exit_code == 0, result.output
    assert file.stat().st_mode & 0o077 == 0, "a backup holds patient records: owner-only"

    target = new_database()  # empty: not even migrated
    result = _cli(target, "db", "restore", str(file))
    assert result.exit_code == 0, result.output
    assert snapshot(target) == before
    assert "audit chains verified" in result.output
    restored = open_store(target, migrate=False)
    try:
        assert verify_all(restored).holds
    finally:
        restored.engine.dispose()


def test_it_refuses_to_restore_over_data_without_force(new_database, catalog, tmp_path):
    source, target = new_database(), new_database()
    _fill(source, catalog)
    _fill(target, catalog)
    file = tmp_path / "records.backup"
    backup(make_engine(source), file)
    target_before = snapshot(target)

    result = _cli(target, "db", "restore", str(file))
    assert result.exit_code == 1
    assert "--force" in result.output and "holds" in result.output
    assert snapshot(target) == target_before, "a refused restore leaves the database alone"

    result = _cli(target, "db", "restore", str(file), "--force")
    assert result.exit_code == 0, result.output
    assert snapshot(target) == snapshot(source)


def test_it_refuses_to_overwrite_a_file_or_to_restore_a_stranger(new_database, tmp_path):
    url = new_database()
    open_store(url, migrate=True).engine.dispose()
    existing = tmp_path / "exists.backup"
    existing.write_text("keep me")
    result = _cli(url, "db", "backup", str(existing))
    assert result.exit_code == 2 and "exists already" in result.output
    assert existing.read_text() == "keep me"
    result = _cli(url, "db", "restore", str(existing))
    assert result.exit_code == 2 and "not a dryneedling backup" in result.output
    result = _cli(url, "db", "restore", str(tmp_path / "missing.backup"))
    assert result.exit_code == 2 and "does not exist" in result.output


def test_it_refuses_a_backup_from_a_newer_version(new_database, tmp_path):
    url = new_database()
    engine = make_engine(url)
    open_store(url, migrate=True)
    with engine.begin() as connection:  # as if a newer dryneedling had migrated it further
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    file = tmp_path / "newer.backup"
    backup(engine, file)
    engine.dispose()
    target = new_database()
    with pytest.raises(BackupError, match="9999_from_the_future"):
        restore(make_engine(target), file)
    assert row_count(make_engine(target)) == 0


def test_it_reads_the_revision_of_a_backup(new_database, tmp_path):
    from dryneedling.db.backup import backup_revision

    url = new_database()
    open_store(url, migrate=True).engine.dispose()
    file = tmp_path / "r.backup"
    result = backup(make_engine(url), file)
    assert result.revision == head_revision() == backup_revision(file)


def test_a_backup_taken_while_clients_write_is_consistent(new_database, catalog, tmp_path):
    """Backups run beside the server: writers keep committing while the copy is taken."""
    url = new_database()
    _fill(url, catalog)
    store = open_store(url)
    clinic = accounts.add_clinic(store, "Busy Physio")
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            while not stop.is_set():
                accounts.add_user(store, clinic.id, f"u{uuid.uuid4().hex}@example.org", "assistant", None)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        file = tmp_path / "busy.backup"
        result = backup(store.engine, file)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors
    target = new_database()
    restored = restore(make_engine(target), file)
    assert restored.rows >= result.rows  # the copy holds at least what was counted before it began
    users = snapshot(target)["users"]
    assert len(users) == len({row[1] for row in users})  # no half-written rows: ids unique, rows whole
    if url.startswith("sqlite"):
        with sqlite3.connect(file) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        connection.close()
    assert row_count(make_engine(target)) == restored.rows
    store.engine.dispose()


def test_it_refuses_a_backup_of_the_other_backend(backend, new_database, tmp_path):
    sqlite_url = f"sqlite:///{tmp_path / 'other.db'}"
    open_store(sqlite_url, migrate=True).engine.dispose()
    file = tmp_path / "sqlite.backup"
    backup(make_engine(sqlite_url), file)
    if backend == "sqlite":
        pytest.skip("the other backend's backup needs PostgreSQL as the target")
    with pytest.raises(BackupError, match="backup of a sqlite database"):
        restore(make_engine(new_database()), file)


def test_it_refuses_a_sqlite_file_that_is_not_a_dryneedling_backup(new_database, tmp_path):
    stranger = tmp_path / "stranger.db"
    with sqlite3.connect(stranger) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    connection.close()
    result = _cli(new_database(), "db", "restore", str(stranger))
    assert result.exit_code == 2 and "not a dryneedling backup" in result.output


def test_a_failed_forced_restore_changes_nothing(backend, new_database, catalog, tmp_path):
    """PostgreSQL: the old tables are dropped and the dump loaded in one transaction."""
    if backend != "postgresql":
        pytest.skip("SQLite's backup API replaces the file in one transaction by itself")
    source, target = new_database(), new_database()
    _fill(source, catalog)
    _fill(target, catalog)
    file = tmp_path / "records.backup"
    backup(make_engine(source), file)
    engine = make_engine(target)
    with engine.begin() as connection:
        # A sequence named like a table of the dump: CREATE TABLE audit_log fails half-way through.
        connection.execute(text("ALTER TABLE audit_log RENAME TO audit_log_kept"))
        connection.execute(text("CREATE SEQUENCE audit_log"))
        patients = connection.execute(text("SELECT id FROM patients ORDER BY id")).all()
    with pytest.raises(BackupError, match="nothing was changed"):
        restore(engine, file, force=True)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id FROM patients ORDER BY id")).all() == patients
        assert connection.execute(text("SELECT count(*) FROM audit_log_kept")).scalar_one() > 0
    engine.dispose()


def test_it_says_how_to_get_the_postgresql_client_programs_when_missing(monkeypatch, tmp_path):
    from dryneedling.db.backup import pg_program

    assert pg_program("pg_dump").endswith("pg_dump")  # on this machine: PATH or /usr/lib/postgresql/*/bin
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackupError, match="pg_dump was not found: install the PostgreSQL client programs"):
        pg_program("pg_dump", search=())
