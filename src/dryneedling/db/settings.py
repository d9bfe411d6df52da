"""Where the records live: ``DRYNEEDLING_DATABASE_URL``, else a SQLite file in ``DRYNEEDLING_DATA_DIR``.

``DRYNEEDLING_DATA_DIR`` defaults to the working directory, so ``dryneedling serve`` works with no set-up
(it creates ``dryneedling.db`` there). PostgreSQL: ``postgresql+psycopg://user:password@host:5432/name``
(``postgresql://`` is read as the same). Bad values fail at start with the setting's name, never its password.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from dryneedling.errors import InputError

DATABASE_URL_ENV = "DRYNEEDLING_DATABASE_URL"
DATA_DIR_ENV = "DRYNEEDLING_DATA_DIR"
DEFAULT_FILE = "dryneedling.db"
SUPPORTED = ("sqlite", "postgresql+psycopg")


def database_url(environ: Mapping[str, str] | None = None) -> URL:
    """The database URL from the environment (see the module docstring); InputError naming the variable."""
    environ = os.environ if environ is None else environ
    raw = environ.get(DATABASE_URL_ENV, "").strip()
    if not raw:
        data_dir = Path(environ.get(DATA_DIR_ENV, "").strip() or ".").expanduser()
        if not data_dir.is_dir():
            raise InputError(DATA_DIR_ENV, "is not an existing directory", value=str(data_dir))
        return URL.create("sqlite", database=str((data_dir / DEFAULT_FILE).resolve()))
    try:
        url = make_url(raw)
    except ArgumentError:
        raise InputError(
            DATABASE_URL_ENV, "is not a database URL (sqlite:///PATH or postgresql+psycopg://...)"
        ) from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername not in SUPPORTED:
        raise InputError(
            DATABASE_URL_ENV,
            f"unsupported database {url.drivername!r}",
            value=url.drivername,
            choices=SUPPORTED,
        )
    return url
