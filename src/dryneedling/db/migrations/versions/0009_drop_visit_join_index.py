"""drop ix_visits_clinic_id_clinician: the dashboard read it to join each adverse event to its visit's
clinician; since 0008 it reads the per-visit tallies, and no other query uses the index, while every visit
written still paid for it.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index("ix_visits_clinic_id_clinician")


def downgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_visits_clinic_id_clinician", ["clinic_id", "id", "clinician_id", "muscle_count"], unique=False
        )
