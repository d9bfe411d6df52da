"""The SQL side of the audit log: append to a clinic's hash chain, read it back, page through it.

An append runs inside the transaction of the change (or read) it records, so a crash never leaves one
without the other. Appends to one clinic's chain are serialised on its ``audit_heads`` row: PostgreSQL locks
it with ``SELECT ... FOR UPDATE``; SQLite's write transactions start with ``BEGIN IMMEDIATE`` and so queue
already. The unique ``(clinic_id, seq)`` key would refuse a fork even if that were bypassed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from dryneedling.db import tables as t
from dryneedling.records.audit import GENESIS, AuditEntry, canonical, current_request_id, entry_hash

_LOG, _HEADS = t.audit_log, t.audit_heads


# Built once: every audited read and change appends, so compiling these per call would cost every request.
_HEAD = select(_HEADS.c.seq, _HEADS.c.hash).where(_HEADS.c.clinic_id == bindparam("clinic"))
_HEAD_FOR_UPDATE = _HEAD.with_for_update()
# The entry's values are bound under names that are no column's, so the head's UPDATE in the CTE below never
# picks one of them up as an extra SET (SQLAlchemy matches parameters to columns by name).
_APPEND = insert(_LOG).values({column.name: bindparam(f"entry_{column.name}") for column in _LOG.c})
_MOVE_HEAD = (
    update(_HEADS)
    .where(_HEADS.c.clinic_id == bindparam("head_clinic"))
    .values(seq=bindparam("head_seq"), hash=bindparam("head_hash"))
)
# PostgreSQL: one round trip, the head moving in a data-modifying CTE of the insert.
_APPEND_AND_MOVE = _APPEND.add_cte(_MOVE_HEAD.cte("moved_head"))


def _locked_head(connection: Connection, clinic_id: uuid.UUID) -> tuple[int, str]:
    """The clinic's last (seq, hash), its row locked until the transaction ends (created when missing)."""
    postgres = connection.dialect.name == "postgresql"
    statement = _HEAD_FOR_UPDATE if postgres else _HEAD
    row = connection.execute(statement, {"clinic": clinic_id}).first()
    if row is None:
        new = pg_insert(_HEADS) if postgres else sqlite_insert(_HEADS)
        connection.execute(
            new.values(clinic_id=clinic_id, seq=0, hash=GENESIS).on_conflict_do_nothing(
                index_elements=["clinic_id"]
            )
        )
        row = connection.execute(statement, {"clinic": clinic_id}).one()
    return row.seq, row.hash


def append(
    connection: Connection,
    clinic_id: uuid.UUID,
    *,
    actor: uuid.UUID,
    role: str,
    action: str,
    entity: str,
    entity_id: uuid.UUID | None,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Add one entry to ``clinic_id``'s chain (``before``/``after``: JSON-able, already redacted)."""
    head_seq, head_hash = _locked_head(connection, clinic_id)
    fields: dict[str, Any] = {
        "clinic_id": clinic_id,
        "seq": head_seq + 1,
        "at": datetime.now(UTC),
        "actor": actor,
        "role": role,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "request_id": current_request_id(),
        "before": canonical(before) if before is not None else None,
        "after": canonical(after) if after is not None else None,
        "prev_hash": head_hash,
    }
    fields["hash"] = entry_hash(**fields)
    entry = {f"entry_{name}": value for name, value in fields.items()}
    moved = {"head_clinic": clinic_id, "head_seq": fields["seq"], "head_hash": fields["hash"]}
    if connection.dialect.name == "postgresql":
        connection.execute(_APPEND_AND_MOVE, {**entry, **moved})
    else:
        connection.execute(_APPEND, entry)
        connection.execute(_MOVE_HEAD, moved)
    return AuditEntry(**fields)


def _entry(row: Any) -> AuditEntry:
    data = dict(row._mapping)
    if data["at"].tzinfo is None:  # SQLite returns UTC without a zone
        data["at"] = data["at"].replace(tzinfo=UTC)
    return AuditEntry(**data)


def chain(connection: Connection, clinic_id: uuid.UUID) -> Iterator[AuditEntry]:
    """Every entry of the clinic's chain, by seq (streamed)."""
    statement = select(_LOG).where(_LOG.c.clinic_id == clinic_id).order_by(_LOG.c.seq)
    for row in connection.execution_options(yield_per=2000).execute(statement):
        yield _entry(row)


def head(connection: Connection, clinic_id: uuid.UUID) -> tuple[int, str] | None:
    """The (seq, hash) the application last wrote for the clinic (None: it never wrote one)."""
    row = connection.execute(
        select(_HEADS.c.seq, _HEADS.c.hash).where(_HEADS.c.clinic_id == clinic_id)
    ).first()
    return (row.seq, row.hash) if row else None


def page(
    connection: Connection,
    clinic_id: uuid.UUID,
    *,
    limit: int,
    offset: int,
    actor: uuid.UUID | None = None,
    entity: str | None = None,
    entity_id: uuid.UUID | None = None,
) -> tuple[list[AuditEntry], int]:
    """Entries newest first, filtered by who and by what; with the number of matching entries."""
    conditions = [_LOG.c.clinic_id == clinic_id]
    if actor is not None:
        conditions.append(_LOG.c.actor == actor)
    if entity is not None:
        conditions.append(_LOG.c.entity == entity)
    if entity_id is not None:
        conditions.append(_LOG.c.entity_id == entity_id)
    total = connection.execute(select(func.count()).select_from(_LOG).where(*conditions)).scalar_one()
    rows = connection.execute(
        select(_LOG).where(*conditions).order_by(_LOG.c.seq.desc()).limit(limit).offset(offset)
    )
    return [_entry(row) for row in rows], total


def entities(connection: Connection, clinic_id: uuid.UUID) -> list[str]:
    """The kinds of record the clinic's log names (for the page's filter)."""
    statement = select(_LOG.c.entity).where(_LOG.c.clinic_id == clinic_id).distinct().order_by(_LOG.c.entity)
    return list(connection.execute(statement).scalars())
