"""The tables of the practice records (SQLAlchemy Core), one MetaData shared with the Alembic migrations.

Every row but a clinic's own carries ``clinic_id`` in its primary key, and every reference between rows is a
composite foreign key through ``clinic_id``: the database itself refuses a visit that points at another
clinic's episode, and a clinic's data can be read, exported or sharded by that one column.
Names of constraints and indexes follow a fixed convention so migrations stay comparable.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = JSON().with_variant(JSONB(), "postgresql")
When = DateTime(timezone=True)


def _clinic_key() -> Column:
    return Column("clinic_id", Uuid, primary_key=True)


clinics = Table(
    "clinics",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("demo", Boolean, nullable=False, default=False),
    Column("created_at", When, nullable=False),
    Column("phone", String(40)),  # follow-ups (issue 11): who patients call
)

users = Table(
    "users",
    metadata,
    _clinic_key(),
    Column("id", Uuid, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200)),
    Column("training_hours", Float),
    Column("training_course", String(200)),
    Column("training_jurisdiction", String(100)),
    Column("training_completed_on", Date),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", When, nullable=False),
    ForeignKeyConstraint(["clinic_id"], ["clinics.id"]),
    CheckConstraint("role IN ('owner', 'clinician', 'assistant', 'auditor')", name="role"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _clinic_key(),
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", When, nullable=False),
    Column("last_used_at", When),
    Column("revoked_at", When),
    Column("expires_at", When),  # None: valid until revoked (migration 0006)
    ForeignKeyConstraint(["clinic_id", "user_id"], ["users.clinic_id", "users.id"]),
)
# Authentication finds a token by its id before the clinic is known.
Index("ix_api_tokens_id", api_tokens.c.id, unique=True)

# -- logins (migration 0006): server-side sessions and the failed sign-ins that rate-limit logins ---------
sessions = Table(
    "sessions",
    metadata,
    _clinic_key(),
    # SHA-256 of the random session id the cookie carries: a copy of this table opens no session.
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("created_at", When, nullable=False),
    Column("last_seen_at", When, nullable=False),
    Column("expires_at", When, nullable=False),  # the absolute end; idle expiry counts from last_seen_at
    Column("revoked_at", When),
    ForeignKeyConstraint(["clinic_id", "user_id"], ["users.clinic_id", "users.id"]),
)
# A request finds its session by the hash before the clinic is known.
Index("ix_sessions_id_hash", sessions.c.id_hash, unique=True)
Index("ix_sessions_user", sessions.c.clinic_id, sessions.c.user_id)

# Failed sign-ins of the last window only (older rows are deleted on the next failure). No clinic and no
# e-mail address: ``key`` is a SHA-256 of "account:<e-mail>" or "address:<client address>".
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key", String(64), nullable=False),
    Column("failed_at", When, nullable=False),
)
Index("ix_login_attempts_key", login_attempts.c.key, login_attempts.c.failed_at)

patients = Table(
    "patients",
    metadata,
    _clinic_key(),
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_key", String(200), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("sex", String(10), nullable=False),
    Column("external_id", String(64)),
    Column("created_by", Uuid, nullable=False),
    Column("created_at", When, nullable=False),
    Column("email", String(320)),  # follow-ups (issue 11): where links are e-mailed
    ForeignKeyConstraint(["clinic_id"], ["clinics.id"]),
)
Index("ix_patients_clinic_name_key", patients.c.clinic_id, patients.c.name_key)
Index("ix_patients_clinic_external_id", patients.c.clinic_id, patients.c.external_id, unique=True)
Index("ix_patients_clinic_birth_date", patients.c.clinic_id, patients.c.birth_date)

episodes = Table(
    "episodes",
    metadata,
    _clinic_key(),
    Column("id", Uuid, primary_key=True),
    Column("patient_id", Uuid, nullable=False),
    Column("condition", String(100)),
    Column("onset", Date),
    Column("goals", Text),
    Column("status", String(10), nullable=False),
    Column("opened_at", When, nullable=False),
    Column("closed_at", When),
    Column("created_by", Uuid, nullable=False),
    ForeignKeyConstraint(["clinic_id", "patient_id"], ["patients.clinic_id", "patients.id"]),
    CheckConstraint("status IN ('open', 'closed')", name="status"),
)
Index("ix_episodes_clinic_patient", episodes.c.clinic_id, episodes.c.patient_id)

assessments = Table(
    "assessments",
    metadata,
    _clinic_key(),
    Column("id", Uuid, primary_key=True),
    Column("episode_id", Uuid, nullable=False),
    Column("profile", Json, nullable=False),
    Column("report", Json, nullable=False),
    Column("catalog_version", String(40), nullable=False),
    Column("created_by", Uuid, nullable=False),
    Column("created_at", When, nullable=False),
    ForeignKeyConstraint(["clinic_id", "episode_id"], ["episodes.clinic_id", "episodes.id"]),
)
Index("ix_assessments_clinic_episode", assessments.c.clinic_id, assessments.c.episode_id)

consents = Table(
    "consents",
    metadata,
    _clinic_key(),
    Column("id", Uuid, primary_key=True),
    Column("episode_id", Uuid, nullable=False),
    Column("text", Text, nullable=False),
    Column("version", String(40), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("catalog_version", String(40), nullable=False),
    Column("signed_by", String(10), nullable=False),
    Column("signer_name", String(200), nullable=False),
    Column("method", String(30), nullable=False),
    Column("typed_name", String(200)),
    Column("ticked", Boolean, nullable=False),
    Column("signature", Text),
    Column("signed_at", When, nullable=False),
    Column("copy_given", Boolean, nullable=False),
    Column("recorded_by", Uuid, nullable=False),
    Column("withdrawn_at", When),
    ForeignKeyConstraint(["clinic_id", "episode_id"], ["episodes.clinic_id", "episodes.id"]),
)
Index("ix_consents_clinic_episode", consents.c.clinic_id, consents.c.episode_id)

visits = Table(
    "visits",
    metadata,
    _clinic_key(),
    Column("id", Uuid, primary_key=True),
    Column("episode_id", Uuid, nullable=False),
    Column("patient_id", Uuid, nullable=False),
    Column("clinician_id", Uuid, nullable=False),
    Column("consent_id", Uuid),
    Column("visit_date", Date, nullable=False),
    Column("subjective", Text),
    Column("pain_before", Integer),
    Column("pain_after", Integer),
    Column("heat_before", Boolean, nullable=False),
    Column("heat_after", Boolean, nullable=False),
    Column("needles_out", Integer, nullable=False),
    Column("clean_technique", Boolean, nullable=False),
    Column("sharps_disposed", Boolean, nullable=False),
    Column("nothing_injected", Boolean, nullable=False),
    Column("plan", Text),
    Column("cpt", String(10)),
    Column("muscle_count", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    Column("signed_at", When),
    Column("signed_by", Uuid),
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
    ForeignKeyConstraint(["clinic_id", "episode_id"], ["episodes.clinic_id", "episodes.id"]),
    ForeignKeyConstraint(["clinic_id", "patient_id"], ["patients.clinic_id", "patients.id"]),
    ForeignKeyConstraint(["clinic_id", "clinician_id"], ["users.clinic_id", "users.id"]),
    ForeignKeyConstraint(["clinic_id", "consent_id"], ["consents.clinic_id", "consents.id"]),
    CheckConstraint("status IN ('draft', 'signed')", name="status"),
    CheckConstraint("pain_before BETWEEN 0 AND 10", name="pain_before"),
    CheckConstraint("pain_after BETWEEN 0 AND 10", name="pain_after"),
)
Index("ix_visits_clinic_episode", visits.c.clinic_id, visits.c.episode_id)
Index("ix_visits_clinic_patient_date", visits.c.clinic_id, visits.c.patient_id, visits.c.visit_date)

needling_entries = Table(
    "needling_entries",
    metadata,
    _clinic_key(),
    Column("visit_id", Uuid, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("muscle", String(60), nullable=False),
    Column("side", String(10), nullable=False),
    Column("needles", Integer, nullable=False),
    Column("length_mm", Float, nullable=False),
    Column("gauge", Float, nullable=False),
    Column("depth_mm", Float, nullable=False),
    Column("technique", String(30), nullable=False),
    Column("twitch_responses", Integer, nullable=False),
    Column("electrical_stimulation", Boolean, nullable=False),
    Column("duration_min", Float),
    Column("ultrasound_guided", Boolean, nullable=False),
    Column("blocked_by", String(60)),
    Column("override_reason", Text),
    ForeignKeyConstraint(["clinic_id", "visit_id"], ["visits.clinic_id", "visits.id"], ondelete="CASCADE"),
)
Index("ix_needling_entries_clinic_muscle", needling_entries.c.clinic_id, needling_entries.c.muscle)

adverse_events = Table(
    "adverse_events",
    metadata,
    _clinic_key(),
    Column("visit_id", Uuid, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("category", String(40), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("note", Text),
    # follow-ups (issue 11): who reported it; a patient's report is confirmed from a follow-up
    Column("reported_by", String(10), nullable=False, server_default="clinician"),
    Column("followup_id", Uuid),
    ForeignKeyConstraint(["clinic_id", "visit_id"], ["visits.clinic_id", "visits.id"], ondelete="CASCADE"),
    CheckConstraint("reported_by IN ('patient', 'clinician')", name="reported_by"),
)
Index("ix_adverse_events_clinic_category", adverse_events.c.clinic_id, adverse_events.c.category)

amendments = Table(
    "amendments",
    metadata,
    _clinic_key(),
    Column("id", Uuid, primary_key=True),
    Column("visit_id", Uuid, nullable=False),
    Column("text", Text, nullable=False),
    Column("author_id", Uuid, nullable=False),
    Column("created_at", When, nullable=False),
    ForeignKeyConstraint(["clinic_id", "visit_id"], ["visits.clinic_id", "visits.id"]),
    ForeignKeyConstraint(["clinic_id", "author_id"], ["users.clinic_id", "users.id"]),
)
Index("ix_amendments_clinic_visit", amendments.c.clinic_id, amendments.c.visit_id)

audit_log = Table(
    "audit_log",
    metadata,
    # One hash chain per clinic (dryneedling.records.audit): entry ``seq`` carries the hash of ``seq - 1``.
    # Append-only: the migration adds triggers refusing UPDATE and DELETE (and revokes them on PostgreSQL).
    _clinic_key(),
    Column("seq", Integer, primary_key=True),
    Column("at", When, nullable=False),
    Column("actor", Uuid, nullable=False),
    Column("role", String(20), nullable=False),
    Column("action", String(40), nullable=False),
    Column("entity", String(30), nullable=False),
    Column("entity_id", Uuid),
    Column("request_id", String(64)),
    Column("before", Text),
    Column("after", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    ForeignKeyConstraint(["clinic_id"], ["clinics.id"]),
)
Index("ix_audit_log_clinic_at", audit_log.c.clinic_id, audit_log.c.at)
Index("ix_audit_log_clinic_entity", audit_log.c.clinic_id, audit_log.c.entity, audit_log.c.entity_id)
Index("ix_audit_log_clinic_actor", audit_log.c.clinic_id, audit_log.c.actor)

audit_heads = Table(
    "audit_heads",
    metadata,
    # The last entry of each clinic's chain: appends lock this row (one writer per clinic at a time), and
    # verification compares the chain's end with it, so entries cut off the end are noticed.
    Column("clinic_id", Uuid, primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    ForeignKeyConstraint(["clinic_id"], ["clinics.id"]),
)

# -- readers' questions (issue 13) -----------------------------------------------------------------------
clinic_settings = Table(
    "clinic_settings",
    metadata,
    Column("clinic_id", Uuid, primary_key=True),
    Column("questions_enabled", Boolean, nullable=False, default=False),
    Column("updated_at", When, nullable=False),
    ForeignKeyConstraint(["clinic_id"], ["clinics.id"]),
)

reader_questions = Table(
    "reader_questions",
    metadata,
    _clinic_key(),
    Column("id", Uuid, primary_key=True),
    Column("topic", String(80), nullable=False),
    Column("text", Text, nullable=False),
    Column("name", String(100)),
    Column("email", String(320)),
    Column("submitted_at", When, nullable=False),
    Column("status", String(10), nullable=False),
    Column("spam_score", Float, nullable=False),
    Column("spam_reasons", Json, nullable=False),
    Column("answer", Text),
    Column("decided_by", Uuid),
    Column("decided_at", When),
    ForeignKeyConstraint(["clinic_id"], ["clinics.id"]),
    ForeignKeyConstraint(["clinic_id", "decided_by"], ["users.clinic_id", "users.id"]),
    CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
)
Index("ix_reader_questions_clinic_status", reader_questions.c.clinic_id, reader_questions.c.status)
Index("ix_reader_questions_clinic_topic", reader_questions.c.clinic_id, reader_questions.c.topic)

# -- follow-up by link (issue 11) ------------------------------------------------------------------------
followup_settings = Table(
    "followup_settings",
    metadata,
    Column("clinic_id", Uuid, primary_key=True),
    Column("hours", Json, nullable=False),
    Column("link_days", Integer, nullable=False),
    Column("smtp_host", String(253)),
    Column("smtp_port", Integer, nullable=False),
    Column("smtp_from", String(320)),
    Column("updated_at", When, nullable=False),
    ForeignKeyConstraint(["clinic_id"], ["clinics.id"]),
)

followups = Table(
    "followups",
    metadata,
    _clinic_key(),
    Column("id", Uuid, primary_key=True),
    Column("visit_id", Uuid, nullable=False),
    Column("patient_id", Uuid, nullable=False),
    Column("hours_after", Integer, nullable=False),
    Column("due_at", When, nullable=False),
    Column("expires_at", When, nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", When, nullable=False),
    Column("answered_at", When),
    Column("soreness", Integer),
    Column("bruising", Boolean),
    Column("bleeding", String(20)),
    Column("fainting", Boolean),
    Column("breathless_or_chest_pain", Boolean),
    Column("numbness_or_weakness", Boolean),
    Column("worse_pain", Boolean),
    Column("note", Text),
    Column("red_flags", Json, nullable=False),
    Column("alert_resolved_at", When),
    Column("alert_resolved_by", Uuid),
    Column("email_sent_at", When),
    Column("email_error", String(500)),
    ForeignKeyConstraint(["clinic_id", "visit_id"], ["visits.clinic_id", "visits.id"]),
    ForeignKeyConstraint(["clinic_id", "patient_id"], ["patients.clinic_id", "patients.id"]),
    CheckConstraint("soreness BETWEEN 0 AND 10", name="soreness"),
    CheckConstraint("bleeding IN ('none', 'stopped', 'not_stopping')", name="bleeding"),
)
# The patient's link finds its follow-up by the token's hash before the clinic is known.
Index("ix_followups_token_hash", followups.c.token_hash, unique=True)
Index("ix_followups_clinic_visit", followups.c.clinic_id, followups.c.visit_id)
Index("ix_followups_clinic_due_at", followups.c.clinic_id, followups.c.due_at)

followup_events = Table(
    "followup_events",
    metadata,
    _clinic_key(),
    Column("id", Uuid, primary_key=True),
    Column("followup_id", Uuid, nullable=False),
    Column("visit_id", Uuid, nullable=False),
    Column("category", String(40), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("question", String(40), nullable=False),
    Column("note", Text),
    Column("reported_by", String(10), nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", When, nullable=False),
    Column("decided_by", Uuid),
    Column("decided_at", When),
    ForeignKeyConstraint(["clinic_id", "followup_id"], ["followups.clinic_id", "followups.id"]),
    ForeignKeyConstraint(["clinic_id", "visit_id"], ["visits.clinic_id", "visits.id"]),
    ForeignKeyConstraint(["clinic_id", "decided_by"], ["users.clinic_id", "users.id"]),
    CheckConstraint("status IN ('draft', 'confirmed', 'dismissed')", name="status"),
    CheckConstraint("reported_by IN ('patient', 'clinician')", name="reported_by"),
)
Index("ix_followup_events_clinic_status", followup_events.c.clinic_id, followup_events.c.status)
Index("ix_followup_events_clinic_visit", followup_events.c.clinic_id, followup_events.c.visit_id)
# -- outcome measures (issue 11) -------------------------------------------------------------------------
outcome_scores = Table(
    "outcome_scores",
    metadata,
    _clinic_key(),
    Column("id", Uuid, primary_key=True),
    Column("episode_id", Uuid, nullable=False),
    Column("measure", String(40), nullable=False),
    Column("variant", String(20)),
    Column("score", Float, nullable=False),
    Column("items", Json),
    Column("measured_on", Date, nullable=False),
    Column("recorded_by", Uuid, nullable=False),
    Column("created_at", When, nullable=False),
    ForeignKeyConstraint(["clinic_id", "episode_id"], ["episodes.clinic_id", "episodes.id"]),
    ForeignKeyConstraint(["clinic_id", "recorded_by"], ["users.clinic_id", "users.id"]),
)
Index(
    "ix_outcome_scores_clinic_episode_measure",
    outcome_scores.c.clinic_id,
    outcome_scores.c.episode_id,
    outcome_scores.c.measure,
)

# One row per episode, measure and variant: its first and latest score and their difference, kept in step with outcome_scores by
# the outcome use case, so the dashboard's change histogram is one GROUP BY over small rows (no window scan).
# variant_key is the variant or '' (a key column cannot be NULL); condition and opened_by copy the episode's.
outcome_series = Table(
    "outcome_series",
    metadata,
    _clinic_key(),
    Column("episode_id", Uuid, primary_key=True),
    Column("measure", String(40), primary_key=True),
    Column("variant_key", String(20), primary_key=True),
    Column("condition", String(100)),
    Column("opened_by", Uuid, nullable=False),
    Column("scores", Integer, nullable=False),
    Column("first_on", Date, nullable=False),
    Column("first_score", Float, nullable=False),
    Column("last_on", Date, nullable=False),
    Column("last_score", Float, nullable=False),
    Column("change", Float, nullable=False),
    ForeignKeyConstraint(["clinic_id", "episode_id"], ["episodes.clinic_id", "episodes.id"]),
)
# The dashboard's indexes: each aggregate reads one covering index instead of the tables (measured in
# bench/bench_dashboard.py on 100,000 visits: the SQLite dashboard fell from about 700 ms to under 200 ms).
Index(
    "ix_outcome_series_dashboard",
    outcome_series.c.clinic_id,
    outcome_series.c.condition,
    outcome_series.c.measure,
    outcome_series.c.variant_key,
    outcome_series.c.change,
    outcome_series.c.scores,
    outcome_series.c.opened_by,
    outcome_series.c.episode_id,
)
Index(
    "ix_visits_clinic_clinician_needled",
    visits.c.clinic_id,
    visits.c.clinician_id,
    visits.c.muscle_count,
    visits.c.episode_id,
)
Index(
    "ix_adverse_events_clinic_visit_severity",
    adverse_events.c.clinic_id,
    adverse_events.c.visit_id,
    adverse_events.c.severity,
)

# One row per visit: what the dashboard counts of it, kept in step with the visit, its adverse events, its
# follow-ups and their events by every write to them (dryneedling.db.tallies), so the dashboard is two
# GROUP BY queries over one covering index instead of grouping events and answers per visit (issue 11:
# 100,000 visits took over a second). The columns mirror the dashboard's definitions:
# - treated: the visit needled at least one muscle (muscle_count > 0);
# - clinician_mild / clinician_serious: an adverse event on the visit reported by the clinician is mild /
#   significant or major (a patient's event a clinician confirmed joins the visit's adverse events but stays
#   patient-reported, counted below);
# - answered: the patient answered at least one follow-up; soreness_24h / soreness_48h: the highest soreness
#   answered in follow-ups due up to FIRST_DAY_HOURS (36) after the visit / later (NULL: none answered);
# - patient_mild / patient_serious: a patient-reported event of the visit, not dismissed, is mild / serious.
visit_tallies = Table(
    "visit_tallies",
    metadata,
    _clinic_key(),
    Column("visit_id", Uuid, primary_key=True),
    Column("clinician_id", Uuid, nullable=False),
    Column("treated", Boolean, nullable=False),
    Column("clinician_mild", Boolean, nullable=False),
    Column("clinician_serious", Boolean, nullable=False),
    Column("answered", Boolean, nullable=False),
    Column("soreness_24h", Integer),
    Column("soreness_48h", Integer),
    Column("patient_mild", Boolean, nullable=False),
    Column("patient_serious", Boolean, nullable=False),
    ForeignKeyConstraint(["clinic_id", "visit_id"], ["visits.clinic_id", "visits.id"], ondelete="CASCADE"),
)
# Ordered as the dashboard groups: per clinician the treatments and their clinician-reported events, then
# the answered visits by soreness and patient-reported events; both queries read only this index.
Index(
    "ix_visit_tallies_dashboard",
    visit_tallies.c.clinic_id,
    visit_tallies.c.clinician_id,
    visit_tallies.c.treated,
    visit_tallies.c.clinician_mild,
    visit_tallies.c.clinician_serious,
    visit_tallies.c.answered,
    visit_tallies.c.soreness_24h,
    visit_tallies.c.soreness_48h,
    visit_tallies.c.patient_mild,
    visit_tallies.c.patient_serious,
)
