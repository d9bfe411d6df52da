"""outcomes: scores of outcome measures per episode, their per-episode series and the dashboard's indexes
(issue 11)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 06:20:00

Built beside 0003-0006 as "0004"; it follows them, so it walls its own tables off by clinic (row-level
security on PostgreSQL, dryneedling.db.rls).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from dryneedling.db import rls

NEW_CLINIC_TABLES = ("outcome_scores", "outcome_series")

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outcome_scores",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("measure", sa.String(length=40), nullable=False),
        sa.Column("variant", sa.String(length=20), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column(
            "items",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id", "episode_id"],
            ["episodes.clinic_id", "episodes.id"],
            name=op.f("fk_outcome_scores_clinic_id_episodes"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "recorded_by"],
            ["users.clinic_id", "users.id"],
            name=op.f("fk_outcome_scores_clinic_id_users"),
        ),
        sa.PrimaryKeyConstraint("clinic_id", "id", name=op.f("pk_outcome_scores")),
    )
    with op.batch_alter_table("outcome_scores", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outcome_scores_clinic_episode_measure", ["clinic_id", "episode_id", "measure"], unique=False
        )
    op.create_table(
        "outcome_series",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("measure", sa.String(length=40), nullable=False),
        sa.Column("variant_key", sa.String(length=20), nullable=False),
        sa.Column("condition", sa.String(length=100), nullable=True),
        sa.Column("opened_by", sa.Uuid(), nullable=False),
        sa.Column("scores", sa.Integer(), nullable=False),
        sa.Column("first_on", sa.Date(), nullable=False),
        sa.Column("first_score", sa.Float(), nullable=False),
        sa.Column("last_on", sa.Date(), nullable=False),
        sa.Column("last_score", sa.Float(), nullable=False),
        sa.Column("change", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id", "episode_id"],
            ["episodes.clinic_id", "episodes.id"],
            name=op.f("fk_outcome_series_clinic_id_episodes"),
        ),
        sa.PrimaryKeyConstraint(
            "clinic_id", "episode_id", "measure", "variant_key", name=op.f("pk_outcome_series")
        ),
    )
    with op.batch_alter_table("outcome_series", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outcome_series_dashboard",
            [
                "clinic_id",
                "condition",
                "measure",
                "variant_key",
                "change",
                "scores",
                "opened_by",
                "episode_id",
            ],
            unique=False,
        )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_visits_clinic_clinician_needled",
            ["clinic_id", "clinician_id", "muscle_count", "episode_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_visits_clinic_id_clinician", ["clinic_id", "id", "clinician_id", "muscle_count"], unique=False
        )
    with op.batch_alter_table("adverse_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_adverse_events_clinic_visit_severity", ["clinic_id", "visit_id", "severity"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        for table in NEW_CLINIC_TABLES:
            for statement in rls.enable_row_security(table):
                op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in NEW_CLINIC_TABLES:
            for statement in rls.disable_row_security(table):
                op.execute(statement)
    with op.batch_alter_table("adverse_events", schema=None) as batch_op:
        batch_op.drop_index("ix_adverse_events_clinic_visit_severity")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index("ix_visits_clinic_id_clinician")
        batch_op.drop_index("ix_visits_clinic_clinician_needled")
    with op.batch_alter_table("outcome_series", schema=None) as batch_op:
        batch_op.drop_index("ix_outcome_series_dashboard")
    op.drop_table("outcome_series")
    with op.batch_alter_table("outcome_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_outcome_scores_clinic_episode_measure")
    op.drop_table("outcome_scores")
