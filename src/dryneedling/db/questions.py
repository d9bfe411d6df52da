"""The SQL side of readers' questions: the per-clinic setting and the moderation queue (one clinic each)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from dryneedling.db import tables as t
from dryneedling.db.store import ClinicScoped, SqlClinicRecords, _row
from dryneedling.questions.model import Question

_Q = t.reader_questions


class SqlQuestions(ClinicScoped):
    audit = SqlClinicRecords.audit  # the one audit log, written in the same transaction as the decision

    def questions_enabled(self) -> bool:
        row = self.connection.execute(
            self.scoped(t.clinic_settings, t.clinic_settings.c.questions_enabled)
        ).first()
        return bool(row and row.questions_enabled)

    def set_questions_enabled(self, enabled: bool, at: datetime) -> None:
        changed = self.connection.execute(
            update(t.clinic_settings)
            .where(t.clinic_settings.c.clinic_id == self.clinic_id)
            .values(questions_enabled=enabled, updated_at=at)
        )
        if changed.rowcount == 0:
            self._insert(t.clinic_settings, {"questions_enabled": enabled, "updated_at": at})

    def add_question(self, question: Question) -> None:
        row = question.model_dump(exclude={"clinic_id", "answered_by_name"})
        row["id"] = uuid.UUID(question.id)
        row["decided_by"] = uuid.UUID(question.decided_by) if question.decided_by else None
        row["spam_reasons"] = list(question.spam_reasons)
        self._insert(_Q, row)

    def _select(self) -> Any:
        return self.scoped(_Q, _Q, t.users.c.name.label("answered_by_name")).outerjoin(
            t.users, (t.users.c.clinic_id == _Q.c.clinic_id) & (t.users.c.id == _Q.c.decided_by)
        )

    @staticmethod
    def _question(row: Any) -> Question:
        data = _row(row)
        data["id"] = str(data["id"])
        data["clinic_id"] = str(data["clinic_id"])
        data["decided_by"] = str(data["decided_by"]) if data["decided_by"] else None
        data["spam_reasons"] = tuple(data["spam_reasons"] or ())
        return Question.model_validate(data)

    def question(self, question_id: uuid.UUID) -> Question | None:
        row = self.connection.execute(self._select().where(_Q.c.id == question_id)).first()
        return self._question(row) if row else None

    def questions(self, status: str, topic: str | None = None, limit: int = 200) -> list[Question]:
        statement = self._select().where(_Q.c.status == status)
        if topic is not None:
            statement = statement.where(_Q.c.topic == topic).order_by(_Q.c.decided_at, _Q.c.id)
        else:
            statement = statement.order_by(_Q.c.submitted_at.desc(), _Q.c.id)
        return [self._question(row) for row in self.connection.execute(statement.limit(limit))]

    def decide(self, question: Question) -> bool:
        result = self.connection.execute(
            self._update(_Q, uuid.UUID(question.id), _Q.c.status == "pending").values(
                status=question.status,
                answer=question.answer,
                decided_by=uuid.UUID(question.decided_by) if question.decided_by else None,
                decided_at=question.decided_at,
            )
        )
        return result.rowcount == 1

    def decisions(self, limit: int) -> list[tuple[str, bool]]:
        statement = (
            self.scoped(_Q, _Q.c.text, _Q.c.status)
            .where(_Q.c.status != "pending")
            .order_by(_Q.c.decided_at.desc(), _Q.c.id)
            .limit(limit)
        )
        return [(row.text, row.status == "approved") for row in self.connection.execute(statement)]


def public_questions_clinic(connection: Connection) -> uuid.UUID | None:
    statement = (
        select(t.clinics.c.id)
        .join(t.clinic_settings, t.clinic_settings.c.clinic_id == t.clinics.c.id)
        .where(t.clinic_settings.c.questions_enabled.is_(True))
        .order_by(t.clinics.c.created_at, t.clinics.c.id)
        .limit(1)
    )
    return connection.execute(statement).scalar()


__all__ = ["SqlQuestions", "public_questions_clinic"]
