"""Backup and restore of the records database: ``dryneedling db backup FILE`` / ``db restore FILE``.

SQLite: the online backup API (:meth:`sqlite3.Connection.backup`) copies a consistent snapshot (one read
transaction's view) while the server keeps running (in WAL mode the read does not block its writers). The backup
file is itself a SQLite database, made readable by its owner only.
PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore`` (the client programs must be installed; a clear
error says so when they are not), with the connection's password passed through ``PGPASSWORD``, never on
the command line.

Restore refuses a target that holds records unless forced (``force=True`` first empties it), and checks
the backup's migration revision against the code's: a backup from newer code is refused; an older one is
upgraded after the restore.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, func, select

from dryneedling.db import rls
from dryneedling.db.engine import alembic_config, current_revision, head_revision, upgrade
from dryneedling.errors import InputError

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


class BackupError(Exception):
    """A backup or restore that cannot go ahead (message says why and what to do)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    revision: str | None
    rows: int


def row_count(engine: Engine) -> int:
    """Rows over every table the database has, whichever code made them (0: an empty database); the
    migration bookkeeping (``alembic_version``) does not count."""
    reflected = MetaData()
    reflected.reflect(engine)
    total = 0
    with engine.connect() as connection:
        for table in reflected.sorted_tables:
            if table.name != "alembic_version":
                total += connection.execute(select(func.count()).select_from(table)).scalar_one()
    return total


def backup(engine: Engine, path: Path) -> BackupResult:
    """Write a consistent copy of the database to ``path`` (refuses to overwrite an existing file)."""
    path = Path(path)
    if path.exists():
        raise InputError("FILE", "exists already; choose a new file name", value=str(path))
    if not path.parent.is_dir():
        raise InputError("FILE", "is in a directory that does not exist", value=str(path))
    revision = current_revision(engine)
    rows = row_count(engine)
    if engine.dialect.name == "sqlite":
        _sqlite_backup(_sqlite_file(engine), path)
    else:
        _pg_dump(engine, path)
    return BackupResult(path=path, revision=revision, rows=rows)


def _sqlite_file(engine: Engine) -> str:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up or restored")
    return database


def _sqlite_backup(source_file: str, path: Path) -> None:
    # The target is created owner-only first: it holds patient records.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source = sqlite3.connect(source_file, timeout=10)
    target = sqlite3.connect(path)
    try:
        # One step (pages=-1): the copy is one read transaction's snapshot. In WAL mode that read does not
        # block the server's writers; a stepwise copy would restart on every write and might never finish.
        with target:
            source.backup(target)
        # A single-file backup (no -wal beside it): easy to copy, and what restore expects.
        target.execute("PRAGMA journal_mode=DELETE")
    except BaseException:
        target.close()
        path.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    target.close()


def pg_program(name: str, search: tuple[Path, ...] | list[Path] = PG_BIN_DIRS) -> str:
    """The path of a PostgreSQL client program (on PATH, else in Debian's versioned directories)."""
    found = shutil.which(name) or next((str(d / name) for d in search if (d / name).exists()), None)
    if found is None:
        raise BackupError(
            f"{name} was not found: install the PostgreSQL client programs "
            "(Debian: apt-get install postgresql-client) or put them on PATH"
        )
    return found


def _pg_args(engine: Engine) -> tuple[list[str], dict[str, str]]:
    url = engine.url
    args = ["--no-password"]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # Messages of pg_dump/pg_restore name objects, not row contents; the password is never in them.
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: " + (detail[-1] if detail else f"exit code {done.returncode}"))


def _pg_dump(engine: Engine, path: Path) -> None:
    args, env = _pg_args(engine)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        _run(
            [
                pg_program("pg_dump"),
                *args,
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "--file",
                str(path),
                "--dbname",
                engine.url.database or "postgres",
            ],
            env,
            "pg_dump",
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _magic(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(16)


def backup_revision(path: Path) -> str:
    """The migration revision a backup file was taken at (read without touching the live database);
    InputError when the file is not a dryneedling backup."""
    magic = _magic(path)
    not_ours = InputError(
        "FILE", "is not a dryneedling backup (SQLite database or pg_dump custom format)", value=str(path)
    )
    if magic.startswith(b"SQLite format 3"):
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError:
            raise not_ours from None
        finally:
            connection.close()
        if not row:
            raise not_ours
        return row[0]
    if magic.startswith(b"PGDMP"):
        # pg_restore writes the table's data as a script to stdout without connecting to any server.
        done = subprocess.run(
            [pg_program("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BackupError("pg_restore could not read the backup: " + done.stderr.strip()[-300:])
        lines = done.stdout.splitlines()
        for index, line in enumerate(lines):
            if line.startswith("COPY ") and "alembic_version" in line and index + 1 < len(lines):
                value = lines[index + 1].strip()
                if value != "\\.":
                    return value
        raise not_ours
    raise not_ours


def _check_revision(revision: str) -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(create_engine("sqlite://")))
    try:
        script.get_revision(revision)
    except Exception:  # alembic raises several kinds for an unknown id
        raise BackupError(
            f"the backup is at migration revision {revision!r}, which this version of dryneedling does "
            f"not know (newest known: {head_revision()!r}): restore it with the newer version"
        ) from None


def restore(engine: Engine, path: Path, force: bool = False) -> BackupResult:
    """Replace the (empty, or with ``force`` any) database's records with the backup's, then migrate it to
    the code's newest revision."""
    path = Path(path)
    if not path.is_file():
        raise InputError("FILE", "does not exist", value=str(path))
    revision = backup_revision(path)
    _check_revision(revision)
    held = row_count(engine)
    if held and not force:
        raise BackupError(
            f"the target database holds {held} rows; restoring would replace them. "
            "Use --force to replace them (take a backup of it first)"
        )
    kind = "sqlite" if _magic(path).startswith(b"SQLite format 3") else "postgresql"
    if kind != engine.dialect.name:
        raise BackupError(
            f"this is a backup of a {kind} database and the target is {engine.dialect.name}: restore it into "
            f"a {kind} database (DRYNEEDLING_DATABASE_URL)"
        )
    if engine.dialect.name == "sqlite":
        _sqlite_restore(engine, path)
    else:
        _pg_restore(engine, path)
    restored = current_revision(engine)
    upgrade(engine)
    return BackupResult(path=path, revision=restored, rows=row_count(engine))


def _sqlite_restore(engine: Engine, path: Path) -> None:
    engine.dispose()  # our own pooled connections would otherwise hold the old pages
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = sqlite3.connect(_sqlite_file(engine), timeout=10)
    try:
        # The backup API replaces the whole target database page by page, in one transaction.
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    finally:
        source.close()
        target.close()
    engine.dispose()


def _pg_restore(engine: Engine, path: Path) -> None:
    """Drop the target's tables and load the dump in ONE transaction (psql --single-transaction): if any
    statement fails, the database is left exactly as it was, even with --force."""
    reflected = MetaData()
    reflected.reflect(engine)
    with engine.connect() as connection:
        # The audit chain's trigger function lives beside the tables; the dump brings its own copy.
        functions = (
            connection.exec_driver_sql(
                "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public'"
            )
            .scalars()
            .all()
        )
    engine.dispose()
    prelude = "".join(
        f'DROP TABLE IF EXISTS "{table.name}" CASCADE;\n' for table in reversed(reflected.sorted_tables)
    ) + "".join(f"DROP FUNCTION IF EXISTS {signature} CASCADE;\n" for signature in functions)
    # The dump is loaded without its grants (roles differ between servers); the application role gets
    # its rights back in the same transaction, the audit chain's revokes included (after the dump's script,
    # which empties search_path).
    role = rls.app_role()
    postlude = "SET search_path = public;\n" + "".join(
        statement.strip() + ";\n" for statement in rls.create_app_role(role) + rls.audit_log_revokes(role)
    )
    args, env = _pg_args(engine)
    script = subprocess.Popen(
        [pg_program("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    with tempfile.TemporaryFile() as errors:
        psql = subprocess.Popen(
            [
                pg_program("psql"),
                *args,
                "--no-psqlrc",
                "--quiet",
                "--single-transaction",
                "--set=ON_ERROR_STOP=1",
                "--dbname",
                engine.url.database or "postgres",
                "--file=-",
            ],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        assert psql.stdin is not None and script.stdout is not None
        try:
            psql.stdin.write(prelude.encode())
            shutil.copyfileobj(script.stdout, psql.stdin)
            psql.stdin.write(postlude.encode())
        except BrokenPipeError:
            pass  # psql stopped at an error; reported below
        finally:
            psql.stdin.close()
        script_errors = script.communicate()[1]
        psql.wait()
        errors.seek(0)
        psql_errors = errors.read().decode(errors="replace").strip()
    if script.returncode != 0:
        raise BackupError("pg_restore could not read the backup: " + script_errors.decode().strip()[-300:])
    if psql.returncode != 0:
        # psql names the failing statement's object, not row contents; the password is never in it.
        last = psql_errors.splitlines()[-1] if psql_errors else f"exit code {psql.returncode}"
        raise BackupError(f"restore failed, nothing was changed: {last}")


__all__ = [
    "BackupError",
    "BackupResult",
    "backup",
    "backup_revision",
    "restore",
    "row_count",
]
