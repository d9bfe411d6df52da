"""Storage of the follow-ups (issue 11): a mixin of the clinic repository, so that signing a visit schedules
its follow-ups in the same transaction, plus the one read that comes before a clinic is known (a patient's
link finds its follow-up by the token's hash).

Every statement starts from :meth:`ClinicScoped.scoped` or sets ``clinic_id`` itself, as in
:mod:`dryneedling.db.store`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from dryneedling.db import tables as t
from dryneedling.db.scoped import scoped_statement
from dryneedling.records.entities import AdverseEvent, Clinic
from dryneedling.records.followup import (
    ANSWER_FIELDS,
    FollowUp,
    FollowUpAnswers,
    FollowUpEvent,
    FollowUpSettings,
)

_SETTINGS = scoped_statement(t.followup_settings)


def _row(row: Any) -> dict[str, Any]:
    from dryneedling.db.store import _row as stored_row

    return stored_row(row)


def _followup(row: Any) -> FollowUp:
    data = _row(row)
    data.pop("token_hash", None)
    answers = {name: data.pop(name) for name in ANSWER_FIELDS}
    data["answers"] = FollowUpAnswers(**answers) if data["answered_at"] is not None else None
    return FollowUp.model_validate(data)


def followup_by_token_hash(connection: Connection, token_hash: str) -> FollowUp | None:
    """The follow-up a link's token hash names, in whichever clinic (the patient has no account)."""
    row = connection.execute(select(t.followups).where(t.followups.c.token_hash == token_hash)).first()
    return _followup(row) if row else None


_VISIT_OF = {
    table.name: select(table.c.visit_id).where(
        table.c.clinic_id == bindparam("clinic_id"), table.c.id == bindparam("row_id")
    )
    for table in (t.followups, t.followup_events)
}


class FollowUpRows:
    """The follow-up reads and writes of :class:`~dryneedling.db.store.SqlClinicRecords` (a mixin)."""

    connection: Connection
    clinic_id: uuid.UUID

    def _visit_of(self, table: Any, row_id: uuid.UUID) -> uuid.UUID:
        """The visit a follow-up or follow-up event belongs to (whose tallies its change moves)."""
        return self.connection.execute(
            _VISIT_OF[table.name], {"clinic_id": self.clinic_id, "row_id": row_id}
        ).scalar_one()

    # -- settings and the clinic's contact --------------------------------------------------------------
    def followup_settings(self) -> FollowUpSettings | None:
        row = self.run(_SETTINGS).first()  # type: ignore[attr-defined]
        return FollowUpSettings.model_validate(_row(row)) if row else None

    def save_followup_settings(self, settings: FollowUpSettings) -> None:
        values = settings.model_dump(exclude={"clinic_id"})
        result = self.connection.execute(
            update(t.followup_settings)
            .where(t.followup_settings.c.clinic_id == self.clinic_id)
            .values(**values)
        )
        if result.rowcount == 0:
            self._insert(t.followup_settings, values)  # type: ignore[attr-defined]

    def own_clinic(self) -> Clinic:
        row = self.connection.execute(select(t.clinics).where(t.clinics.c.id == self.clinic_id)).first()
        return Clinic.model_validate(_row(row))

    def set_clinic_phone(self, phone: str | None) -> None:
        self.connection.execute(update(t.clinics).where(t.clinics.c.id == self.clinic_id).values(phone=phone))

    # -- follow-ups -------------------------------------------------------------------------------------
    def add_followups(self, followups: list[tuple[FollowUp, str]]) -> None:
        """Store follow-ups, each with the SHA-256 hash of its link's token."""
        rows = []
        for followup, hashed in followups:
            row = followup.model_dump(exclude={"clinic_id", "answers"})
            row.update({name: None for name in ANSWER_FIELDS}, token_hash=hashed)
            rows.append(row)
        self._insert(t.followups, rows)  # type: ignore[attr-defined]
        # Scheduled follow-ups are unanswered and leave the visits' tallies as they are (answer_followup
        # refreshes them); one stored as answered already would change them.
        self._refresh_visit_tallies(*(f.visit_id for f, _ in followups if f.answered_at is not None))  # type: ignore[attr-defined]

    def followup(self, followup_id: uuid.UUID) -> FollowUp | None:
        statement = self.scoped(t.followups).where(t.followups.c.id == followup_id)  # type: ignore[attr-defined]
        row = self.connection.execute(statement).first()
        return _followup(row) if row else None

    def followups_of(self, visit_id: uuid.UUID) -> list[FollowUp]:
        statement = (
            self.scoped(t.followups)  # type: ignore[attr-defined]
            .where(t.followups.c.visit_id == visit_id)
            .order_by(t.followups.c.due_at, t.followups.c.id)
        )
        return [_followup(row) for row in self.connection.execute(statement)]

    def answer_followup(
        self, followup_id: uuid.UUID, answers: FollowUpAnswers, red_flags: list[str], at: datetime
    ) -> bool:
        """Store the answers unless the follow-up is answered already or expired (False: nothing written)."""
        result = self.connection.execute(
            update(t.followups)
            .where(
                t.followups.c.clinic_id == self.clinic_id,
                t.followups.c.id == followup_id,
                t.followups.c.answered_at.is_(None),
                t.followups.c.expires_at > at,
            )
            .values(answered_at=at, red_flags=red_flags, **answers.model_dump())
        )
        if result.rowcount != 1:
            return False
        self._refresh_visit_tallies(self._visit_of(t.followups, followup_id))  # type: ignore[attr-defined]
        return True

    def reschedule_followup(self, followup_id: uuid.UUID, due_at: datetime, expires_at: datetime) -> None:
        """Move an unanswered follow-up's due and expiry times (the demo dates its history this way)."""
        self.connection.execute(
            update(t.followups)
            .where(
                t.followups.c.clinic_id == self.clinic_id,
                t.followups.c.id == followup_id,
                t.followups.c.answered_at.is_(None),
            )
            .values(due_at=due_at, expires_at=expires_at, created_at=min(due_at, datetime.now(due_at.tzinfo)))
        )

    def open_alerts(self) -> list[FollowUp]:
        """Answered follow-ups with red flags that no clinician has resolved, oldest answer first."""
        statement = (
            self.scoped(t.followups)  # type: ignore[attr-defined]
            .where(t.followups.c.answered_at.is_not(None), t.followups.c.alert_resolved_at.is_(None))
            .order_by(t.followups.c.answered_at, t.followups.c.id)
        )
        return [f for f in (_followup(row) for row in self.connection.execute(statement)) if f.red_flags]

    def resolve_alert(self, followup_id: uuid.UUID, by: uuid.UUID, at: datetime) -> bool:
        result = self.connection.execute(
            update(t.followups)
            .where(
                t.followups.c.clinic_id == self.clinic_id,
                t.followups.c.id == followup_id,
                t.followups.c.alert_resolved_at.is_(None),
            )
            .values(alert_resolved_at=at, alert_resolved_by=by)
        )
        return result.rowcount == 1

    def record_email(self, followup_id: uuid.UUID, sent_at: datetime | None, error: str | None) -> None:
        self.connection.execute(
            update(t.followups)
            .where(t.followups.c.clinic_id == self.clinic_id, t.followups.c.id == followup_id)
            .values(email_sent_at=sent_at, email_error=error[:500] if error else None)
        )

    # -- patient-reported events ------------------------------------------------------------------------
    def add_followup_events(self, events: list[FollowUpEvent]) -> None:
        self._insert(t.followup_events, [e.model_dump(exclude={"clinic_id"}) for e in events])  # type: ignore[attr-defined]
        self._refresh_visit_tallies(*(e.visit_id for e in events))  # type: ignore[attr-defined]

    def followup_event(self, event_id: uuid.UUID) -> FollowUpEvent | None:
        statement = self.scoped(t.followup_events).where(t.followup_events.c.id == event_id)  # type: ignore[attr-defined]
        row = self.connection.execute(statement).first()
        return FollowUpEvent.model_validate(_row(row)) if row else None

    def followup_events(
        self, visit_id: uuid.UUID | None = None, status: str | None = None
    ) -> list[FollowUpEvent]:
        statement = self.scoped(t.followup_events)  # type: ignore[attr-defined]
        if visit_id is not None:
            statement = statement.where(t.followup_events.c.visit_id == visit_id)
        if status is not None:
            statement = statement.where(t.followup_events.c.status == status)
        statement = statement.order_by(t.followup_events.c.created_at, t.followup_events.c.id)
        return [FollowUpEvent.model_validate(_row(row)) for row in self.connection.execute(statement)]

    def decide_followup_event(
        self, event_id: uuid.UUID, status: str, severity: str, by: uuid.UUID, at: datetime
    ) -> bool:
        """Confirm or dismiss a draft (False when it was decided already: nothing written)."""
        result = self.connection.execute(
            update(t.followup_events)
            .where(
                t.followup_events.c.clinic_id == self.clinic_id,
                t.followup_events.c.id == event_id,
                t.followup_events.c.status == "draft",
            )
            .values(status=status, severity=severity, decided_by=by, decided_at=at)
        )
        if result.rowcount != 1:
            return False
        self._refresh_visit_tallies(self._visit_of(t.followup_events, event_id))  # type: ignore[attr-defined]
        return True

    def append_adverse_event(self, visit_id: uuid.UUID, event: AdverseEvent) -> None:
        """Add a confirmed event to a visit's adverse events, after the ones already there."""
        last = self.connection.execute(
            select(func.max(t.adverse_events.c.position)).where(
                t.adverse_events.c.clinic_id == self.clinic_id, t.adverse_events.c.visit_id == visit_id
            )
        ).scalar()
        position = 0 if last is None else last + 1
        self._insert(t.adverse_events, {**event.model_dump(), "visit_id": visit_id, "position": position})  # type: ignore[attr-defined]
        self._refresh_visit_tallies(visit_id)  # type: ignore[attr-defined]
