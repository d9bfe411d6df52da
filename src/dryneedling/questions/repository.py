"""What the readers' questions need from storage, as Protocols (no database library here).

:class:`QuestionRecords` is confined to one clinic, like the practice records: every read starts from a
statement already filtered by the clinic.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from dryneedling.questions.model import Question


class QuestionRecords(Protocol):
    clinic_id: uuid.UUID

    def questions_enabled(self) -> bool: ...
    def set_questions_enabled(self, enabled: bool, at: datetime) -> None: ...
    def add_question(self, question: Question) -> None: ...
    def question(self, question_id: uuid.UUID) -> Question | None: ...
    def questions(self, status: str, topic: str | None = None, limit: int = 200) -> list[Question]:
        """Questions in ``status`` (newest first for the queue, oldest first when ``topic`` is given)."""
        ...

    def decide(self, question: Question) -> bool:
        """Write a pending question's decision; False when it was decided already (nothing written)."""
        ...

    def audit(self, user_id: uuid.UUID, action: str, entity: str, entity_id: uuid.UUID) -> None: ...
    def decisions(self, limit: int) -> list[tuple[str, bool]]:
        """The clinic's newest decisions as (text, approved): what its spam classifier learns from."""
        ...


class QuestionStore(Protocol):
    def questions(
        self, clinic_id: uuid.UUID, write: bool = True
    ) -> AbstractContextManager[QuestionRecords]: ...
    def public_questions_clinic(self) -> uuid.UUID | None:
        """The oldest clinic that turned readers' questions on (the one the public pages serve), or None."""
        ...
