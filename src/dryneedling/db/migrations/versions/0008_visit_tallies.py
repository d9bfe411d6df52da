"""visit tallies: one row per visit with what the clinic dashboard counts of it, filled for existing visits
(issue 11)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:30:00

The dashboard grouped every visit's adverse events, follow-ups and follow-up events on each read (over a
second at 100,000 visits); the application now keeps ``visit_tallies`` in step on every write
(dryneedling.db.tallies) and the dashboard reads only its covering index. The backfill below uses the same
definitions in plain SQL (kept here, not imported, so this revision stays as it was when later code changes).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dryneedling.db import rls

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLE = "visit_tallies"

# The definitions of dryneedling.db.tallies.tally_select at this revision: a treatment needled a muscle; the
# clinician's events are those reported by the clinician (a confirmed patient's event kept on the visit is
# patient-reported); answers are answered follow-ups, the first day's those due up to 36 h after the visit;
# the patient's events are the follow-up events a clinician has not dismissed.
SELECT_TALLIES = """
SELECT
    v.clinic_id,
    v.id,
    v.clinician_id,
    v.muscle_count > 0,
    EXISTS (SELECT 1 FROM adverse_events a WHERE a.clinic_id = v.clinic_id AND a.visit_id = v.id
            AND a.reported_by = 'clinician' AND a.severity = 'mild'),
    EXISTS (SELECT 1 FROM adverse_events a WHERE a.clinic_id = v.clinic_id AND a.visit_id = v.id
            AND a.reported_by = 'clinician' AND a.severity IN ('significant', 'major')),
    EXISTS (SELECT 1 FROM followups f WHERE f.clinic_id = v.clinic_id AND f.visit_id = v.id
            AND f.answered_at IS NOT NULL),
    (SELECT max(f.soreness) FROM followups f WHERE f.clinic_id = v.clinic_id AND f.visit_id = v.id
            AND f.answered_at IS NOT NULL AND f.hours_after <= 36),
    (SELECT max(f.soreness) FROM followups f WHERE f.clinic_id = v.clinic_id AND f.visit_id = v.id
            AND f.answered_at IS NOT NULL AND f.hours_after > 36),
    EXISTS (SELECT 1 FROM followup_events e WHERE e.clinic_id = v.clinic_id AND e.visit_id = v.id
            AND e.status <> 'dismissed' AND e.severity = 'mild'),
    EXISTS (SELECT 1 FROM followup_events e WHERE e.clinic_id = v.clinic_id AND e.visit_id = v.id
            AND e.status <> 'dismissed' AND e.severity IN ('significant', 'major'))
FROM visits v
"""
BACKFILL = (
    "INSERT INTO visit_tallies (clinic_id, visit_id, clinician_id, treated, clinician_mild, clinician_serious, "
    "answered, soreness_24h, soreness_48h, patient_mild, patient_serious)" + SELECT_TALLIES
)


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("clinician_id", sa.Uuid(), nullable=False),
        sa.Column("treated", sa.Boolean(), nullable=False),
        sa.Column("clinician_mild", sa.Boolean(), nullable=False),
        sa.Column("clinician_serious", sa.Boolean(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("soreness_24h", sa.Integer(), nullable=True),
        sa.Column("soreness_48h", sa.Integer(), nullable=True),
        sa.Column("patient_mild", sa.Boolean(), nullable=False),
        sa.Column("patient_serious", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id", "visit_id"],
            ["visits.clinic_id", "visits.id"],
            name=op.f("fk_visit_tallies_clinic_id_visits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("clinic_id", "visit_id", name=op.f("pk_visit_tallies")),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Row security is forced on the source tables, for their owner too: the backfill sees a clinic's
        # rows only while app.clinic_id names it, so it goes clinic by clinic (the clinics table is not
        # walled).
        clinics = bind.execute(sa.text("SELECT id FROM clinics")).scalars().all()
        for clinic_id in clinics:
            bind.execute(
                sa.text("SELECT set_config('app.clinic_id', :clinic, true)"), {"clinic": str(clinic_id)}
            )
            bind.execute(sa.text(BACKFILL + " WHERE v.clinic_id = :clinic"), {"clinic": clinic_id})
        bind.execute(sa.text("SELECT set_config('app.clinic_id', '', true)"))
        for statement in rls.enable_row_security(TABLE):
            op.execute(statement)
    else:
        op.execute(BACKFILL)
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(
            "ix_visit_tallies_dashboard",
            [
                "clinic_id",
                "clinician_id",
                "treated",
                "clinician_mild",
                "clinician_serious",
                "answered",
                "soreness_24h",
                "soreness_48h",
                "patient_mild",
                "patient_serious",
            ],
            unique=False,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.disable_row_security(TABLE):
            op.execute(statement)
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_visit_tallies_dashboard")
    op.drop_table(TABLE)
