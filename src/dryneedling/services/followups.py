"""Use cases of the follow-up by link (issue 11): schedule at signing, the patient's page and answer, the
clinician's alerts and adverse event drafts, the clinic's settings and the links by e-mail.

Who may do what: every role of the clinic may read a visit's follow-ups; owners and clinicians resolve alerts
and confirm or dismiss patient-reported events; only an owner changes the settings. The patient needs no
account: the link's token is the only credential, it works once and expires (see
:mod:`dryneedling.records.followup`), and a used or expired link answers 410 naming whom to call.
"""

from __future__ import annotations

import smtplib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dryneedling.catalog import Catalog
from dryneedling.errors import InputError, validation_message
from dryneedling.knowledge.guidance import WarningSignRule
from dryneedling.records.entities import CLINICAL_ROLES, AdverseEvent, Clinic, User, Visit
from dryneedling.records.errors import Conflict, Forbidden, Gone, NotFound
from dryneedling.records.followup import (
    FollowUp,
    FollowUpAnswers,
    FollowUpEvent,
    FollowUpRules,
    FollowUpSettings,
    event_drafts,
    first_name,
    link_key,
    link_token,
    load_followup_rules,
    red_flags,
    schedule,
    token_hash,
)
from dryneedling.records.repository import Store
from dryneedling.server_secret import secret_key

FOLLOWUP_PATH = "/followup/"
SMTP_TIMEOUT_S = 10


def _now() -> datetime:
    return datetime.now(UTC)


def followup_rules(catalog: Catalog) -> FollowUpRules:
    """The follow-up rules of ``catalog`` (records/followup.yaml), validated on first use and kept with it."""
    if "followup" not in catalog.derived:
        catalog.derived["followup"] = load_followup_rules(
            catalog.data_dir,
            catalog.kb.sources,
            (sign.id for sign in catalog.guidance.aftercare.warning_signs),
            catalog.practice.adverse_event_ids,
        )
    return catalog.derived["followup"]


def default_link_key() -> bytes:
    """The key of follow-up links, from the server secret (the same for the web app and the CLI)."""
    return link_key(secret_key())


def default_settings(rules: FollowUpRules, clinic_id: uuid.UUID) -> FollowUpSettings:
    return FollowUpSettings(
        clinic_id=clinic_id,
        hours=list(rules.schedule.default_hours),
        link_days=rules.schedule.default_link_days,
    )


def followup_path(token: str) -> str:
    return FOLLOWUP_PATH + token


# -- scheduling (called by services.records.sign_visit, inside its transaction) ----------------------------
def schedule_followups(
    records: Any,
    catalog: Catalog,
    visit: Visit,
    signed_at: datetime,
    settings: FollowUpSettings | None,
    key: bytes | None = None,
) -> list[FollowUp]:
    """Follow-ups of a visit just signed: one per hour of the clinic's ``settings`` (as the signing
    transaction read them; None: the defaults of the knowledge base); none without needling."""
    if not visit.needling:
        return []
    rules = followup_rules(catalog)
    settings = settings or default_settings(rules, visit.clinic_id)
    key = key or default_link_key()
    made = []
    for hours, due_at, expires_at in schedule(signed_at, settings.hours, settings.link_days):
        followup = FollowUp(
            clinic_id=visit.clinic_id,
            id=uuid.uuid4(),
            visit_id=visit.id,
            patient_id=visit.patient_id,
            hours_after=hours,
            due_at=due_at,
            expires_at=expires_at,
            created_at=signed_at,
        )
        made.append((followup, token_hash(link_token(key, followup.id))))
    records.add_followups(made)
    return [followup for followup, _ in made]


# -- the clinician's side --------------------------------------------------------------------------------
@dataclass
class FollowUpLine:
    """One follow-up as the clinic sees it, with its link (path only; the shell adds the public base)."""

    followup: FollowUp
    status: str
    path: str


@dataclass
class VisitFollowUps:
    visit: Visit
    lines: list[FollowUpLine]
    events: list[FollowUpEvent]
    settings: FollowUpSettings
    patient_email: bool = False
    warning_labels: dict[str, str] = field(default_factory=dict)


def visit_followups(
    store: Store, catalog: Catalog, user: User, visit_id: uuid.UUID, key: bytes | None = None
) -> VisitFollowUps:
    """A visit's follow-ups (earliest first) with status and link, and its patient-reported events."""
    key = key or default_link_key()
    now = _now()
    rules = followup_rules(catalog)
    with store.clinic(user.clinic_id) as records:
        visit = records.visit(visit_id)
        if visit is None:
            raise NotFound("visit")
        records.audit(user, "read", "followups", visit_id)
        followups = records.followups_of(visit_id)  # type: ignore[attr-defined]
        events = records.followup_events(visit_id=visit_id)  # type: ignore[attr-defined]
        settings = records.followup_settings() or default_settings(rules, user.clinic_id)  # type: ignore[attr-defined]
        patient = records.patient(visit.patient_id)
    return VisitFollowUps(
        visit=visit,
        lines=[FollowUpLine(f, f.status(now), followup_path(link_token(key, f.id))) for f in followups],
        events=events,
        settings=settings,
        patient_email=bool(patient and patient.email),
        warning_labels=warning_labels(catalog),
    )


def warning_labels(catalog: Catalog) -> dict[str, str]:
    """Warning sign id -> the clinician's wording of the sign and its action."""
    return {s.id: f"{s.sign} {s.action}" for s in catalog.guidance.aftercare.warning_signs}


@dataclass
class Alert:
    followup: FollowUp
    patient_name: str
    visit_date: str
    events: list[FollowUpEvent]


def open_alerts(store: Store, user: User) -> list[Alert]:
    """The clinic's unresolved red-flag answers, oldest first, each with its patient and event drafts."""
    with store.clinic(user.clinic_id) as records:
        records.audit(user, "read", "followup_alerts", None)
        alerts = []
        for followup in records.open_alerts():  # type: ignore[attr-defined]
            patient = records.patient(followup.patient_id)
            visit = records.visit(followup.visit_id)
            events = [
                e
                for e in records.followup_events(visit_id=followup.visit_id)  # type: ignore[attr-defined]
                if e.followup_id == followup.id
            ]
            alerts.append(
                Alert(
                    followup=followup,
                    patient_name=patient.name if patient else "",
                    visit_date=visit.visit_date.isoformat() if visit else "",
                    events=events,
                )
            )
        return alerts


def draft_events(store: Store, user: User) -> list[FollowUpEvent]:
    """Patient-reported events still waiting for a clinician's decision."""
    with store.clinic(user.clinic_id) as records:
        records.audit(user, "read", "followup_events", None)
        return records.followup_events(status="draft")  # type: ignore[attr-defined]


def resolve_alert(store: Store, user: User, followup_id: uuid.UUID) -> FollowUp:
    """Mark a red-flag alert as dealt with (who and when are kept)."""
    if user.role not in CLINICAL_ROLES:
        raise Forbidden(f"the {user.role} role may not resolve follow-up alerts")
    with store.clinic(user.clinic_id) as records:
        followup = records.followup(followup_id)  # type: ignore[attr-defined]
        if followup is None:
            raise NotFound("follow-up")
        if not followup.red_flags:
            raise Conflict("this follow-up raised no alert", field="followup")
        if not records.resolve_alert(followup_id, user.id, _now()):  # type: ignore[attr-defined]
            raise Conflict("the alert is resolved already", field="followup")
        records.audit(user.id, "resolve_alert", "followup", followup_id)
        return records.followup(followup_id)  # type: ignore[attr-defined]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    decision: Literal["confirm", "dismiss"]
    severity: Literal["mild", "significant", "major"] | None = Field(
        None, description="The severity as the clinician judges it (default: the draft's)"
    )


def decide_event(store: Store, user: User, event_id: uuid.UUID, data: DecisionIn) -> FollowUpEvent:
    """Confirm (it joins the visit's adverse events as reported by the patient) or dismiss a draft."""
    if user.role not in CLINICAL_ROLES:
        raise Forbidden(f"the {user.role} role may not confirm or dismiss adverse events")
    with store.clinic(user.clinic_id) as records:
        event = records.followup_event(event_id)  # type: ignore[attr-defined]
        if event is None:
            raise NotFound("adverse event draft")
        severity = data.severity or event.severity
        status = "confirmed" if data.decision == "confirm" else "dismissed"
        if not records.decide_followup_event(event_id, status, severity, user.id, _now()):  # type: ignore[attr-defined]
            raise Conflict(f"the event was {event.status} already", field="event")
        if status == "confirmed":
            records.append_adverse_event(  # type: ignore[attr-defined]
                event.visit_id,
                AdverseEvent(
                    category=event.category,
                    severity=severity,
                    note=event.note,
                    reported_by=event.reported_by,
                    followup_id=event.followup_id,
                ),
            )
        records.audit(user.id, f"{data.decision}_event", "followup_event", event_id)
        return records.followup_event(event_id)  # type: ignore[attr-defined]


# -- settings --------------------------------------------------------------------------------------------
class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    hours: list[int] = Field(min_length=1, description="Hours after signing that follow-ups are due")
    link_days: int = Field(ge=1, description="Days a link stays open after it is due")
    phone: str | None = Field(None, max_length=40, description="The clinic's phone, shown to patients")
    smtp_host: str | None = Field(
        None,
        max_length=253,
        # a host name (labels of letters, digits and hyphens, dot-separated) or an IPv4 address
        pattern=r"^([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$",
        description="The mail server's host name, e.g. mail.example.org",
    )
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_from: str | None = Field(None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")

    @field_validator("phone", "smtp_host", "smtp_from")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


@dataclass
class SettingsView:
    settings: FollowUpSettings
    clinic: Clinic


def get_settings(store: Store, catalog: Catalog, user: User) -> SettingsView:
    rules = followup_rules(catalog)
    with store.clinic(user.clinic_id, write=False) as records:
        return SettingsView(
            settings=records.followup_settings() or default_settings(rules, user.clinic_id),  # type: ignore[attr-defined]
            clinic=records.own_clinic(),  # type: ignore[attr-defined]
        )


def update_settings(store: Store, catalog: Catalog, user: User, data: SettingsIn) -> SettingsView:
    """Change the clinic's follow-up hours, link lifetime, phone and mail server (owners only)."""
    if user.role != "owner":
        raise Forbidden(f"the {user.role} role may not change the clinic's follow-up settings")
    limits = followup_rules(catalog).schedule
    if len(set(data.hours)) > limits.max_followups:
        raise InputError("hours", f"at most {limits.max_followups} follow-ups per visit", value=data.hours)
    for index, hours in enumerate(data.hours):
        if not limits.min_hours <= hours <= limits.max_hours:
            raise InputError(
                f"hours.{index}",
                f"must be between {limits.min_hours} and {limits.max_hours} hours",
                value=hours,
            )
    if data.link_days > limits.max_link_days:
        raise InputError("link_days", f"must be at most {limits.max_link_days} days", value=data.link_days)
    if bool(data.smtp_host) != bool(data.smtp_from):
        missing = "smtp_from" if data.smtp_host else "smtp_host"
        raise InputError(missing, "a mail server needs both smtp_host and smtp_from")
    settings = FollowUpSettings(
        clinic_id=user.clinic_id,
        hours=sorted(set(data.hours)),
        link_days=data.link_days,
        smtp_host=data.smtp_host,
        smtp_port=data.smtp_port,
        smtp_from=data.smtp_from,
        updated_at=_now(),
    )
    with store.clinic(user.clinic_id) as records:
        records.save_followup_settings(settings)  # type: ignore[attr-defined]
        records.set_clinic_phone(data.phone)  # type: ignore[attr-defined]
        records.audit(user.id, "followup_settings", "clinic", user.clinic_id)
        return SettingsView(settings=settings, clinic=records.own_clinic())  # type: ignore[attr-defined]


# -- the patient's side ----------------------------------------------------------------------------------
@dataclass
class PatientFollowUp:
    """What the patient's page may show: a first name at most, and the clinic to call."""

    followup: FollowUp
    first_name: str
    clinic_name: str
    clinic_phone: str | None


def _find(store: Store, token: str) -> FollowUp:
    if not token or len(token) > 100:
        raise NotFound("follow-up")
    followup = store.followup_by_token_hash(token_hash(token))  # type: ignore[attr-defined]
    if followup is None:
        raise NotFound("follow-up")
    return followup


def call_text(rules: FollowUpRules, clinic_name: str, phone: str | None) -> str:
    page = rules.page
    return (page.call_text if phone else page.call_text_no_phone).format(clinic=clinic_name, phone=phone)


def _gone(rules: FollowUpRules, found: PatientFollowUp) -> Gone:
    return Gone(
        f"{rules.page.gone_text} {call_text(rules, found.clinic_name, found.clinic_phone)}",
        field="token",
    )


def open_followup(store: Store, catalog: Catalog, token: str) -> PatientFollowUp:
    """The follow-up a patient's link names; NotFound for an unknown token, Gone (410) once used or expired."""
    followup = _find(store, token)
    with store.clinic(followup.clinic_id) as records:
        clinic = records.own_clinic()  # type: ignore[attr-defined]
        patient = records.patient(followup.patient_id)
        # Opening the link shows the patient's first name: on the record, with the link as the actor.
        records.audit(followup.id, "open", "followup", followup.id, role="patient")
    found = PatientFollowUp(
        followup=followup,
        first_name=first_name(patient.name) if patient else "",
        clinic_name=clinic.name,
        clinic_phone=clinic.phone,
    )
    if followup.status(_now()) != "pending":
        raise _gone(followup_rules(catalog), found)
    return found


@dataclass
class WarningShown:
    id: str
    urgency: str
    patient_text: str


@dataclass
class AnswerResult:
    followup: FollowUp
    warnings: list[WarningShown]
    events: list[FollowUpEvent]


def parse_answers(raw: Any) -> FollowUpAnswers:
    """The answers from a JSON body or a form; InputError naming the first bad field."""
    try:
        return FollowUpAnswers.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or "body"
        message = validation_message(first)
        value = first.get("input") if first["type"] != "missing" else None
        raise InputError(
            name, message, value=value if isinstance(value, str | int | bool) else None
        ) from None


#: Most urgent first on the patient's page.
URGENCY_ORDER = {"emergency": 0, "urgent": 1, "call": 2}


def patient_warnings(catalog: Catalog, sign_ids: list[str]) -> list[WarningShown]:
    """What the patient sees at once for the red flags they raised: each flag's own present-tense wording
    (followup.yaml), with the highest urgency of its warning signs, most urgent first."""
    signs: dict[str, WarningSignRule] = {s.id: s for s in catalog.guidance.aftercare.warning_signs}
    raised = set(sign_ids)
    shown = []
    for rule in followup_rules(catalog).red_flags:
        hit = [signs[i] for i in rule.warning_signs if i in raised and i in signs]
        if hit:
            urgency = min(
                (sign.urgency for sign in hit), key=lambda u: URGENCY_ORDER.get(u, len(URGENCY_ORDER))
            )
            shown.append(WarningShown(rule.question, urgency, rule.patient_text))
    return sorted(shown, key=lambda w: URGENCY_ORDER.get(w.urgency, len(URGENCY_ORDER)))


def answer_followup(store: Store, catalog: Catalog, token: str, raw: Any) -> AnswerResult:
    """Store a patient's answers once: red flags become an alert, events become drafts for the clinician."""
    rules = followup_rules(catalog)
    found = open_followup(store, catalog, token)
    answers = parse_answers(raw)
    followup = found.followup
    with store.clinic(followup.clinic_id) as records:
        stored = store_answers(records, rules, followup, answers, _now())
        if stored is None:
            raise _gone(rules, found)  # answered meanwhile, or expired this instant
        flags = stored[0].red_flags
        # The patient has no account: the follow-up itself is the actor. No answer text goes to the log.
        records.audit(
            followup.id,
            "answer",
            "followup",
            followup.id,
            after={"red_flags": list(flags), "event_drafts": [e.category for e in stored[1]]},
            role="patient",
        )
    return AnswerResult(followup=stored[0], warnings=patient_warnings(catalog, flags), events=stored[1])


def store_answers(
    records: Any, rules: FollowUpRules, followup: FollowUp, answers: FollowUpAnswers, at: datetime
) -> tuple[FollowUp, list[FollowUpEvent]] | None:
    """Inside a clinic transaction: keep the answers (with their red flags) and add the event drafts;
    None when the follow-up was answered already or had expired at ``at``."""
    flags = red_flags(rules, answers)
    if not records.answer_followup(followup.id, answers, flags, at):
        return None
    events = [
        FollowUpEvent(
            clinic_id=followup.clinic_id,
            id=uuid.uuid4(),
            followup_id=followup.id,
            visit_id=followup.visit_id,
            category=rule.category,
            severity=rule.severity,
            question=rule.question,
            note=answers.note,
            created_at=at,
        )
        for rule in event_drafts(rules, answers)
    ]
    records.add_followup_events(events)
    return records.followup(followup.id), events


# -- links by e-mail -------------------------------------------------------------------------------------
def send_links(
    store: Store, catalog: Catalog, user: User, visit_id: uuid.UUID, base_url: str, key: bytes | None = None
) -> int:
    """E-mail each pending, not yet mailed follow-up link of a visit to its patient, when the clinic has a
    mail server and the patient an address. A failure is recorded on the follow-up, never raised: the
    signed note stays signed. Returns the number of messages sent."""
    key = key or default_link_key()
    rules = followup_rules(catalog)
    with store.clinic(user.clinic_id, write=False) as records:
        settings = records.followup_settings()  # type: ignore[attr-defined]
        if settings is None or not settings.email_configured:
            return 0  # most clinics: nothing more to read on every signature
        visit = records.visit(visit_id)
        if visit is None:
            return 0
        patient = records.patient(visit.patient_id)
        clinic = records.own_clinic()  # type: ignore[attr-defined]
        followups = records.followups_of(visit_id)  # type: ignore[attr-defined]
    if patient is None or not patient.email:
        return 0
    now, sent = _now(), 0
    for followup in followups:
        if followup.email_sent_at is not None or followup.status(now) != "pending":
            continue
        url = base_url.rstrip("/") + followup_path(link_token(key, followup.id))
        message = EmailMessage()
        message["Subject"] = rules.page.email_subject
        message["From"] = settings.smtp_from
        message["To"] = patient.email
        message.set_content(
            rules.page.email_text.format(
                first_name=first_name(patient.name),
                clinic=clinic.name,
                url=url,
                expires=followup.expires_at.strftime("%d %B %Y"),
            )
        )
        error = None
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S) as smtp:
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException, ValueError) as exc:  # ValueError: a host IDNA cannot encode
            error = f"{type(exc).__name__}: {exc}"
        with store.clinic(user.clinic_id) as records:
            records.record_email(followup.id, None if error else _now(), error)  # type: ignore[attr-defined]
            # The patient's address went to the clinic's mail server: on the record, without the address.
            records.audit(user, "email_link", "followup", followup.id, after={"sent": error is None})
        sent += error is None
    return sent
