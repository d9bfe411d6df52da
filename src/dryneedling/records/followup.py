"""The patient follow-up after needling: its records, its rules (``data/records/followup.yaml``) and the pure
functions that apply them.

Signing a visit with needling schedules follow-ups (24 h and 48 h after signing by default; the clinic may
change the hours). Each has a link the patient opens without an account. The link's token is derived from the
server's secret and the follow-up's id (HMAC-SHA256, 32 bytes, URL-safe): the database keeps only its SHA-256
hash, so a copy of the database opens no follow-up, yet the clinic can show the same link again on the visit
page or a reprinted card. A follow-up takes one answer; after that, or once expired, its link answers 410.

Red-flag answers point at warning signs of ``guidance/aftercare.yaml`` (shown to the patient at once, and an
alert for the clinician); event answers become adverse event drafts the clinician confirms or dismisses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dryneedling.errors import DataError, Problem
from dryneedling.vocabulary import Confidence

FOLLOWUP_FILE = Path("records") / "followup.yaml"
FollowUpStatus = Literal["pending", "answered", "expired"]
EventStatus = Literal["draft", "confirmed", "dismissed"]
Reporter = Literal["patient", "clinician"]
Bleeding = Literal["none", "stopped", "not_stopping"]
#: The answers of a follow-up, in the order the patient's page asks them.
ANSWER_FIELDS = (
    "soreness",
    "bruising",
    "bleeding",
    "fainting",
    "breathless_or_chest_pain",
    "numbness_or_weakness",
    "worse_pain",
    "note",
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# -- the rules (YAML) ------------------------------------------------------------------------------------
class Schedule(_Frozen):
    default_hours: list[int]
    min_hours: int = Field(ge=1)
    max_hours: int
    max_followups: int = Field(ge=1)
    default_link_days: int = Field(ge=1)
    max_link_days: int = Field(ge=1)
    sources: list[str]
    confidence: Confidence


class QuestionChoice(_Frozen):
    id: str
    patient_text: str


class Question(_Frozen):
    id: str
    kind: Literal["scale", "yes_no", "choice", "text"]
    patient_text: str
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    choices: list[QuestionChoice] = Field(default_factory=list)


class RedFlagRule(_Frozen):
    question: str
    answer: bool | str
    warning_signs: list[str] = Field(min_length=1)
    patient_text: str = Field(
        min_length=1, description="What to do now, to someone who has the sign (grade 8 or below)."
    )


class EventRule(_Frozen):
    question: str
    answer: bool | str
    category: str
    severity: Literal["mild", "significant", "major"]


class PageWording(_Frozen):
    title: str
    intro: str
    hours_text: str
    submit: str
    thanks: str
    soreness_text: str
    red_flag_heading: str
    red_flag_intro: str
    red_flag_after: str
    gone_heading: str
    gone_text: str
    call_text: str
    call_text_no_phone: str
    emergency_text: str
    not_found_heading: str
    not_found_text: str
    card_title: str
    card_text: str
    email_subject: str
    email_text: str


class FollowUpRules(_Frozen):
    """Everything of ``followup.yaml``; see the module docstring."""

    version: int
    schedule: Schedule
    questions: list[Question]
    red_flags: list[RedFlagRule]
    events: list[EventRule]
    event_sources: list[str]
    page: PageWording

    def question(self, question_id: str) -> Question:
        return next(q for q in self.questions if q.id == question_id)

    def patient_texts(self) -> list[str]:
        """Every text a patient reads (for the reading-grade test)."""
        texts = [q.patient_text for q in self.questions]
        texts += [c.patient_text for q in self.questions for c in q.choices]
        texts += [value for value in self.page.model_dump().values() if isinstance(value, str)]
        return texts


def load_followup_rules(
    data_dir: Path,
    sources: Mapping[str, object],
    warning_signs: Iterable[str],
    categories: Iterable[str],
) -> FollowUpRules:
    """Read ``records/followup.yaml``; DataError naming every problem (unknown source, warning sign,
    category, question or answer)."""
    path = data_dir / FOLLOWUP_FILE
    name = FOLLOWUP_FILE.as_posix()
    try:
        rules = FollowUpRules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise DataError([Problem(name, "-", "", f"cannot read: {exc.strerror or exc}")]) from None
    except yaml.YAMLError as exc:
        raise DataError([Problem(name, "-", "", f"not valid YAML: {exc}")]) from None
    except ValidationError as exc:
        raise DataError(
            Problem(name, "-", ".".join(str(p) for p in err["loc"]), err["msg"]) for err in exc.errors()
        ) from None
    problems: list[Problem] = []
    for sid in [*rules.schedule.sources, *rules.event_sources]:
        if sid not in sources:
            problems.append(Problem(name, "-", "sources", f"unknown source id {sid!r}"))
    if [q.id for q in rules.questions] != list(ANSWER_FIELDS):
        problems.append(Problem(name, "questions", "id", f"must be, in order: {', '.join(ANSWER_FIELDS)}"))
    signs, known = set(warning_signs), set(categories)
    questions = {q.id: q for q in rules.questions}
    for where, rule in [*(("red_flags", r) for r in rules.red_flags), *(("events", r) for r in rules.events)]:
        question = questions.get(rule.question)
        if question is None:
            problems.append(Problem(name, where, "question", f"unknown question {rule.question!r}"))
            continue
        valid = {True, False} if question.kind == "yes_no" else {c.id for c in question.choices}
        if rule.answer not in valid:
            problems.append(
                Problem(name, where, "answer", f"{rule.answer!r} is not an answer of {question.id}")
            )
    for rule in rules.red_flags:
        for sign in rule.warning_signs:
            if sign not in signs:
                problems.append(Problem(name, "red_flags", "warning_signs", f"unknown warning sign {sign!r}"))
    for rule in rules.events:
        if rule.category not in known:
            problems.append(
                Problem(name, "events", "category", f"unknown adverse event category {rule.category!r}")
            )
    schedule = rules.schedule
    for hours in schedule.default_hours:
        if not schedule.min_hours <= hours <= schedule.max_hours:
            problems.append(Problem(name, "schedule", "default_hours", f"{hours} is outside min..max hours"))
    if problems:
        raise DataError(problems)
    return rules


# -- records ---------------------------------------------------------------------------------------------
class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class FollowUpAnswers(BaseModel):
    """What the patient answered (every question but the note must be answered)."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True, frozen=True)

    soreness: int = Field(ge=0, le=10, description="Soreness now, 0 (none) to 10 (worst imaginable)")
    bruising: bool
    bleeding: Bleeding
    fainting: bool = Field(description="Felt faint or dizzy, or fainted")
    breathless_or_chest_pain: bool
    numbness_or_weakness: bool
    worse_pain: bool = Field(description="Pain worse than before the visit")
    note: str | None = Field(None, max_length=2000)


class FollowUp(_Record):
    clinic_id: uuid.UUID
    id: uuid.UUID
    visit_id: uuid.UUID
    patient_id: uuid.UUID
    hours_after: int = Field(description="Hours after signing that it is due (24, 48...)")
    due_at: datetime
    expires_at: datetime
    created_at: datetime
    answered_at: datetime | None = None
    answers: FollowUpAnswers | None = None
    red_flags: list[str] = Field(default_factory=list, description="Warning sign ids the answers raised")
    alert_resolved_at: datetime | None = None
    alert_resolved_by: uuid.UUID | None = None
    email_sent_at: datetime | None = None
    email_error: str | None = None

    def status(self, now: datetime) -> FollowUpStatus:
        return followup_status(self.answered_at, self.expires_at, now)

    @property
    def alert_open(self) -> bool:
        return bool(self.red_flags) and self.alert_resolved_at is None


class FollowUpEvent(_Record):
    """An adverse event a patient reported at a follow-up: a draft until a clinician confirms or dismisses it."""

    clinic_id: uuid.UUID
    id: uuid.UUID
    followup_id: uuid.UUID
    visit_id: uuid.UUID
    category: str
    severity: Literal["mild", "significant", "major"]
    question: str = Field(description="The follow-up question whose answer raised it")
    note: str | None = None
    reported_by: Reporter = "patient"
    status: EventStatus = "draft"
    created_at: datetime
    decided_by: uuid.UUID | None = None
    decided_at: datetime | None = None


class FollowUpSettings(_Record):
    """A clinic's follow-up settings: when follow-ups are due, how long links live, and its mail server."""

    clinic_id: uuid.UUID
    hours: list[int]
    link_days: int
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    updated_at: datetime | None = None

    @property
    def email_configured(self) -> bool:
        return bool(self.smtp_host and self.smtp_from)


# -- pure functions --------------------------------------------------------------------------------------
def followup_status(answered_at: datetime | None, expires_at: datetime, now: datetime) -> FollowUpStatus:
    if answered_at is not None:
        return "answered"
    return "expired" if now >= expires_at else "pending"


def schedule(
    signed_at: datetime, hours: Iterable[int], link_days: int
) -> list[tuple[int, datetime, datetime]]:
    """(hours after, due at, expires at) of each follow-up of a visit signed at ``signed_at``, earliest first."""
    return [
        (h, signed_at + timedelta(hours=h), signed_at + timedelta(hours=h) + timedelta(days=link_days))
        for h in sorted(set(hours))
    ]


def _matches(rule_answer: bool | str, given: Any) -> bool:
    return type(rule_answer) is type(given) and rule_answer == given


def red_flags(rules: FollowUpRules, answers: FollowUpAnswers) -> list[str]:
    """The warning sign ids the answers raise, once each, in the order of the rules."""
    found: list[str] = []
    for rule in rules.red_flags:
        if _matches(rule.answer, getattr(answers, rule.question)):
            found.extend(sign for sign in rule.warning_signs if sign not in found)
    return found


def event_drafts(rules: FollowUpRules, answers: FollowUpAnswers) -> list[EventRule]:
    """The adverse event drafts the answers raise (one per matching rule)."""
    return [rule for rule in rules.events if _matches(rule.answer, getattr(answers, rule.question))]


def link_key(secret: str) -> bytes:
    """The key of follow-up links, derived from the server secret (a separate key per purpose)."""
    return hmac.new(secret.encode(), b"dryneedling follow-up links v1", hashlib.sha256).digest()


def link_token(key: bytes, followup_id: uuid.UUID) -> str:
    """The token of one follow-up's link: 32 bytes, URL-safe, unguessable without the server secret."""
    digest = hmac.new(key, followup_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    """What the database keeps of a token (hex SHA-256)."""
    return hashlib.sha256(token.encode()).hexdigest()


def first_name(name: str) -> str:
    """The first word of a name: all a follow-up page or e-mail says of who the patient is."""
    words = name.split()
    return words[0] if words else ""
