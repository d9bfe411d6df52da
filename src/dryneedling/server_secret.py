"""The server's secret: ``DRYNEEDLING_SECRET_KEY`` or, when it is not set, a random key kept in
``dryneedling.secret`` in ``DRYNEEDLING_DATA_DIR`` (made on first use, readable by its owner only).

It signs the records pages' sessions (:mod:`dryneedling.web.session`) and derives the follow-up links'
tokens (:mod:`dryneedling.records.followup`); it lives outside ``web`` so the use cases can read it too.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from dryneedling.errors import InputError

SECRET_ENV = "DRYNEEDLING_SECRET_KEY"
ENV_ENV = "DRYNEEDLING_ENV"
SECRET_FILE = "dryneedling.secret"
MIN_SECRET = 32


def is_production(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``DRYNEEDLING_ENV=production``: secrets must then come from the settings."""
    environ = os.environ if environ is None else environ
    return environ.get(ENV_ENV, "").strip().lower() == "production"


def secret_key(environ: Mapping[str, str] | None = None) -> str:
    """The secret (see the module docstring); InputError naming the variable when it is too short, or when
    it is missing in production (a key made up on the spot would not survive the next deployment)."""
    environ = os.environ if environ is None else environ
    configured = environ.get(SECRET_ENV, "").strip()
    if configured:
        if len(configured) < MIN_SECRET:
            raise InputError(SECRET_ENV, f"must be at least {MIN_SECRET} characters")
        return configured
    if is_production(environ):
        raise InputError(
            SECRET_ENV,
            f"is required when {ENV_ENV}=production: set it to a random string of at least {MIN_SECRET} "
            "characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`) kept out of the "
            "code and the database",
        )
    path = Path(environ.get("DRYNEEDLING_DATA_DIR", "").strip() or ".") / SECRET_FILE
    kept = _kept_file_key(path)
    if kept is not None:
        return kept
    key = secrets.token_urlsafe(48)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key


# The key file is read on every signed request and audited change; a stat is a fraction of the cost of
# opening and reading it, and a file replaced meanwhile (another inode or mtime) is read again.
_file_keys: dict[str, tuple[tuple[int, int], str]] = {}


def _kept_file_key(path: Path) -> str | None:
    """The key in ``path`` (None when there is no such file), read again only when the file changed."""
    name = os.path.abspath(path)
    try:
        status = os.stat(name)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(status.st_mode):
        return None
    stamp = (status.st_ino, status.st_mtime_ns)
    cached = _file_keys.get(name)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    key = Path(name).read_text().strip()
    _file_keys[name] = (stamp, key)
    return key
