"""logins: server-side sessions, failed sign-ins for the rate limit, and an expiry for API tokens

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 06:15:31.549142
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dryneedling.db import rls

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempts_key", ["key", "failed_at"], unique=False)

    op.create_table(
        "sessions",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id", "user_id"],
            ["users.clinic_id", "users.id"],
            name=op.f("fk_sessions_clinic_id_users"),
        ),
        sa.PrimaryKeyConstraint("clinic_id", "id_hash", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_id_hash", ["id_hash"], unique=True)
        batch_op.create_index("ix_sessions_user", ["clinic_id", "user_id"], unique=False)

    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # A session is found by its id before the clinic is known, like a token: an account look-up table.
        for statement in rls.enable_row_security("sessions"):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.disable_row_security("sessions"):
            op.execute(statement)
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")

    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_user")
        batch_op.drop_index("ix_sessions_id_hash")

    op.drop_table("sessions")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_key")

    op.drop_table("login_attempts")
