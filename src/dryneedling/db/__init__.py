"""The records' storage: SQLAlchemy 2 tables, the clinic-scoped repositories and the Alembic migrations.

The only package that imports SQLAlchemy or Alembic. :func:`open_store` is what the shells call.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.engine import URL

from dryneedling.db.engine import make_engine, upgrade
from dryneedling.db.settings import database_url
from dryneedling.db.store import SqlStore

__all__ = ["SqlStore", "database_url", "make_engine", "open_store", "upgrade"]


def open_store(
    url: URL | str | None = None, *, migrate: bool = False, environ: Mapping[str, str] | None = None
) -> SqlStore:
    """A store on ``url`` (default: from the environment, see :mod:`dryneedling.db.settings`), migrated first
    when ``migrate`` is set."""
    engine = make_engine(url if url is not None else database_url(environ))
    if migrate:
        upgrade(engine)
    return SqlStore(engine)
