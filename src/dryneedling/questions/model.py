"""Readers' questions under a topic page: what a question holds and the states it moves through.

A question is submitted under one /learn topic, waits as ``pending`` in the clinic's moderation queue, and is
shown publicly only once a clinician has ``approved`` it with an answer. ``rejected`` questions (spam, or out
of scope) are never shown; the decision also trains the clinic's spam classifier
(:class:`dryneedling.questions.spam.NaiveBayes`). Pure data: no storage, no web.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Status = Literal["pending", "approved", "rejected"]

#: Longest question accepted (characters); a question is a few sentences, not an essay.
MAX_QUESTION_CHARS = 1500
MIN_QUESTION_CHARS = 10


class QuestionForm(BaseModel):
    """What the public form posts: the question, its topic, and the two anti-spam fields.

    ``website`` is the honeypot: hidden from people (CSS and ``aria-hidden``), so only a robot fills it.
    ``form_token`` is issued when the form is shown (:class:`dryneedling.questions.spam.FormClock`) and says,
    signed, when that was.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    topic: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    text: str = Field(min_length=MIN_QUESTION_CHARS, max_length=MAX_QUESTION_CHARS)
    name: str = Field("", max_length=100)
    email: str = Field("", max_length=320, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
    website: str = ""
    form_token: str = ""


class Question(BaseModel):
    """A question as the clinic keeps it: pending, then approved with an answer or rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    clinic_id: str
    topic: str
    text: str = Field(min_length=MIN_QUESTION_CHARS, max_length=MAX_QUESTION_CHARS)
    submitted_at: dt.datetime
    name: str | None = None  # shown with an approved question when given
    email: str | None = None  # private: for the clinic only, never shown on a public page
    status: Status = "pending"
    spam_score: float = Field(0.0, ge=0.0, le=1.0)
    spam_reasons: tuple[str, ...] = ()
    answer: str | None = None
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    answered_by_name: str | None = None  # the moderator's name, read with the question (not stored twice)

    @model_validator(mode="after")
    def _approved_needs_an_answer(self) -> Question:
        if self.status == "approved" and not (self.answer and self.answer.strip()):
            raise ValueError("an approved question needs the clinician's answer")
        if self.status != "pending" and not self.decided_by:
            raise ValueError("a decided question records who decided")
        return self

    @property
    def public(self) -> bool:
        """Shown under the topic page: approved, with an answer."""
        return self.status == "approved"

    def approve(self, answer: str, by: str, at: dt.datetime) -> Question:
        return self.model_copy(
            update={"status": "approved", "answer": answer, "decided_by": by, "decided_at": at}
        )

    def reject(self, by: str, at: dt.datetime) -> Question:
        return self.model_copy(update={"status": "rejected", "decided_by": by, "decided_at": at})
