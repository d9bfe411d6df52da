"""The database: an engine tuned per backend, migrations applied on demand, and the :class:`SqlStore`.

SQLite (the embedded default) runs in WAL mode with foreign keys on and a busy timeout; write transactions
start with ``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing half-way, and the writers of one
process take turns on a lock first (:func:`writer_turn`). PostgreSQL runs
through psycopg 3 with a connection pool checked before use.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 10_000
# Connections kept open per process, and how many more a burst may open. The web app serves requests from a
# thread pool of 40 and each request takes a connection twice (token check, then the use case): with
# SQLAlchemy's default of 5 + 10, 20 concurrent API clients queued for a connection, not for the database.
POOL_SIZE = 20
POOL_OVERFLOW = 20


def make_engine(url: URL | str) -> Engine:
    """An engine for ``url`` with the settings described in the module docstring."""
    url = URL.create("sqlite") if url == "" else url
    url = make_url(url)
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    pool = {} if in_memory else {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}  # one connection
    # hide_parameters: a database error's message would otherwise carry the statement's values (names,
    # notes, answers) into the server log.
    engine = create_engine(
        url, pool_pre_ping=url.get_backend_name() != "sqlite", hide_parameters=True, **pool
    )
    if engine.dialect.name == "sqlite":
        _private_file(engine.url.database)
        _tune_sqlite(engine)
    return engine


def _private_file(database: str | None) -> None:
    """Make a new SQLite file readable by its owner only (it holds patient records); SQLite gives its
    -wal and -shm files the same permissions."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


# SQLite allows one writer at a time. Writers of one process wait for their turn on this lock rather than in
# SQLite's busy handler, which sleeps in growing steps (up to 100 ms) between tries: under 20 concurrent
# writers that sleeping, not the work, set the pace. Other processes still queue through busy_timeout.
_sqlite_writers: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def writer_turn(engine: Engine) -> Iterator[None]:
    """Hold this process's write turn on ``engine`` (SQLite); a no-op for PostgreSQL, which has row locks."""
    lock = _sqlite_writers.get(engine)
    if lock is None:
        yield
        return
    with lock:
        yield


def _tune_sqlite(engine: Engine) -> None:
    _sqlite_writers[engine] = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # BEGIN is emitted below, so it can be IMMEDIATE
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        write = connection.info.get("write", True)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def alembic_config(engine: Engine):
    """An Alembic configuration for ``engine`` (no alembic.ini needed; the migrations ship in the package)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


_upgrade_lock = threading.Lock()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to ``revision`` (default: the newest)."""
    from alembic import command

    with _upgrade_lock:
        command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to ``revision`` (``base`` removes every table)."""
    from alembic import command

    with _upgrade_lock:
        command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config(create_engine("sqlite://"))).get_heads()
    return heads[0]


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
