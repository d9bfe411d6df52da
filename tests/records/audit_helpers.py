"""Helpers for the audit tests: read a clinic's log straight from the database, and tamper with it the way
someone with the tables' owner rights could (switching the append-only triggers off and on again)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, select, text

from dryneedling.db import tables as t


def log_rows(store, clinic_id: str | uuid.UUID) -> list[dict]:
    """The clinic's audit rows by seq, read as the tables' owner (no row security on that connection:
    the test connects as a PostgreSQL superuser)."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(t.audit_log)
            .where(t.audit_log.c.clinic_id == uuid.UUID(str(clinic_id)))
            .order_by(t.audit_log.c.seq)
        )
        return [dict(row._mapping) for row in rows]


@contextmanager
def tampering(store) -> Iterator[Connection]:
    """An owner's connection with the audit log's triggers off; on again (as created) when done."""
    engine = store.engine
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            triggers = connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")
            ).all()
            assert len(triggers) == 2
            for name, _ in triggers:
                connection.execute(text(f"DROP TRIGGER {name}"))
            connection.commit()
            try:
                yield connection
                connection.commit()
            finally:
                connection.rollback()
                for _, sql in triggers:
                    connection.execute(text(sql))
                connection.commit()
        else:
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            connection.commit()
            try:
                yield connection
                connection.commit()
            finally:
                connection.rollback()
                connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
                connection.commit()
