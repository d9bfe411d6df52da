"""Migration 0005 keeps the audit entries written before it: each clinic's old entries become the start of
its hash chain (role looked up), and a downgrade puts the entries that name a record back in the old table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from dryneedling.db.engine import downgrade, make_engine, upgrade
from dryneedling.services import accounts, audit

OLD_LOG = sa.Table(
    "audit_log",
    sa.MetaData(),
    sa.Column("clinic_id", sa.Uuid()),
    sa.Column("id", sa.Uuid()),
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("user_id", sa.Uuid()),
    sa.Column("action", sa.String(40)),
    sa.Column("entity", sa.String(20)),
    sa.Column("entity_id", sa.Uuid()),
)


def test_it_chains_the_entries_written_before_the_chain_existed(store, database_url):
    clinic = accounts.add_clinic(store, "Old Log Physio")
    user = accounts.add_user(store, clinic.id, f"old.{uuid.uuid4().hex[:6]}@example.org", "clinician", None)
    engine = make_engine(database_url)
    try:
        downgrade(engine, "0002")
        start = datetime(2026, 1, 1, tzinfo=UTC)
        old = [
            {
                "clinic_id": clinic.id,
                "id": uuid.uuid4(),
                "at": start + timedelta(minutes=i),
                "user_id": user.id,
                "action": action,
                "entity": "patient",
                "entity_id": uuid.uuid4(),
            }
            for i, action in enumerate(["create", "update", "create"])
        ]
        with engine.begin() as connection:
            connection.execute(sa.insert(OLD_LOG), old)
        upgrade(engine)
        state = audit.verify_clinic(store, clinic.id)
        assert state.holds and state.entries == 3 and state.head_seq == 3
        with store.clinic(clinic.id, write=False) as records:
            entries = list(records.audit_chain())
        assert [(e.seq, e.action, e.entity_id, e.role) for e in entries] == [
            (i + 1, row["action"], row["entity_id"], "clinician") for i, row in enumerate(old)
        ]
        # new entries continue the same chain
        with store.clinic(clinic.id) as records:
            records.audit(user, "read", "patient", old[0]["entity_id"])
        assert audit.verify_clinic(store, clinic.id).entries == 4
        downgrade(engine, "0002")
        with engine.connect() as connection:
            back = connection.execute(
                sa.select(OLD_LOG.c.action).where(OLD_LOG.c.clinic_id == clinic.id).order_by(OLD_LOG.c.at)
            ).scalars()
            assert list(back) == ["create", "update", "create", "read"]
    finally:
        upgrade(engine)
        engine.dispose()
