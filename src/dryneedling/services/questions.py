"""Use cases of readers' questions: ask under a topic page, moderate in the clinic's web app, show answers.

Which clinic the public pages serve: the oldest clinic that turned questions on (with one clinic per install,
simply that clinic). A question passes the local spam filter (:mod:`dryneedling.questions.spam`) before it is
stored: honeypot, time to fill and the per-address rate limit refuse it outright; the pattern score and the
clinic's classifier mark it as probable spam for the moderator. The classifier is rebuilt, per clinic, from
that clinic's own decisions kept in the database (the decided questions' texts), so it learns from every
approve and reject and needs no other state. Owners and clinicians moderate; assistants and auditors may not;
only owners turn the form on or off. A reader's e-mail is for the clinic only and is never shown publicly.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from dryneedling.catalog import Catalog
from dryneedling.errors import InputError, validation_message
from dryneedling.questions.model import Question, QuestionForm
from dryneedling.questions.repository import QuestionStore
from dryneedling.questions.spam import FormClock, RateLimiter, SpamFilter, SpamSettings, Verdict
from dryneedling.records.entities import User
from dryneedling.records.errors import Conflict, Forbidden, NotFound, RecordsError
from dryneedling.services import learn as learn_service

MODERATORS = ("owner", "clinician")
SETTING_ROLES = ("owner",)
CLASSIFIER_MEMORY = 2000  # newest decisions the classifier learns from
MAX_ANSWER_CHARS = 4000


class QuestionRefused(RecordsError):
    """The spam filter refused the question outright (honeypot, too fast, rate limit, stale form): HTTP 429/400."""

    status = 400


@dataclass
class QuestionDesk:
    """What the app owns for the public form (on ``app.state``): the form clock and the rate limiter."""

    clock: FormClock
    settings: SpamSettings = field(default_factory=SpamSettings)
    limiter: RateLimiter | None = None

    def __post_init__(self) -> None:
        if self.limiter is None:
            self.limiter = RateLimiter(self.settings.bucket_capacity, self.settings.refill_per_second)


def _now() -> datetime:
    return datetime.now(UTC)


def _require(user: User, roles: tuple[str, ...], action: str) -> None:
    if user.role not in roles:
        raise Forbidden(f"the {user.role} role may not {action}")


def public_clinic(store: QuestionStore) -> uuid.UUID | None:
    return store.public_questions_clinic()


def answered(store: QuestionStore, clinic_id: uuid.UUID, topic: str) -> list[Question]:
    """Approved questions with their answers under ``topic``, oldest first (the only ones ever shown)."""
    with store.questions(clinic_id, write=False) as records:
        return [q for q in records.questions("approved", topic=topic) if q.public]


def _spam_filter(desk: QuestionDesk, decisions: list[tuple[str, bool]]) -> SpamFilter:
    spam = SpamFilter(desk.clock, desk.settings, limiter=desk.limiter)
    spam.learn_all(decisions)
    return spam


def ask(
    store: QuestionStore,
    catalog: Catalog,
    desk: QuestionDesk,
    clinic_id: uuid.UUID,
    form: dict[str, Any],
    address: str,
    now: float,
) -> Question:
    """Judge and keep one posted question (pending); raises QuestionRefused or InputError."""
    try:
        data = QuestionForm.model_validate(form)
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "text"
        raise InputError(name, validation_message(first)) from None
    if data.topic not in {page.slug for page in learn_service.pages(catalog)}:
        raise NotFound("topic")
    with store.questions(clinic_id) as records:
        if not records.questions_enabled():
            raise NotFound("question form")
        verdict: Verdict = _spam_filter(desk, records.decisions(CLASSIFIER_MEMORY)).check(
            data.text, data.website, data.form_token, address, now
        )
        if verdict.blocked:
            refused = QuestionRefused(verdict.reasons[0] if not verdict.spam else "the question was refused")
            if "too many" in verdict.reasons[0]:
                refused.status = 429
            raise refused
        question = Question(
            id=str(uuid.uuid4()),
            clinic_id=str(clinic_id),
            topic=data.topic,
            text=data.text,
            name=data.name or None,
            email=data.email or None,
            submitted_at=_now(),
            spam_score=min(max(verdict.score, 0.0), 1.0),
            spam_reasons=verdict.reasons if verdict.spam else (),
        )
        records.add_question(question)
    return question


def enabled(store: QuestionStore, clinic_id: uuid.UUID) -> bool:
    with store.questions(clinic_id, write=False) as records:
        return records.questions_enabled()


def set_enabled(store: QuestionStore, user: User, value: bool) -> None:
    _require(user, SETTING_ROLES, "turn readers' questions on or off")
    with store.questions(user.clinic_id) as records:
        records.set_questions_enabled(value, _now())
        records.audit(user, "questions_on" if value else "questions_off", "clinic", user.clinic_id)


def queue(store: QuestionStore, user: User) -> dict[str, Any]:
    """The moderation queue: pending questions (newest first) and the latest decisions."""
    _require(user, MODERATORS, "moderate readers' questions")
    with store.questions(user.clinic_id, write=False) as records:
        return {
            "enabled": records.questions_enabled(),
            "pending": records.questions("pending"),
            "approved": records.questions("approved", limit=20),
            "rejected": records.questions("rejected", limit=20),
        }


def decide(
    store: QuestionStore, user: User, question_id: uuid.UUID, approve: bool, answer: str = ""
) -> Question:
    """Approve with the moderator's answer, or reject; the decision trains the clinic's classifier."""
    _require(user, MODERATORS, "moderate readers' questions")
    answer = answer.strip()
    if approve and not answer:
        raise InputError("answer", "an approved question needs your answer")
    if len(answer) > MAX_ANSWER_CHARS:
        raise InputError("answer", f"at most {MAX_ANSWER_CHARS} characters")
    with store.questions(user.clinic_id) as records:
        question = records.question(question_id)
        if question is None:
            raise NotFound("question")
        if question.status != "pending":
            raise Conflict("this question was decided already")
        decided = (
            question.approve(answer, str(user.id), _now())
            if approve
            else question.reject(str(user.id), _now())
        )
        if not records.decide(decided):
            raise Conflict("this question was decided already")
        records.audit(user, "approve" if approve else "reject", "question", question_id)
    return decided.model_copy(update={"answered_by_name": user.name})
