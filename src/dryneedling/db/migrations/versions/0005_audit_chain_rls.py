"""audit chain and row-level security: a per-clinic hash-chained, append-only audit log; on PostgreSQL an
application role that owns no table and forced row security on every table with a clinic_id

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-30 06:40:00

The old audit rows are kept: each clinic's are chained in the order they were written (their role looked
up from the users table). A downgrade puts back the old table and the entries that name a record.
"""

from __future__ import annotations

import uuid
from datetime import UTC

import sqlalchemy as sa
from alembic import op

from dryneedling.db import rls
from dryneedling.records.audit import GENESIS, entry_hash

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

APPEND_ONLY_SQLITE = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END""",
]
APPEND_ONLY_POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
           RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
       END
       $$""",
    """CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
       FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
]


def _old_table(name: str = "audit_log") -> sa.Table:
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("clinic_id", sa.Uuid()),
        sa.Column("id", sa.Uuid()),
        sa.Column("at", sa.DateTime(timezone=True)),
        sa.Column("user_id", sa.Uuid()),
        sa.Column("action", sa.String(40)),
        sa.Column("entity", sa.String(20)),
        sa.Column("entity_id", sa.Uuid()),
    )


def _new_tables() -> tuple[sa.Table, sa.Table]:
    meta = sa.MetaData()
    log = sa.Table(
        "audit_log",
        meta,
        sa.Column("clinic_id", sa.Uuid()),
        sa.Column("seq", sa.Integer()),
        sa.Column("at", sa.DateTime(timezone=True)),
        sa.Column("actor", sa.Uuid()),
        sa.Column("role", sa.String(20)),
        sa.Column("action", sa.String(40)),
        sa.Column("entity", sa.String(30)),
        sa.Column("entity_id", sa.Uuid()),
        sa.Column("request_id", sa.String(64)),
        sa.Column("before", sa.Text()),
        sa.Column("after", sa.Text()),
        sa.Column("prev_hash", sa.String(64)),
        sa.Column("hash", sa.String(64)),
    )
    heads = sa.Table(
        "audit_heads",
        meta,
        sa.Column("clinic_id", sa.Uuid()),
        sa.Column("seq", sa.Integer()),
        sa.Column("hash", sa.String(64)),
    )
    return log, heads


def _create_chain_tables() -> None:
    op.create_table(
        "audit_log",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=30), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_audit_log_clinic_id_clinics")),
        sa.PrimaryKeyConstraint("clinic_id", "seq", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_clinic_at", "audit_log", ["clinic_id", "at"], unique=False)
    op.create_index(
        "ix_audit_log_clinic_entity", "audit_log", ["clinic_id", "entity", "entity_id"], unique=False
    )
    op.create_index("ix_audit_log_clinic_actor", "audit_log", ["clinic_id", "actor"], unique=False)
    op.create_table(
        "audit_heads",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_audit_heads_clinic_id_clinics")),
        sa.PrimaryKeyConstraint("clinic_id", name=op.f("pk_audit_heads")),
    )


def _chained(old_rows, roles: dict) -> tuple[list[dict], list[dict]]:
    """The old entries as chain entries, per clinic in the order they were written."""
    entries, heads, seq, prev = [], {}, {}, {}
    for row in sorted(old_rows, key=lambda r: (str(r.clinic_id), r.at, str(r.id))):
        clinic = row.clinic_id
        seq[clinic] = seq.get(clinic, 0) + 1
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
        fields = {
            "clinic_id": clinic,
            "seq": seq[clinic],
            "at": at,
            "actor": row.user_id,
            "role": roles.get((clinic, row.user_id), "unknown"),
            "action": row.action,
            "entity": row.entity,
            "entity_id": row.entity_id,
            "request_id": None,
            "before": None,
            "after": None,
            "prev_hash": prev.get(clinic, GENESIS),
        }
        fields["hash"] = entry_hash(**fields)
        prev[clinic] = fields["hash"]
        heads[clinic] = {"clinic_id": clinic, "seq": fields["seq"], "hash": fields["hash"]}
        entries.append(fields)
    return entries, list(heads.values())


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    old_rows = list(bind.execute(sa.select(_old_table())))
    users = sa.table(
        "users", sa.column("clinic_id", sa.Uuid()), sa.column("id", sa.Uuid()), sa.column("role")
    )
    roles = {(r.clinic_id, r.id): r.role for r in bind.execute(sa.select(users))} if old_rows else {}
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_clinic_at")
    op.drop_table("audit_log")
    _create_chain_tables()
    entries, heads = _chained(old_rows, roles)
    log, head_table = _new_tables()
    if entries:
        bind.execute(sa.insert(log), entries)
        bind.execute(sa.insert(head_table), heads)
    for statement in APPEND_ONLY_POSTGRESQL if postgres else APPEND_ONLY_SQLITE:
        op.execute(statement)
    if postgres:
        role = rls.app_role()
        for statement in rls.create_app_role(role):
            op.execute(statement)
        # The application may add to the log and read it, never change or remove an entry.
        for statement in rls.audit_log_revokes(role):
            op.execute(statement)
        for table in rls.CLINIC_TABLES_0005:
            for statement in rls.enable_row_security(table):
                op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        for table in rls.CLINIC_TABLES_0005:
            for statement in rls.disable_row_security(table):
                op.execute(statement)
        for statement in rls.drop_app_rights(rls.app_role()):
            op.execute(statement)
    log, _ = _new_tables()
    rows = list(
        bind.execute(sa.select(log).where(log.c.entity_id.is_not(None)).order_by(log.c.clinic_id, log.c.seq))
    )
    op.drop_table("audit_heads")  # the triggers go with their table
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_clinic_actor")
        batch_op.drop_index("ix_audit_log_clinic_entity")
        batch_op.drop_index("ix_audit_log_clinic_at")
    op.drop_table("audit_log")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.create_table(
        "audit_log",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("clinic_id", "id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_clinic_at", ["clinic_id", "at"], unique=False)
    if rows:
        bind.execute(
            sa.insert(_old_table()),
            [
                {
                    "clinic_id": r.clinic_id,
                    "id": uuid.uuid4(),
                    "at": r.at,
                    "user_id": r.actor,
                    "action": r.action,
                    "entity": r.entity[:20],
                    "entity_id": r.entity_id,
                }
                for r in rows
            ],
        )
