"""Row-level security on PostgreSQL: the second wall between clinics, behind the clinic-scoped queries.

The application's work runs as a role that owns no table (``dryneedling_app`` unless
``DRYNEEDLING_DATABASE_APP_ROLE`` names another): every transaction of :class:`~dryneedling.db.store.SqlStore`
starts with ``SET LOCAL ROLE`` to it and ``SET LOCAL app.clinic_id`` to the caller's clinic, so even a
connection made as the tables' owner (or a superuser) works under the policies. Each table with a
``clinic_id`` gets row security, *forced* (the owner is held by it too), with one policy: a row is visible and
writable only when its ``clinic_id`` is ``app.clinic_id``. Without that setting a query sees no row.

The narrow path: signing in and checking a token look users and tokens up before a clinic is known. Those
transactions set ``app.accounts`` instead of a clinic, and only the tables in :data:`ACCOUNT_LOOKUP_TABLES`
open to it; patients, visits and the rest never do.

This module is the one place that knows which tables are walled: migrations call
:func:`enable_row_security` for each table they create with a ``clinic_id`` (a test checks that every such
table in :mod:`dryneedling.db.tables` has it).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping

APP_ROLE_ENV = "DRYNEEDLING_DATABASE_APP_ROLE"
DEFAULT_APP_ROLE = "dryneedling_app"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# Read (and written) in accounts transactions, before a clinic is known: sign-in, tokens, first set-up,
# the clinic that answers the public questions form.
ACCOUNT_LOOKUP_TABLES = frozenset({"users", "api_tokens", "clinic_settings", "sessions"})

# The tables migration 0005 walls off (every table with clinic_id at that revision, 0003's follow-ups included). Later migrations call
# enable_row_security for their own new tables.
CLINIC_TABLES_0005 = (
    "users",
    "api_tokens",
    "patients",
    "episodes",
    "assessments",
    "consents",
    "visits",
    "needling_entries",
    "adverse_events",
    "amendments",
    "audit_log",
    "audit_heads",
    "clinic_settings",
    "reader_questions",
    "followup_settings",
    "followups",
    "followup_events",
)

# A patient's follow-up link is looked up before its clinic is known. Rather than open the follow-ups to
# account look-ups, that one transaction names the link's token hash, and only the row carrying it shows.
TOKEN_LOOKUP_TABLES = frozenset({"followups"})

POLICY = "clinic_isolation"
_CLINIC = "clinic_id = NULLIF(current_setting('app.clinic_id', true), '')::uuid"
_ACCOUNTS = "current_setting('app.accounts', true) = 'on'"
_TOKEN = "token_hash = NULLIF(current_setting('app.followup_token', true), '')"


def app_role(environ: Mapping[str, str] | None = None) -> str:
    """The PostgreSQL role the application works as (a plain identifier; ValueError naming the variable)."""
    environ = os.environ if environ is None else environ
    name = environ.get(APP_ROLE_ENV, "").strip() or DEFAULT_APP_ROLE
    if not _ROLE_NAME.match(name):
        raise ValueError(f"{APP_ROLE_ENV} must be a lower-case identifier (letters, digits, _), not {name!r}")
    return name


def enable_row_security(table: str) -> list[str]:
    """The statements that wall ``table`` (which has ``clinic_id``) off by clinic; run them in a migration."""
    condition = _CLINIC
    if table in ACCOUNT_LOOKUP_TABLES:
        condition = f"{_CLINIC} OR {_ACCOUNTS}"
    elif table in TOKEN_LOOKUP_TABLES:
        condition = f"{_CLINIC} OR {_TOKEN}"
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'CREATE POLICY {POLICY} ON "{table}" USING ({condition}) WITH CHECK ({condition})',
    ]


def disable_row_security(table: str) -> list[str]:
    """The statements that undo :func:`enable_row_security` (for a migration's downgrade)."""
    return [
        f'DROP POLICY IF EXISTS {POLICY} ON "{table}"',
        f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY',
    ]


def create_app_role(role: str) -> list[str]:
    """Create the application role when missing (roles are shared by the server's databases, so it may
    exist already), let the migrating user switch to it, and give it the data rights on this schema."""
    return [
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE "{role}" NOLOGIN;
            END IF;
            IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN
                EXECUTE format('GRANT %I TO %I', '{role}', current_user);
            END IF;
        END
        $$
        """,
        f'GRANT USAGE ON SCHEMA public TO "{role}"',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}"',
        # It may read the schema's revision (serve checks it at start), never move it.
        f'REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM "{role}"',
    ]


def audit_log_revokes(role: str) -> list[str]:
    """The rights the application role never has on the audit chain: it appends, it does not edit."""
    return [
        f'REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM "{role}"',
        f'REVOKE DELETE, TRUNCATE ON audit_heads FROM "{role}"',  # the head moves, never goes
    ]


def drop_app_rights(role: str) -> list[str]:
    """Take this database's rights back from the role (the role itself stays: other databases may use it)."""
    return [
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM "{role}"',
        f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"',
        f'REVOKE USAGE ON SCHEMA public FROM "{role}"',
    ]


def token_lookup_settings(role: str, token_hash: str) -> str:
    """What the transaction that resolves a patient's follow-up link runs first: no clinic, no account
    look-ups, only the follow-up whose token hash this is (a hex digest: checked, so it cannot carry SQL)."""
    if not re.fullmatch(r"[0-9a-f]{64}", token_hash):
        raise ValueError("a follow-up token hash is 64 lower-case hex digits")
    return (
        f"SET LOCAL ROLE \"{role}\"; SET LOCAL app.clinic_id = ''; SET LOCAL app.accounts = 'off'; "
        f"SET LOCAL app.followup_token = '{token_hash}'"
    )


def transaction_settings(role: str, clinic_id: object | None) -> str:
    """What a store transaction runs first: work as ``role``, for one clinic or for account look-ups.

    One round trip; ``clinic_id`` is a UUID (its text cannot carry SQL) and ``role`` a checked identifier.
    """
    scope = (
        f"SET LOCAL app.clinic_id = '{uuid.UUID(str(clinic_id))}'; SET LOCAL app.accounts = 'off'"
        if clinic_id is not None
        else "SET LOCAL app.clinic_id = ''; SET LOCAL app.accounts = 'on'"
    )
    return f'SET LOCAL ROLE "{role}"; {scope}'
