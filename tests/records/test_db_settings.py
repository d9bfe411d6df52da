"""Where the records live: a SQLite file in the data directory by default, any PostgreSQL by URL."""

from __future__ import annotations

import pytest

from dryneedling.db.engine import make_engine
from dryneedling.db.settings import database_url
from dryneedling.errors import InputError


def test_it_defaults_to_a_sqlite_file_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = database_url({})
    assert url.drivername == "sqlite" and url.database == str(tmp_path / "dryneedling.db")


def test_it_puts_the_sqlite_file_in_the_data_directory(tmp_path):
    url = database_url({"DRYNEEDLING_DATA_DIR": str(tmp_path)})
    assert url.database == str(tmp_path / "dryneedling.db")


def test_it_reads_a_postgresql_url_with_psycopg(tmp_path):
    url = database_url({"DRYNEEDLING_DATABASE_URL": "postgresql://app:secret@db.example:5432/clinic"})
    assert url.drivername == "postgresql+psycopg" and url.database == "clinic"


@pytest.mark.parametrize(
    ("environ", "field"),
    [
        ({"DRYNEEDLING_DATABASE_URL": "mysql://root@localhost/x"}, "DRYNEEDLING_DATABASE_URL"),
        ({"DRYNEEDLING_DATABASE_URL": "not a url"}, "DRYNEEDLING_DATABASE_URL"),
        ({"DRYNEEDLING_DATA_DIR": "/no/such/dir"}, "DRYNEEDLING_DATA_DIR"),
    ],
)
def test_it_fails_fast_naming_a_bad_setting_but_never_its_password(environ, field):
    with pytest.raises(InputError) as error:
        database_url(environ)
    assert error.value.field == field and "secret" not in str(error.value)


def test_it_runs_sqlite_in_wal_mode_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_it_makes_a_new_sqlite_file_readable_by_its_owner_only(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'private.db'}")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x)")
    engine.dispose()
    assert (tmp_path / "private.db").stat().st_mode & 0o777 == 0o600
