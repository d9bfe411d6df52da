"""The practice records as plain pydantic models: what a clinic keeps about its patients' dry needling.

No database here: :mod:`dryneedling.db` stores these, :mod:`dryneedling.services.records` makes them.
Every record carries ``clinic_id``; ids are random UUIDs, so an id says nothing about a patient or a clinic.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

Role = Literal["owner", "clinician", "assistant", "auditor"]
ROLES: tuple[str, ...] = ("owner", "clinician", "assistant", "auditor")
#: Roles that needle, take consent and sign notes.
CLINICAL_ROLES: tuple[str, ...] = ("owner", "clinician")
#: Roles that may register patients.
REGISTERING_ROLES: tuple[str, ...] = ("owner", "clinician", "assistant")

Sex = Literal["female", "male", "other", "unknown"]
Side = Literal["left", "right", "bilateral", "midline"]
Signer = Literal["patient", "guardian"]
ConsentMethod = Literal["typed_name_and_tick", "drawn_signature"]
EpisodeStatus = Literal["open", "closed"]
VisitStatus = Literal["draft", "signed"]


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class Clinic(_Record):
    id: uuid.UUID
    name: str
    demo: bool = False
    phone: str | None = Field(None, max_length=40, description="Who patients call (shown on follow-up pages)")
    created_at: datetime


class Training(_Record):
    """A clinician's dry needling training (rules differ by jurisdiction, so the record keeps it)."""

    hours: float | None = Field(None, ge=0, le=10_000)
    course: str | None = Field(None, max_length=200, description="Course or certificate")
    jurisdiction: str | None = Field(None, max_length=100)
    completed_on: date | None = None


class User(_Record):
    clinic_id: uuid.UUID
    id: uuid.UUID
    email: str
    name: str
    role: Role
    training: Training | None = None
    active: bool = True
    created_at: datetime


class Patient(_Record):
    clinic_id: uuid.UUID
    id: uuid.UUID
    name: str
    birth_date: date
    sex: Sex
    external_id: str | None = Field(None, description="The patient's id (MRN) in the clinic's EMR")
    email: str | None = Field(
        None, description="Where follow-up links are e-mailed, if the clinic sends mail"
    )
    created_by: uuid.UUID
    created_at: datetime


class Assessment(_Record):
    """One assessment of an episode: the profile and the Report exactly as generated."""

    clinic_id: uuid.UUID
    id: uuid.UUID
    episode_id: uuid.UUID
    profile: dict[str, Any]
    report: dict[str, Any]
    catalog_version: str
    created_by: uuid.UUID
    created_at: datetime

    @property
    def decision(self) -> str | None:
        return (self.report.get("screening") or {}).get("decision")


class Episode(_Record):
    clinic_id: uuid.UUID
    id: uuid.UUID
    patient_id: uuid.UUID
    condition: str | None = None
    onset: date | None = None
    goals: str | None = None
    status: EpisodeStatus = "open"
    opened_at: datetime
    closed_at: datetime | None = None
    created_by: uuid.UUID
    assessments: list[Assessment] = Field(default_factory=list, description="Oldest first")

    @property
    def latest_assessment(self) -> Assessment | None:
        return self.assessments[-1] if self.assessments else None


class Consent(_Record):
    """What the patient (or guardian) read and how they agreed; valid until withdrawn."""

    clinic_id: uuid.UUID
    id: uuid.UUID
    episode_id: uuid.UUID
    text: str = Field(description="The consent text exactly as shown")
    version: str = Field(description="Version of the consent wording in the knowledge base")
    sha256: str = Field(description="SHA-256 of the text as shown (UTF-8)")
    catalog_version: str
    signed_by: Signer
    signer_name: str
    method: ConsentMethod
    typed_name: str | None = None
    ticked: bool = False
    signature: str | None = Field(None, description="A drawn signature (SVG path data), when drawn")
    signed_at: datetime
    copy_given: bool = False
    recorded_by: uuid.UUID
    withdrawn_at: datetime | None = None

    @property
    def valid(self) -> bool:
        return self.withdrawn_at is None


class NeedlingEntry(_Record):
    """One muscle needled in a visit."""

    muscle: str = Field(description="Atlas muscle id")
    side: Side
    needles: int = Field(ge=1, le=100, description="Needles inserted into this muscle")
    length_mm: float = Field(gt=0, le=150, description="Needle length (mm)")
    gauge: float = Field(gt=0, le=1, description="Needle diameter (mm), e.g. 0.25")
    depth_mm: float = Field(ge=0, le=150, description="Deepest insertion (mm)")
    technique: str = Field(description="Technique id (static, fast_in_fast_out, rotation, other)")
    twitch_responses: int = Field(0, ge=0, le=1000, description="Local twitch responses counted")
    electrical_stimulation: bool = False
    duration_min: float | None = Field(None, ge=0, le=120, description="Needles left in (minutes)")
    ultrasound_guided: bool = False
    blocked_by: str | None = Field(None, description="Screening item that blocks this muscle, if any")
    override_reason: str | None = Field(None, description="Why it was needled although screening blocks it")


class AdverseEvent(_Record):
    category: str = Field(description="Category id (Brady 2014 / Boyce 2020)")
    severity: Literal["mild", "significant", "major"]
    note: str | None = Field(None, max_length=2000)
    reported_by: Literal["patient", "clinician"] = Field(
        "clinician", description="Who reported it: the clinician at the visit or the patient at a follow-up"
    )
    followup_id: uuid.UUID | None = Field(None, description="The follow-up it was reported at, if any")


class Amendment(_Record):
    clinic_id: uuid.UUID
    id: uuid.UUID
    visit_id: uuid.UUID
    text: str
    author_id: uuid.UUID
    created_at: datetime


class Visit(_Record):
    clinic_id: uuid.UUID
    id: uuid.UUID
    episode_id: uuid.UUID
    patient_id: uuid.UUID
    clinician_id: uuid.UUID
    consent_id: uuid.UUID | None = None
    visit_date: date
    subjective: str | None = None
    pain_before: int | None = Field(None, ge=0, le=10)
    pain_after: int | None = Field(None, ge=0, le=10)
    heat_before: bool = False
    heat_after: bool = False
    needling: list[NeedlingEntry] = Field(default_factory=list)
    needles_out: int = Field(0, ge=0)
    clean_technique: bool = False
    sharps_disposed: bool = False
    nothing_injected: bool = True
    adverse_events: list[AdverseEvent] = Field(default_factory=list)
    plan: str | None = None
    cpt: str | None = None
    muscle_count: int = 0
    status: VisitStatus = "draft"
    signed_at: datetime | None = None
    signed_by: uuid.UUID | None = None
    created_at: datetime
    updated_at: datetime
    amendments: list[Amendment] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def needles_in(self) -> int:
        """Needles inserted, over every entry (must equal ``needles_out``)."""
        return sum(entry.needles for entry in self.needling)

    @property
    def signed(self) -> bool:
        return self.status == "signed"
