"""Use cases of the practice records, shared by the web app and the CLI; each runs in one transaction.

Who may do what (roles), what a record must hold and what safety demands at the point of needling are
decided here, once: a visit with needling needs a valid consent for its episode; a muscle the episode's
stored screening keeps needles away from is refused, naming the item that blocks it, unless the clinician
records an override with a reason; a signed note is read-only and changes become amendments.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from dryneedling.assessment.plan import stored_blocks
from dryneedling.catalog import Catalog
from dryneedling.errors import InputError, validation_message
from dryneedling.records.audit import changes, fingerprint_key
from dryneedling.records.consent import ConsentText, consent_text
from dryneedling.records.entities import (
    CLINICAL_ROLES,
    REGISTERING_ROLES,
    AdverseEvent,
    Amendment,
    Assessment,
    Consent,
    ConsentMethod,
    Episode,
    NeedlingEntry,
    Patient,
    Sex,
    Side,
    Signer,
    User,
    Visit,
)
from dryneedling.records.errors import Conflict, Forbidden, NotFound
from dryneedling.records.repository import ClinicRecords, Store
from dryneedling.records.rules import cpt_code
from dryneedling.safe_input import check_data
from dryneedling.server_secret import secret_key
from dryneedling.services.assess import assess

SEARCH_LIMIT = 50
MIN_OVERRIDE_REASON = 10
# A visit's date is the clinic's calendar day while times are kept in UTC: a day either way is allowed
# before a date counts as in the future or as before the consent.
DATE_SLACK = timedelta(days=1)


def _now() -> datetime:
    return datetime.now(UTC)


def _require(user: User, roles: Iterable[str], action: str) -> None:
    if user.role not in roles:
        raise Forbidden(f"the {user.role} role may not {action}")


def _iso_date(value: Any) -> Any:
    """Dates arrive as ``YYYY-MM-DD`` text (or date objects from Python callers), never as numbers."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("must be a date YYYY-MM-DD") from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError("must be a date YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


class _In(BaseModel):
    """Input of a use case: strict types (no "5" for 5, no 1 for true), unknown fields refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


def _readable_name(value: str) -> str:
    """A person's name must show: zero-width and format characters alone pass a length check but read and
    print as nothing."""
    if not any(character.isalnum() for character in value):
        raise ValueError("must contain at least one letter or digit")
    return value


# -- patients --------------------------------------------------------------------------------------------
class PatientIn(_In):
    name: str = Field(min_length=1, max_length=200)
    birth_date: IsoDate
    sex: Sex
    external_id: str | None = Field(None, max_length=64, description="The patient's id (MRN) in your EMR")
    email: str | None = Field(
        None,
        max_length=320,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="For follow-up links by e-mail",
    )

    @field_validator("name")
    @classmethod
    def _readable(cls, value: str) -> str:
        return _readable_name(value)

    @field_validator("birth_date")
    @classmethod
    def _not_in_future(cls, value: date) -> date:
        if value > date.today() or value.year < 1900:
            raise ValueError("must be a date between 1900 and today")
        return value


def create_patient(store: Store, user: User, data: PatientIn) -> Patient:
    _require(user, REGISTERING_ROLES, "register patients")
    patient = Patient(
        clinic_id=user.clinic_id,
        id=uuid.uuid4(),
        name=" ".join(data.name.split()),
        birth_date=data.birth_date,
        sex=data.sex,
        external_id=data.external_id or None,
        email=data.email.lower() if data.email else None,
        created_by=user.id,
        created_at=_now(),
    )
    with store.clinic(user.clinic_id) as records:
        if patient.external_id and any(
            p.external_id == patient.external_id for p in records.search_patients(patient.external_id, 5)
        ):
            raise Conflict("another patient has this external id", field="external_id")
        records.add_patient(patient)
        _audit_change(records, user, "create", "patient", patient.id, None, _patient_fields(patient))
    return patient


def _audit_change(
    records: ClinicRecords,
    user: User,
    action: str,
    entity: str,
    entity_id: uuid.UUID,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    """Log a change with the fields it changed (free text and identity as fingerprints, see records.audit)."""
    changed_before, changed_after = changes(before, after, fingerprint_key(secret_key()))
    records.audit(user, action, entity, entity_id, before=changed_before, after=changed_after)


def _patient_fields(patient: Patient) -> dict[str, Any]:
    return patient.model_dump(mode="json", include={"name", "birth_date", "sex", "external_id"})


def search_patients(store: Store, user: User, text: str = "", limit: int = SEARCH_LIMIT) -> list[Patient]:
    """Patients whose name words start with the words of ``text``, or whose external id or birth date
    (YYYY-MM-DD) is ``text``; all patients (by name) when ``text`` is empty. At most ``limit``."""
    check_data(text, "q")  # a NUL or a lone surrogate: 422 naming q, not the database's error
    with store.clinic(user.clinic_id) as records:
        found = records.search_patients(text[:200], max(1, min(limit, 200)))
        # What was searched for may be a name: the log keeps only that a search ran and whom it showed.
        records.audit(user, "search", "patient", None, after={"results": [str(p.id) for p in found]})
        return found


class PatientView(BaseModel):
    patient: Patient
    episodes: list[Episode]


def get_patient(store: Store, user: User, patient_id: uuid.UUID) -> PatientView:
    with store.clinic(user.clinic_id) as records:
        patient = records.patient(patient_id)
        if patient is None:
            raise NotFound("patient")
        records.audit(user, "read", "patient", patient_id)
        return PatientView(patient=patient, episodes=records.episodes_of(patient_id))


# -- episodes --------------------------------------------------------------------------------------------
class EpisodeIn(_In):
    profile: dict[str, Any] = Field(description="An assessment profile (as for POST /api/assess)")
    goals: str | None = Field(None, max_length=4000)
    onset: IsoDate | None = None


AGE_SLACK_YEARS = 1
"""How far a profile's age may be from the age the birth date gives (a profile written a little earlier, or an
age rounded up) before it is refused as another person's; within it the record's age is used."""


def age_on(birth_date: date, day: date) -> int:
    """Completed years on ``day``."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _profile_of(patient: Patient, profile: Mapping[str, Any]) -> dict[str, Any]:
    """The profile screened at the patient's age from their birth date: a missing age is filled in; an age
    the birth date contradicts is refused (screening a child as an adult misses every precaution for
    children); one within AGE_SLACK_YEARS gives way to the record's."""
    age = age_on(patient.birth_date, date.today())
    given = profile.get("age")
    if given is None:
        return {**profile, "age": age}
    if not isinstance(given, int) or isinstance(given, bool):
        return dict(profile)  # not a whole number: the profile's own check names it
    if abs(given - age) > AGE_SLACK_YEARS:
        raise InputError(
            "profile.age",
            f"is {given} but the patient's birth date gives {age}: correct the birth date, or leave age out "
            "and it is taken from the record",
            value=given,
        )
    return {**profile, "age": age}


def _assessment(
    catalog: Catalog, user: User, episode_id: uuid.UUID, profile: Mapping[str, Any]
) -> Assessment:
    try:
        report = assess(catalog, profile)
    except InputError as error:
        raise InputError(
            f"profile.{error.field}", error.message, value=error.value, choices=error.choices
        ) from None
    return Assessment(
        clinic_id=user.clinic_id,
        id=uuid.uuid4(),
        episode_id=episode_id,
        profile=report.profile.model_dump(mode="json", exclude_none=True),
        report=report.model_dump(mode="json"),
        catalog_version=report.catalog_version,
        created_by=user.id,
        created_at=_now(),
    )


def create_episode(
    store: Store, catalog: Catalog, user: User, patient_id: uuid.UUID, data: EpisodeIn
) -> Episode:
    """Open an episode of care with its first assessment (the Report stored with its catalog version)."""
    _require(user, CLINICAL_ROLES, "open episodes of care")
    episode_id = uuid.uuid4()
    with store.clinic(user.clinic_id) as records:
        patient = records.patient(patient_id)
        if patient is None:
            raise NotFound("patient")
        assessment = _assessment(catalog, user, episode_id, _profile_of(patient, data.profile))
        episode = Episode(
            clinic_id=user.clinic_id,
            id=episode_id,
            patient_id=patient_id,
            condition=assessment.profile.get("condition"),
            onset=data.onset,
            goals=data.goals,
            opened_at=assessment.created_at,
            created_by=user.id,
            assessments=[assessment],
        )
        records.add_episode(episode)
        _audit_change(records, user, "create", "episode", episode.id, None, _episode_fields(episode))
    return episode


def _episode_fields(episode: Episode) -> dict[str, Any]:
    latest = episode.latest_assessment
    return {
        **episode.model_dump(
            mode="json", include={"patient_id", "condition", "onset", "goals", "status", "closed_at"}
        ),
        "assessment_id": str(latest.id) if latest else None,
        "catalog_version": latest.catalog_version if latest else None,
        "decision": latest.decision if latest else None,
    }


def _open_episode(records: ClinicRecords, episode_id: uuid.UUID) -> Episode:
    """The episode with its newest assessment only (what the checks need); 404 / 409 when closed."""
    episode = records.episode(episode_id, latest_only=True)
    if episode is None:
        raise NotFound("episode")
    if episode.status != "open":
        raise Conflict("the episode is closed", field="episode")
    return episode


def reassess(store: Store, catalog: Catalog, user: User, episode_id: uuid.UUID, profile: dict) -> Episode:
    """Store a new assessment beside the old ones (new medicine, pregnancy...): re-screens the episode."""
    _require(user, CLINICAL_ROLES, "re-assess episodes")
    with store.clinic(user.clinic_id) as records:
        before = _open_episode(records, episode_id)
        patient = records.patient(before.patient_id)
        if patient is not None:
            profile = _profile_of(patient, profile)
        records.add_assessment(_assessment(catalog, user, episode_id, profile))
        after = records.episode(episode_id, latest_only=True)
        _audit_change(
            records,
            user,
            "reassess",
            "episode",
            episode_id,
            _episode_fields(before),
            _episode_fields(after),  # type: ignore[arg-type]
        )
        return records.episode(episode_id)  # type: ignore[return-value]


def close_episode(store: Store, user: User, episode_id: uuid.UUID) -> Episode:
    _require(user, CLINICAL_ROLES, "close episodes")
    with store.clinic(user.clinic_id) as records:
        before = _open_episode(records, episode_id)
        records.close_episode(episode_id, _now())
        after = records.episode(episode_id)
        _audit_change(
            records,
            user,
            "close",
            "episode",
            episode_id,
            _episode_fields(before),
            _episode_fields(after),  # type: ignore[arg-type]
        )
        return after  # type: ignore[return-value]


class EpisodeView(BaseModel):
    episode: Episode
    consents: list[Consent]
    visits: list[Visit]

    @property
    def valid_consent(self) -> Consent | None:
        return valid_consent(self.consents)


def get_episode(store: Store, user: User, episode_id: uuid.UUID) -> EpisodeView:
    with store.clinic(user.clinic_id) as records:
        episode = records.episode(episode_id)
        if episode is None:
            raise NotFound("episode")
        records.audit(user, "read", "episode", episode_id)
        return EpisodeView(
            episode=episode, consents=records.consents_of(episode_id), visits=records.visits_of(episode_id)
        )


# -- consent ---------------------------------------------------------------------------------------------
def valid_consent(consents: list[Consent]) -> Consent | None:
    """The newest consent that is not withdrawn (None: no needling may be recorded)."""
    valid = [consent for consent in consents if consent.valid]
    return valid[-1] if valid else None


def _consent_text(catalog: Catalog, episode: Episode) -> ConsentText:
    rules = catalog.practice
    latest = episode.latest_assessment
    citations = catalog.kb.citations(
        source for section in rules.consent.sections for source in section.sources
    )
    return consent_text(rules, citations, latest.report if latest else None)


def consent_preview(store: Store, catalog: Catalog, user: User, episode_id: uuid.UUID) -> ConsentText:
    """The consent text this episode's patient would read now (to show before signing)."""
    with store.clinic(user.clinic_id) as records:
        episode = records.episode(episode_id)
        if episode is None:
            raise NotFound("episode")
        records.audit(user, "read_consent_text", "episode", episode_id)
    return _consent_text(catalog, episode)


class ConsentIn(_In):
    signed_by: Signer
    signer_name: str = Field(min_length=1, max_length=200)
    method: ConsentMethod = "typed_name_and_tick"
    typed_name: str | None = Field(None, max_length=200, description="Defaults to signer_name")
    ticked: bool = Field(True, description="The patient ticked 'I agree'")
    signature: str | None = Field(None, max_length=100_000, description="Drawn signature (SVG path data)")
    copy_given: bool = False
    text_sha256: str | None = Field(
        None, description="SHA-256 of the text the patient read (from the preview): refused if it changed"
    )

    @field_validator("signer_name")
    @classmethod
    def _readable(cls, value: str) -> str:
        return _readable_name(value)


def record_consent(
    store: Store,
    catalog: Catalog,
    user: User,
    episode_id: uuid.UUID,
    data: ConsentIn,
    *,
    synthetic_signed_at: datetime | None = None,
) -> Consent:
    """Keep the consent the patient (or guardian) gave to the text shown now, signed now.

    ``synthetic_signed_at`` is for ``demo seed`` only, whose made-up history starts months ago: its consents
    must precede its back-dated visits. The API, pages and CLI never pass it; a real consent is signed when
    it is recorded."""
    _require(user, CLINICAL_ROLES, "take consent")
    if data.method == "typed_name_and_tick":
        typed = data.typed_name if data.typed_name is not None else data.signer_name
        if " ".join(typed.split()).casefold() != " ".join(data.signer_name.split()).casefold():
            raise InputError("typed_name", "must be the signer's name as typed by them", value=typed)
        if not data.ticked:
            raise InputError("ticked", "the signer must tick 'I agree'", value=False)
    elif not data.signature:
        raise InputError("signature", "a drawn signature is required for this method")
    with store.clinic(user.clinic_id) as records:
        episode = _open_episode(records, episode_id)
        if data.signed_by != "guardian" and _guardian_consents(episode):
            # the assessment (a minor, screened on a guardian's consent) says who consents: not the patient
            raise InputError(
                "signed_by",
                "the assessment records that a parent or guardian gives consent for this patient: "
                "the guardian signs (or re-assess the episode if the patient consents for themselves)",
                value=data.signed_by,
                choices=["guardian"],
            )
        shown = _consent_text(catalog, episode)
        if data.text_sha256 is not None and data.text_sha256 != shown.sha256:
            raise Conflict(
                "the consent text has changed since it was shown; show it again", field="text_sha256"
            )
        consent = Consent(
            clinic_id=user.clinic_id,
            id=uuid.uuid4(),
            episode_id=episode_id,
            text=shown.text,
            version=shown.version,
            sha256=shown.sha256,
            catalog_version=catalog.version,
            signed_by=data.signed_by,
            signer_name=" ".join(data.signer_name.split()),
            method=data.method,
            typed_name=(data.typed_name or data.signer_name)
            if data.method == "typed_name_and_tick"
            else None,
            ticked=data.ticked,
            signature=data.signature,
            signed_at=synthetic_signed_at or _now(),
            copy_given=data.copy_given,
            recorded_by=user.id,
        )
        records.add_consent(consent)
        _audit_change(records, user, "create", "consent", consent.id, None, _consent_fields(consent))
    return consent


def _consent_fields(consent: Consent) -> dict[str, Any]:
    return consent.model_dump(
        mode="json",
        include={
            "episode_id",
            "version",
            "sha256",
            "signed_by",
            "signer_name",
            "method",
            "typed_name",
            "ticked",
            "copy_given",
            "withdrawn_at",
        },
    )


def withdraw_consent(store: Store, user: User, episode_id: uuid.UUID) -> Consent:
    _require(user, CLINICAL_ROLES, "record a withdrawal of consent")
    with store.clinic(user.clinic_id) as records:
        if records.episode(episode_id) is None:
            raise NotFound("episode")
        consent = valid_consent(records.consents_of(episode_id))
        if consent is None:
            raise Conflict("there is no valid consent to withdraw", field="consent")
        records.withdraw_consent(consent.id, _now())
        withdrawn = next(c for c in records.consents_of(episode_id) if c.id == consent.id)
        _audit_change(
            records,
            user,
            "withdraw",
            "consent",
            consent.id,
            _consent_fields(consent),
            _consent_fields(withdrawn),
        )
        return withdrawn


# -- visits ----------------------------------------------------------------------------------------------
class NeedlingIn(_In):
    muscle: str = Field(description="Atlas muscle id")
    side: Side
    needles: int = Field(ge=1, le=100)
    length_mm: float = Field(gt=0, le=150)
    gauge: float = Field(gt=0, le=1, description="Needle diameter in mm, e.g. 0.25")
    depth_mm: float = Field(ge=0, le=150)
    technique: str = "static"
    twitch_responses: int = Field(0, ge=0, le=1000)
    electrical_stimulation: bool = False
    duration_min: float | None = Field(None, ge=0, le=120)
    ultrasound_guided: bool = False
    override_reason: str | None = Field(None, max_length=2000, description="Why a blocked muscle is needled")


class AdverseEventIn(_In):
    category: str
    severity: Literal["mild", "significant", "major"]
    note: str | None = Field(None, max_length=2000)


class OverrideIn(_In):
    reason: str = Field(min_length=MIN_OVERRIDE_REASON, max_length=2000)


class VisitIn(_In):
    visit_date: IsoDate | None = Field(None, description="Default: today")
    subjective: str | None = Field(None, max_length=20_000)
    pain_before: int | None = Field(None, ge=0, le=10)
    pain_after: int | None = Field(None, ge=0, le=10)
    heat_before: bool = False
    heat_after: bool = False
    needling: list[NeedlingIn] = Field(default_factory=list, max_length=60)
    needles_out: int = Field(0, ge=0, le=6000, description="Needles counted out; must equal the needles in")
    clean_technique: bool = Field(False, description="Clean needle technique attested")
    sharps_disposed: bool = Field(False, description="Sharps disposal attested")
    adverse_events: list[AdverseEventIn] = Field(default_factory=list, max_length=30)
    plan: str | None = Field(None, max_length=20_000)
    override: OverrideIn | None = Field(
        None, description="Needle muscles the screening blocks, for this reason (per entry: override_reason)"
    )


class VisitPatch(_In):
    """Fields to change in a draft visit; the others keep their values."""

    visit_date: IsoDate | None = None
    subjective: str | None = Field(None, max_length=20_000)
    pain_before: int | None = Field(None, ge=0, le=10)
    pain_after: int | None = Field(None, ge=0, le=10)
    heat_before: bool | None = None
    heat_after: bool | None = None
    needling: list[NeedlingIn] | None = Field(None, max_length=60)
    needles_out: int | None = Field(None, ge=0, le=6000)
    clean_technique: bool | None = None
    sharps_disposed: bool | None = None
    adverse_events: list[AdverseEventIn] | None = Field(None, max_length=30)
    plan: str | None = Field(None, max_length=20_000)
    override: OverrideIn | None = None


def blocked_muscles(
    report: Mapping[str, Any] | None, catalog: Catalog | None = None, muscles: Iterable[str] | None = None
) -> dict[str, tuple[str, str, str | None]]:
    """Muscle id -> (blocking item id, reason, side it applies to or None) from a stored Report.

    A ``do_not_needle`` decision blocks every muscle by its whole-body item (key ``"*"``). The Report's
    excluded muscles are only those the atlas offered for the pain; with the catalog, ``muscles`` (default:
    every muscle of the atlas) are checked against the stored screening too, so a muscle in a region kept
    needle-free or left out by a muscle rule is blocked whether or not it was a candidate.
    """
    if not report:
        return {}
    blocked = _report_blocks(report)
    if catalog is None or "*" in blocked:
        return blocked
    wanted = [m for m in (catalog.kb.muscles if muscles is None else muscles) if m not in blocked]
    if wanted:
        items = (report.get("screening") or {}).get("items") or []
        blocked.update(stored_blocks(items, catalog, wanted))
    return blocked


def _block_of(
    blocked: Mapping[str, tuple[str, str, str | None]], muscle: str, side: str
) -> tuple[str, str, str | None] | None:
    """What blocks needling ``muscle`` on ``side`` (see :func:`blocked_muscles`), or None."""
    block = blocked.get(muscle) or blocked.get("*")
    if block and block[2] and side in ("left", "right") and side != block[2]:
        return None  # a one-sided finding does not block the other side
    return block


def _check_still_allowed(records: ClinicRecords, catalog: Catalog | None, visit: Visit) -> None:
    """Refuse to sign a draft whose needling the episode's newest screening now blocks without an override
    (re-screened after the draft was written: a new anticoagulant, a pregnancy). The signed note prints that
    screening, so it would otherwise show a blocked muscle needled with no reason given."""
    if not visit.needling:
        return
    latest_at = records.latest_assessment_at(visit.episode_id)
    if latest_at is None or latest_at < visit.updated_at:
        return  # recording or changing the draft checked it against this screening already
    episode = records.episode(visit.episode_id, latest_only=True)
    latest = episode.latest_assessment if episode else None
    if latest is None:
        return
    blocked = blocked_muscles(latest.report, catalog, {entry.muscle for entry in visit.needling})
    for index, entry in enumerate(visit.needling):
        block = _block_of(blocked, entry.muscle, entry.side)
        if block and not entry.override_reason:
            raise Conflict(
                f"the episode was screened again after this draft was written: screening item {block[0]!r} "
                f"now blocks needling here ({block[1]}); update the draft with an override and its reason "
                "(for example that the needling came before the new finding was known), then sign",
                field=f"needling.{index}.muscle",
            )


def _report_blocks(report: Mapping[str, Any]) -> dict[str, tuple[str, str, str | None]]:
    screening = report.get("screening") or {}
    items = {item.get("id"): item for item in screening.get("items") or []}
    blocked: dict[str, tuple[str, str, str | None]] = {}
    for muscle in report.get("excluded_muscles") or []:
        item = items.get(muscle.get("blocked_by"), {})
        side = item.get("side") if item.get("side") in ("left", "right") else None
        blocked[muscle["muscle"]] = (muscle.get("blocked_by", ""), muscle.get("reason", ""), side)
    for item in items.values():
        if item.get("effect") == "blocks_all":
            blocked["*"] = (item.get("id", ""), item.get("reason") or item.get("label", ""), None)
            break
    return blocked


def refuse_before_birth(records: Any, episode: Episode, day: date, field: str) -> None:
    """InputError on ``field`` when ``day`` (a visit, a measurement) is before the episode's patient was born.

    The patient was registered, and so born, before any episode of theirs opened: only a day before the
    episode opened needs the birth date read. The message does not tell the birth date."""
    if day < episode.opened_at.date():
        patient = records.patient(episode.patient_id)
        if patient is not None and day < patient.birth_date:
            raise InputError(field, "is before the patient was born", value=day.isoformat())


def _guardian_consents(episode: Episode) -> bool:
    """Whether the episode's newest assessment records that a parent or guardian consents for the patient."""
    latest = episode.latest_assessment
    return bool(latest and latest.profile.get("consent_by") == "guardian")


def _check_visit(
    catalog: Catalog, records: ClinicRecords, episode: Episode, data: VisitIn
) -> tuple[list[NeedlingEntry], list[AdverseEvent], uuid.UUID | None]:
    kb, rules = catalog.kb, catalog.practice
    if data.visit_date is not None and data.visit_date > date.today() + DATE_SLACK:
        raise InputError("visit_date", "is in the future", value=data.visit_date.isoformat())
    if data.visit_date is not None:
        refuse_before_birth(records, episode, data.visit_date, "visit_date")
    needles_in = sum(entry.needles for entry in data.needling)
    if data.needles_out != needles_in:
        raise InputError(
            "needles_out",
            f"{data.needles_out} needles counted out but {needles_in} went in: they must match",
            value=data.needles_out,
        )
    blocked = blocked_muscles(
        episode.latest_assessment.report if episode.latest_assessment else None,
        catalog,
        {entry.muscle for entry in data.needling},
    )
    entries: list[NeedlingEntry] = []
    for index, entry in enumerate(data.needling):
        field = f"needling.{index}"
        if entry.muscle not in kb.muscles:
            raise InputError.unknown(f"{field}.muscle", entry.muscle, kb.muscles, kind="muscle")
        if entry.technique not in rules.technique_ids:
            raise InputError.unknown(
                f"{field}.technique", entry.technique, rules.technique_ids, kind="technique"
            )
        if entry.depth_mm > entry.length_mm:
            raise InputError(f"{field}.depth_mm", "is deeper than the needle is long", value=entry.depth_mm)
        block = _block_of(blocked, entry.muscle, entry.side)
        reason = entry.override_reason or (data.override.reason if data.override else None)
        if block and (not reason or len(reason.strip()) < MIN_OVERRIDE_REASON):
            raise InputError(
                f"{field}.muscle",
                f"screening item {block[0]!r} blocks needling here ({block[1]}); "
                f"to needle anyway record an override with a reason of at least {MIN_OVERRIDE_REASON} characters",
                value=entry.muscle,
            )
        entries.append(
            NeedlingEntry(
                **entry.model_dump(exclude={"override_reason"}),
                blocked_by=block[0] if block else None,
                override_reason=reason.strip() if block and reason else None,
            )
        )
    events = []
    for index, event in enumerate(data.adverse_events):
        if event.category not in rules.adverse_event_ids:
            raise InputError.unknown(
                f"adverse_events.{index}.category", event.category, rules.adverse_event_ids, kind="category"
            )
        events.append(AdverseEvent(**event.model_dump()))
    consent_id = None
    if entries:
        if not (data.clean_technique and data.sharps_disposed):
            missing = "clean_technique" if not data.clean_technique else "sharps_disposed"
            raise InputError(missing, "must be attested when needles were used", value=False)
        consent = valid_consent(records.consents_of(episode.id))
        if consent is None:
            raise Conflict(
                "no valid dry needling consent for this episode: record consent first", field="consent"
            )
        if consent.signed_by != "guardian" and _guardian_consents(episode):
            # re-assessed since the consent (the patient is a minor after all): the patient's own signature
            # no longer covers needling
            raise Conflict(
                "the latest assessment records that a parent or guardian consents for this patient, but the "
                "consent in force was signed by the patient: record the guardian's consent first",
                field="consent",
            )
        visit_day = data.visit_date or date.today()
        signed_day = consent.signed_at.date()
        if visit_day < signed_day - DATE_SLACK:
            raise InputError(
                "visit_date",
                f"is before the dry needling consent of this episode was signed ({signed_day.isoformat()}): "
                "needling cannot be recorded for a day before the patient consented",
                value=visit_day.isoformat(),
            )
        consent_id = consent.id
    return entries, events, consent_id


def _build_visit(
    catalog: Catalog, records: ClinicRecords, user: User, episode: Episode, data: VisitIn, base: Visit | None
) -> Visit:
    entries, events, consent_id = _check_visit(catalog, records, episode, data)
    code, count = cpt_code(catalog.practice, (entry.muscle for entry in entries))
    now = _now()
    return Visit(
        clinic_id=user.clinic_id,
        id=base.id if base else uuid.uuid4(),
        episode_id=episode.id,
        patient_id=episode.patient_id,
        clinician_id=base.clinician_id if base else user.id,
        consent_id=consent_id,
        visit_date=data.visit_date or (base.visit_date if base else date.today()),
        subjective=data.subjective,
        pain_before=data.pain_before,
        pain_after=data.pain_after,
        heat_before=data.heat_before,
        heat_after=data.heat_after,
        needling=entries,
        needles_out=data.needles_out,
        clean_technique=data.clean_technique,
        sharps_disposed=data.sharps_disposed,
        adverse_events=events,
        plan=data.plan,
        cpt=code,
        muscle_count=count,
        created_at=base.created_at if base else now,
        updated_at=now,
    )


def record_visit(store: Store, catalog: Catalog, user: User, episode_id: uuid.UUID, data: VisitIn) -> Visit:
    _require(user, CLINICAL_ROLES, "record needling visits")
    with store.clinic(user.clinic_id) as records:
        episode = _open_episode(records, episode_id)
        visit = _build_visit(catalog, records, user, episode, data, None)
        records.add_visit(visit)
        _audit_change(records, user, "create", "visit", visit.id, None, _visit_fields(visit))
    return visit


def _visit_fields(visit: Visit) -> dict[str, Any]:
    """What a visit's audit entries compare: the note's inputs and its state, never the whole record."""
    return {
        **_as_input(visit),
        **visit.model_dump(
            mode="json",
            include={
                "episode_id",
                "patient_id",
                "clinician_id",
                "consent_id",
                "cpt",
                "status",
                "signed_at",
                "signed_by",
            },
        ),
    }


def get_visit(store: Store, user: User, visit_id: uuid.UUID) -> Visit:
    with store.clinic(user.clinic_id) as records:
        visit = records.visit(visit_id)
        if visit is None:
            raise NotFound("visit")
        records.audit(user, "read", "visit", visit_id)
    return visit


def _as_input(visit: Visit) -> dict[str, Any]:
    data = visit.model_dump(
        include={
            "visit_date",
            "subjective",
            "pain_before",
            "pain_after",
            "heat_before",
            "heat_after",
            "needles_out",
            "clean_technique",
            "sharps_disposed",
            "plan",
        }
    )
    data["needling"] = [entry.model_dump(exclude={"blocked_by"}) for entry in visit.needling]
    data["adverse_events"] = [
        event.model_dump(include={"category", "severity", "note"})
        for event in visit.adverse_events
        if event.reported_by == "clinician"
    ]
    return data


def _merged_visit(merged: dict[str, Any]) -> VisitIn:
    """A draft visit with a patch applied; a patch that sets a required field to null is bad input (422
    naming the field), not a server error (found by the signed-in API fuzz test)."""
    try:
        return VisitIn.model_validate(merged)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        if first.get("input") is None:
            raise InputError(field, "may not be null: leave it out to keep its value") from None
        raise InputError(field, validation_message(first), value=first.get("input")) from None


def update_visit(store: Store, catalog: Catalog, user: User, visit_id: uuid.UUID, patch: VisitPatch) -> Visit:
    """Change a draft visit (its clinician or an owner); a signed one is read-only (409: amend it)."""
    _require(user, CLINICAL_ROLES, "change visits")
    with store.clinic(user.clinic_id) as records:
        visit = records.visit(visit_id)
        if visit is None:
            raise NotFound("visit")
        if visit.signed:
            raise Conflict("the visit note is signed and read-only: add an amendment instead", field="visit")
        if user.id != visit.clinician_id and user.role != "owner":
            raise Forbidden("only the treating clinician or an owner may change this visit")
        episode = _open_episode(records, visit.episode_id)
        merged = {**_as_input(visit), **patch.model_dump(exclude_unset=True)}
        updated = _build_visit(catalog, records, user, episode, _merged_visit(merged), visit)
        if not records.replace_draft_visit(updated):
            raise Conflict("the visit note was signed meanwhile: add an amendment instead", field="visit")
        stored = records.visit(visit_id)
        _audit_change(records, user, "update", "visit", visit_id, _visit_fields(visit), _visit_fields(stored))  # type: ignore[arg-type]
        return stored  # type: ignore[return-value]


@dataclass(frozen=True)
class SignedVisit:
    """A visit just signed, and whether its follow-up links are to be e-mailed (the clinic has a mail server
    and follow-ups were made), so a shell mails them after answering without reading the settings again."""

    visit: Visit
    mail_links: bool


def sign_visit(store: Store, user: User, visit_id: uuid.UUID, catalog: Catalog | None = None) -> Visit:
    """Sign a draft note (its treating clinician only); from then on it is read-only.

    With the catalog, a visit with needling also gets its patient follow-ups (24 h and 48 h by default) in
    the same transaction (:mod:`dryneedling.services.followups`); every shell passes it.
    """
    return sign_visit_with_links(store, user, visit_id, catalog).visit


def sign_visit_with_links(
    store: Store, user: User, visit_id: uuid.UUID, catalog: Catalog | None = None
) -> SignedVisit:
    """:func:`sign_visit`, saying also whether the links of the follow-ups it made are to be e-mailed."""
    _require(user, CLINICAL_ROLES, "sign visit notes")
    with store.clinic(user.clinic_id) as records:
        visit = records.visit(visit_id)
        if visit is None:
            raise NotFound("visit")
        if visit.signed:
            raise Conflict("the visit note is signed already", field="visit")
        if user.id != visit.clinician_id:
            raise Forbidden("only the treating clinician may sign this note")
        _check_still_allowed(records, catalog, visit)
        now = _now()
        if not records.mark_signed(visit_id, user.id, now):
            raise Conflict("the visit note is signed already", field="visit")
        signed = visit.model_copy(
            update={"status": "signed", "signed_at": now, "signed_by": user.id, "updated_at": now}
        )
        mail_links = False
        if catalog is not None:
            from dryneedling.services.followups import schedule_followups

            settings = records.followup_settings()  # type: ignore[attr-defined]
            made = schedule_followups(records, catalog, visit, now, settings)
            mail_links = bool(made) and settings is not None and settings.email_configured
        # Last: the append locks the clinic's audit chain until the commit (PostgreSQL), so every other
        # change of the clinic waits for as short a time as possible.
        _audit_change(records, user, "sign", "visit", visit_id, _visit_fields(visit), _visit_fields(signed))
        return SignedVisit(signed, mail_links)


class AmendmentIn(_In):
    text: str = Field(min_length=1, max_length=20_000)


def amend_visit(store: Store, user: User, visit_id: uuid.UUID, data: AmendmentIn) -> Amendment:
    """A correction of a signed note, kept beside the original with its author and time."""
    _require(user, CLINICAL_ROLES, "amend visit notes")
    with store.clinic(user.clinic_id) as records:
        visit = records.visit(visit_id)
        if visit is None:
            raise NotFound("visit")
        if not visit.signed:
            raise Conflict("the visit is not signed yet: change it with PATCH", field="visit")
        amendment = Amendment(
            clinic_id=user.clinic_id,
            id=uuid.uuid4(),
            visit_id=visit_id,
            text=data.text,
            author_id=user.id,
            created_at=_now(),
        )
        records.add_amendment(amendment)
        _audit_change(
            records,
            user,
            "amend",
            "visit",
            visit_id,
            None,
            {"amendment_id": str(amendment.id), "text": amendment.text},
        )
    return amendment


class VisitNote(BaseModel):
    """Everything the printed note shows."""

    visit: Visit
    patient: Patient
    episode: Episode
    clinician: User | None
    signer: User | None
    authors: dict[str, str]
    consent: Consent | None


def visit_note(store: Store, user: User, visit_id: uuid.UUID, action: str = "read") -> VisitNote:
    """The visit with all the printed note shows; audited as ``action`` ("read" on screen, "print" as PDF)."""
    with store.clinic(user.clinic_id) as records:
        visit = records.visit(visit_id)
        if visit is None:
            raise NotFound("visit")
        records.audit(user, action, "visit", visit_id)
        episode = records.episode(visit.episode_id)
        patient = records.patient(visit.patient_id)
        authors = {}
        for amendment in visit.amendments:
            author = records.user(amendment.author_id)
            authors[str(amendment.author_id)] = author.name if author else "unknown"
        consents = [c for c in records.consents_of(visit.episode_id) if c.id == visit.consent_id]
        return VisitNote(
            visit=visit,
            patient=patient,  # type: ignore[arg-type]
            episode=episode,  # type: ignore[arg-type]
            clinician=records.user(visit.clinician_id),
            signer=records.user(visit.signed_by) if visit.signed_by else None,
            authors=authors,
            consent=consents[0] if consents else None,
        )
