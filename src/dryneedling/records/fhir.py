"""A patient's dry needling record as a FHIR R4 ``Bundle`` (type ``collection``), built as plain dicts.

Pure mapping, no FHIR library: the shapes follow FHIR R4 (4.0.1), which the ``fhir.resources`` R4B models
validate in the tests. What goes out, and with which codes (every code is verified, none is guessed):

- ``Organization`` (the clinic) and ``Patient``: the MRN (``external_id``) under a clinic-specific identifier
  system, name as text (splitting names into given/family is not safe across cultures), birth date, and
  ``gender`` from the recorded sex (the record's values are FHIR's administrative-gender codes).
- ``Practitioner``: every clinician who opened an episode, took consent, recorded or signed a visit, with
  their dry needling training (course, hours, jurisdiction) as a ``qualification`` when recorded.
- ``Condition`` per episode: the knowledge base's condition label, and its ICD-10-CM code only where the
  knowledge base holds a verified one (``conditions.yaml``); otherwise text only.
- ``Consent`` per consent: scope ``treatment``, category LOINC 59284-0 (Patient Consent), status active or
  inactive (withdrawn), the text as signed in ``sourceAttachment`` (``hash`` is FHIR's SHA-1; the record's
  own SHA-256 travels in a local extension).
- ``Procedure`` per signed visit with needling: CPT 20560/20561 as recorded, one ``bodySite`` per needled
  muscle and side (text only: the knowledge base holds no verified SNOMED CT codes for muscles), and a note
  with needles, depth and twitch responses.
- ``Observation`` for pain before and after needling (LOINC 72514-3, 0-10 numeric rating) and, through
  :func:`outcome_observations`, for outcome measures (LOINC only where verified; else a local code system).
- ``AdverseEvent`` per recorded event: severity mild -> mild, significant -> moderate, major -> severe,
  its ``suspectEntity`` the visit's Procedure.

Draft (unsigned) visits are left out: a draft may still change, and a copy in another system would go stale.
Resource ids are stable: the record's own UUIDs, or UUIDv5 derived from them for resources the record keeps
inside another (conditions, observations, adverse events), so exporting twice gives the same ids.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from dryneedling.records.entities import Clinic, Consent, Episode, Patient, User, Visit

if TYPE_CHECKING:
    from dryneedling.catalog import Catalog

# -- code systems (sources: /work/shared/reference/records.md section 4, and the pages named) ---------------
CPT = "http://www.ama-assn.org/go/cpt"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"  # the KB's verified codes are ICD-10-CM (e.g. G44.86)
LOINC = "http://loinc.org"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_ACTUALITY_ACTUAL = "actual"
#: LOINC 72514-3 "Pain severity - 0-10 verbal numeric rating [Score] - Reported" (records.md section 4).
PAIN_LOINC = ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
#: LOINC 59284-0 "Patient Consent" (HL7 consent-category value set; checked with the search tool).
CONSENT_LOINC = ("59284-0", "Patient Consent")

# Local systems of this product (not published terminologies; a receiver treats them as local codes).
LOCAL = "https://dryneedling.org/fhir"
OUTCOME_MEASURE_SYSTEM = f"{LOCAL}/CodeSystem/outcome-measure"
ADVERSE_EVENT_CATEGORY_SYSTEM = f"{LOCAL}/CodeSystem/adverse-event-category"
CONSENT_SHA256_EXTENSION = f"{LOCAL}/StructureDefinition/consent-text-sha256"
ADVERSE_EVENT_NOTE_EXTENSION = f"{LOCAL}/StructureDefinition/adverse-event-note"
#: The one measure whose LOINC code is verified (records.md section 4): the 0-10 pain rating.
VERIFIED_MEASURE_LOINC: Mapping[str, tuple[str, str]] = {"nprs": PAIN_LOINC}

SEVERITY = {"mild": "mild", "significant": "moderate", "major": "severe"}
SEVERITY_DISPLAY = {"mild": "Mild", "moderate": "Moderate", "severe": "Severe"}
_ID_NAMESPACE = uuid.UUID("6f1d2a7e-4b0c-5d8e-9a31-0c2b7f5e8d41")  # fixed: derived ids stay stable


def mrn_system(clinic_id: uuid.UUID) -> str:
    """The identifier system of one clinic's MRNs (MRNs are unique per clinic, not across clinics)."""
    return f"{LOCAL}/clinic/{clinic_id}/mrn"


@dataclass(frozen=True)
class Terms:
    """The names and codes the mapping needs from the catalog (see :func:`terms_from_catalog`)."""

    muscles: Mapping[str, str] = field(default_factory=dict)
    conditions: Mapping[str, str] = field(default_factory=dict)
    #: condition id -> verified ICD-10-CM codes as (code, label)
    icd10: Mapping[str, Sequence[tuple[str, str]]] = field(default_factory=dict)
    adverse_events: Mapping[str, str] = field(default_factory=dict)
    techniques: Mapping[str, str] = field(default_factory=dict)
    cpt: Mapping[str, str] = field(default_factory=dict)
    measures: Mapping[str, str] = field(default_factory=dict)


def terms_from_catalog(catalog: Catalog) -> Terms:
    """Labels and verified codes from a :class:`~dryneedling.catalog.Catalog`."""
    kb, rules = catalog.kb, catalog.practice
    return Terms(
        muscles={m.id: m.name for m in kb.muscles.values()},
        conditions={c.id: c.label for c in kb.conditions.values()},
        icd10={c.id: [(code.code, code.label) for code in c.icd10] for c in kb.conditions.values()},
        adverse_events={c.id: c.label for c in rules.adverse_events},
        techniques={t.id: t.label for t in rules.techniques},
        cpt={code.code: code.label for code in rules.cpt.codes},
        measures={m.id: m.name for m in kb.measures.values()},
    )


@dataclass(frozen=True)
class EpisodeRecord:
    episode: Episode
    consents: Sequence[Consent] = ()
    visits: Sequence[Visit] = ()


@dataclass(frozen=True)
class PatientRecord:
    """Everything one export reads: the patient, their clinic, episodes and the users they mention."""

    clinic: Clinic
    patient: Patient
    episodes: Sequence[EpisodeRecord] = ()
    users: Mapping[uuid.UUID, User] = field(default_factory=dict)


def referenced_users(episodes: Iterable[EpisodeRecord]) -> list[uuid.UUID]:
    """The users an export names as practitioners (episode openers, consent takers, treating and signing
    clinicians of signed visits), in first-mention order."""
    ids: dict[uuid.UUID, None] = {}
    for item in episodes:
        ids[item.episode.created_by] = None
        for consent in item.consents:
            ids[consent.recorded_by] = None
        for visit in item.visits:
            if visit.signed:
                ids[visit.clinician_id] = None
                if visit.signed_by:
                    ids[visit.signed_by] = None
    return list(ids)


def derived_id(*parts: object) -> uuid.UUID:
    """A stable UUID for a resource the record keeps inside another (e.g. a visit's pain observation)."""
    return uuid.uuid5(_ID_NAMESPACE, "/".join(str(part) for part in parts))


def ref(resource_id: uuid.UUID) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource_id}"}


def _when(value: datetime) -> str:
    return value.isoformat()


# -- resources -------------------------------------------------------------------------------------------
def organization(clinic: Clinic) -> dict[str, Any]:
    return {"resourceType": "Organization", "id": str(clinic.id), "active": True, "name": clinic.name}


def patient_resource(patient: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "name": [{"text": patient.name}],
        "gender": patient.sex,  # female | male | other | unknown: FHIR's administrative-gender codes
        "birthDate": patient.birth_date.isoformat(),
        "managingOrganization": ref(patient.clinic_id),
    }
    if patient.external_id:
        resource["identifier"] = [
            {
                "use": "usual",
                "type": {"text": "Medical record number"},
                "system": mrn_system(patient.clinic_id),
                "value": patient.external_id,
            }
        ]
    return resource


def practitioner(user: User) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": str(user.id),
        "active": user.active,
        "name": [{"text": user.name}],
    }
    training = user.training
    if training is not None:
        parts = ["Dry needling training"]
        if training.course:
            parts.append(training.course)
        if training.hours is not None:
            parts.append(f"{training.hours:g} hours")
        if training.jurisdiction:
            parts.append(training.jurisdiction)
        qualification: dict[str, Any] = {"code": {"text": ", ".join(parts)}}
        if training.completed_on:
            qualification["period"] = {"start": training.completed_on.isoformat()}
        resource["qualification"] = [qualification]
    return resource


def condition(episode: Episode, terms: Terms) -> dict[str, Any] | None:
    """The episode's condition; None when the episode names none."""
    if not episode.condition:
        return None
    label = terms.conditions.get(episode.condition, episode.condition.replace("_", " "))
    code: dict[str, Any] = {"text": label}
    codings = [
        {"system": ICD10_CM, "code": icd, "display": icd_label}
        for icd, icd_label in terms.icd10.get(episode.condition, ())
    ]
    if codings:
        code["coding"] = codings
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": str(derived_id("condition", episode.id)),
        "code": code,
        "subject": ref(episode.patient_id),
        "recordedDate": _when(episode.opened_at),
        "recorder": ref(episode.created_by),
    }
    if episode.status == "open":
        # A closed episode of care does not say the condition resolved, so no status is claimed then.
        resource["clinicalStatus"] = {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        }
    if episode.onset:
        resource["onsetDateTime"] = episode.onset.isoformat()
    return resource


def consent_resource(consent: Consent, patient_id: uuid.UUID) -> dict[str, Any]:
    text = consent.text.encode("utf-8")
    performer = (
        ref(patient_id)
        if consent.signed_by == "patient"
        else {"display": f"{consent.signer_name} (guardian)"}
    )
    provision: dict[str, Any] = {"type": "permit", "period": {"start": _when(consent.signed_at)}}
    if consent.withdrawn_at:
        provision["period"]["end"] = _when(consent.withdrawn_at)
    return {
        "resourceType": "Consent",
        "id": str(consent.id),
        "status": "active" if consent.valid else "inactive",
        "scope": {
            "coding": [{"system": CONSENT_SCOPE, "code": "treatment", "display": "Treatment"}],
        },
        "category": [
            {
                "coding": [{"system": LOINC, "code": CONSENT_LOINC[0], "display": CONSENT_LOINC[1]}],
                "text": "Dry needling consent",
            }
        ],
        "patient": ref(patient_id),
        "dateTime": _when(consent.signed_at),
        "performer": [performer],
        "organization": [ref(consent.clinic_id)],
        "sourceAttachment": {
            "contentType": "text/plain; charset=utf-8",
            "language": "en",
            "data": base64.b64encode(text).decode("ascii"),
            "hash": base64.b64encode(hashlib.sha1(text).digest()).decode("ascii"),
            "title": f"Dry needling consent, wording version {consent.version}",
            "creation": _when(consent.signed_at),
            "extension": [{"url": CONSENT_SHA256_EXTENSION, "valueString": consent.sha256}],
        },
        "policyRule": {"text": f"Dry needling consent, wording version {consent.version}"},
        "provision": provision,
    }


def _side(side: str) -> str:
    return {"bilateral": "both sides", "midline": "midline"}.get(side, side)


def procedure(visit: Visit, terms: Terms, condition_id: uuid.UUID | None) -> dict[str, Any]:
    code: dict[str, Any] = {"text": "Dry needling (needle insertion without injection)"}
    if visit.cpt:
        # The code only; CPT descriptors are AMA-licensed, so the text is the product's own wording.
        code["coding"] = [{"system": CPT, "code": visit.cpt}]
        code["text"] = f"Dry needling: {terms.cpt.get(visit.cpt, 'needle insertion without injection')}"
    notes = []
    for entry in visit.needling:
        name = terms.muscles.get(entry.muscle, entry.muscle)
        technique = terms.techniques.get(entry.technique, entry.technique)
        details = [
            f"{entry.needles} needle{'s' if entry.needles != 1 else ''}",
            f"{entry.length_mm:g} mm x {entry.gauge:g} mm",
            f"depth {entry.depth_mm:g} mm",
            technique,
            f"{entry.twitch_responses} local twitch response{'s' if entry.twitch_responses != 1 else ''}",
        ]
        if entry.duration_min is not None:
            details.append(f"left in {entry.duration_min:g} min")
        if entry.electrical_stimulation:
            details.append("electrical stimulation")
        if entry.ultrasound_guided:
            details.append("ultrasound guided")
        if entry.blocked_by:
            details.append(f"screening item {entry.blocked_by} overridden: {entry.override_reason}")
        notes.append({"text": f"{name} ({_side(entry.side)}): " + ", ".join(details)})
    notes.append(
        {
            "text": f"{visit.needles_in} needles in, {visit.needles_out} counted out; nothing injected; "
            f"{visit.muscle_count} distinct muscle{'s' if visit.muscle_count != 1 else ''}."
        }
    )
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": str(visit.id),
        "status": "completed",
        "code": code,
        "subject": ref(visit.patient_id),
        "performedDateTime": visit.visit_date.isoformat(),
        "performer": [{"actor": ref(visit.clinician_id)}],
        "bodySite": [
            {"text": f"{terms.muscles.get(entry.muscle, entry.muscle)}, {_side(entry.side)}"}
            for entry in visit.needling
        ],
        "note": notes,
    }
    if visit.signed_by and visit.signed_by != visit.clinician_id:
        resource["asserter"] = ref(visit.signed_by)
    if condition_id is not None:
        resource["reasonReference"] = [ref(condition_id)]
    return resource


def pain_observation(visit: Visit, when: str, score: int, procedure_id: uuid.UUID | None) -> dict[str, Any]:
    """NPRS 0-10 ``before`` or ``after`` needling in one visit."""
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(derived_id("pain", visit.id, when)),
        "status": "final",
        "code": {
            "coding": [{"system": LOINC, "code": PAIN_LOINC[0], "display": PAIN_LOINC[1]}],
            "text": f"Pain {when} needling (0-10)",
        },
        "subject": ref(visit.patient_id),
        "effectiveDateTime": visit.visit_date.isoformat(),
        "performer": [ref(visit.clinician_id)],
        "valueInteger": score,
        "note": [{"text": f"Reported {when} needling"}],
    }
    if procedure_id is not None:
        resource["partOf"] = [ref(procedure_id)]
    return resource


def adverse_event(visit: Visit, index: int, terms: Terms, procedure_id: uuid.UUID | None) -> dict[str, Any]:
    event = visit.adverse_events[index]
    severity = SEVERITY[event.severity]
    label = terms.adverse_events.get(event.category, event.category)
    resource: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "id": str(derived_id("adverse_event", visit.id, index)),
        "actuality": AE_ACTUALITY_ACTUAL,
        "event": {
            "coding": [{"system": ADVERSE_EVENT_CATEGORY_SYSTEM, "code": event.category, "display": label}],
            "text": label,
        },
        "subject": ref(visit.patient_id),
        "date": visit.visit_date.isoformat(),
        "recorder": ref(visit.clinician_id),
        "severity": {
            "coding": [{"system": AE_SEVERITY, "code": severity, "display": SEVERITY_DISPLAY[severity]}]
        },
    }
    if event.note:
        resource["extension"] = [{"url": ADVERSE_EVENT_NOTE_EXTENSION, "valueString": event.note}]
    if procedure_id is not None:
        resource["suspectEntity"] = [{"instance": ref(procedure_id)}]
    return resource


@dataclass(frozen=True)
class OutcomeScore:
    """One outcome measure score, in the simplest terms (the lead wires the outcome-measure records here)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    measure: str
    value: float
    taken_on: date | datetime
    performer_id: uuid.UUID | None = None
    note: str | None = None


def outcome_observations(
    scores: Iterable[OutcomeScore],
    terms: Terms,
    verified_loinc: Mapping[str, tuple[str, str]] = VERIFIED_MEASURE_LOINC,
) -> list[dict[str, Any]]:
    """Observations for outcome measure scores: LOINC where ``verified_loinc`` holds the measure's code,
    otherwise the product's local code system (never a guessed LOINC code)."""
    resources = []
    for score in scores:
        name = terms.measures.get(score.measure, score.measure)
        if score.measure in verified_loinc:
            loinc, display = verified_loinc[score.measure]
            coding = {"system": LOINC, "code": loinc, "display": display}
        else:
            coding = {"system": OUTCOME_MEASURE_SYSTEM, "code": score.measure, "display": name}
        value = score.value
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "id": str(score.id),
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "survey",
                        }
                    ]
                }
            ],
            "code": {"coding": [coding], "text": name},
            "subject": ref(score.patient_id),
            "effectiveDateTime": score.taken_on.isoformat(),
        }
        if float(value).is_integer():
            resource["valueInteger"] = int(value)
        else:
            resource["valueQuantity"] = {"value": value}
        if score.performer_id is not None:
            resource["performer"] = [ref(score.performer_id)]
        if score.note:
            resource["note"] = [{"text": score.note}]
        resources.append(resource)
    return resources


# -- the bundle ------------------------------------------------------------------------------------------
def resources(record: PatientRecord, terms: Terms) -> list[dict[str, Any]]:
    """Every resource of the export, in reading order: organisation, patient, practitioners, then per
    episode its condition, consents and signed visits (procedure, pain, adverse events)."""
    patient = record.patient
    out: list[dict[str, Any]] = [organization(record.clinic), patient_resource(patient)]
    # the record's practitioners first, then any other user the caller passed (e.g. who recorded a score)
    for user_id in dict.fromkeys([*referenced_users(record.episodes), *record.users]):
        user = record.users.get(user_id)
        if user is not None:
            out.append(practitioner(user))
    for item in record.episodes:
        cond = condition(item.episode, terms)
        cond_id = uuid.UUID(cond["id"]) if cond else None
        if cond:
            out.append(cond)
        out.extend(consent_resource(consent, patient.id) for consent in item.consents)
        for visit in item.visits:
            if not visit.signed:
                continue
            procedure_id = visit.id if visit.needling else None
            if visit.needling:
                out.append(procedure(visit, terms, cond_id))
            for when, score in (("before", visit.pain_before), ("after", visit.pain_after)):
                if score is not None:
                    out.append(pain_observation(visit, when, score, procedure_id))
            out.extend(
                adverse_event(visit, index, terms, procedure_id) for index in range(len(visit.adverse_events))
            )
    return out


def bundle(
    record: PatientRecord,
    terms: Terms,
    at: datetime,
    extra: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The patient's record as a FHIR ``collection`` Bundle (``extra``: more resources, e.g. from
    :func:`outcome_observations`). Every entry's ``fullUrl`` is ``urn:uuid:<id>`` and references point there."""
    entries = [*resources(record, terms), *extra]
    return {
        "resourceType": "Bundle",
        "id": str(derived_id("bundle", record.patient.id)),
        "type": "collection",
        "timestamp": _when(at),
        "entry": [{"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource} for resource in entries],
    }
