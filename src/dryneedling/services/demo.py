"""Use case: fill a clearly marked demo clinic with synthetic patients, episodes, consent, visits and
adverse events, so a new user can look around and benchmarks have data.

Everything goes through the same use cases as real records (assessment, consent, visit checks, signing).
Names are synthetic; adverse events are drawn per visit with the per-treatment rates of the knowledge base
(Brady 2014, from ``records/practice.yaml``), so the demo's rates look like published practice. Each episode
gets up to two of its condition's outcome measures at the first and the last visit (and one in between
when there are four or more), drawn around the measure's MCID so some episodes reach it and some do not.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from dryneedling.catalog import Catalog
from dryneedling.records.entities import Training, User
from dryneedling.records.repository import Store
from dryneedling.services import accounts
from dryneedling.services import outcomes as outcome_service
from dryneedling.services import records as service
from dryneedling.services.demo_followups import DemoFollowUps, add_history

FIRST = [
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Ella",
    "Finn",
    "Grace",
    "Hugo",
    "Isla",
    "Jon",
    "Kai",
    "Lena",
    "Mia",
    "Noah",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Vik",
    "Wren",
    "Yara",
    "Zoe",
]
LAST = [
    "Abbott",
    "Bauer",
    "Castillo",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Silva",
    "Tanaka",
    "Urban",
    "Varga",
    "Weber",
    "Xu",
    "Young",
    "Zimmer",
]
# Patients seeded per transaction: a commit per use case set the pace of a large seed.
BATCH_PATIENTS = 100
MEDICINES = [("aspirin", 0.08), ("warfarin", 0.02), ("ibuprofen", 0.10)]


def _outcome_plan(rng: random.Random, catalog: Catalog, condition: str) -> list[str]:
    """Up to two recordable measures of the condition (its recommended ones), or NPRS."""
    from dryneedling.outcomes.scoring import recordable

    kb = catalog.kb
    measures = [
        m for m in kb.conditions[condition].measures if m in kb.measures and recordable(kb.measures[m])
    ]
    return rng.sample(measures, k=min(2, len(measures))) if measures else ["nprs"]


def _synthetic_scores(rng: random.Random, catalog: Catalog, measure_id: str, condition: str, points: int):
    """``points`` scores of one measure for one episode, baseline first, improving around the MCID."""
    from dryneedling.outcomes.progress import choose_mcid
    from dryneedling.outcomes.scoring import scale

    measure = catalog.kb.measures[measure_id]
    variant = measure.variants[0].id if measure.variants else None
    low, high = scale(measure, variant)
    low = 0.0 if low is None else low
    high = low + 500 if high is None else high
    span = high - low
    mcid = choose_mcid(measure, condition, variant)
    step = mcid.value if mcid else span / 10
    better = -1 if measure.direction == "higher_worse" else 1
    whole = span >= 10
    # baseline on the worse side of the scale
    start = low + span * (rng.uniform(0.5, 0.85) if better < 0 else rng.uniform(0.15, 0.5))
    gain = rng.gauss(1.3 * step, 1.0 * step)
    scores = []
    for i in range(points):
        value = start + better * gain * (i / max(1, points - 1))
        value = min(high, max(low, value))
        scores.append(round(value) if whole else round(value, 1))
    return variant, scores


def _record_outcomes(
    store: Store,
    rng: random.Random,
    catalog: Catalog,
    clinician: User,
    episode_id,
    condition: str,
    days: list[date],
) -> int:
    """Score the episode's measures at its first and last visit (and the middle one from four visits)."""
    if not days:
        return 0
    chosen = [0, len(days) - 1] if len(days) > 1 else [0]
    if len(days) >= 4:
        chosen.insert(1, len(days) // 2)
    recorded = 0
    for measure_id in _outcome_plan(rng, catalog, condition):
        variant, scores = _synthetic_scores(rng, catalog, measure_id, condition, len(chosen))
        for index, value in zip(chosen, scores, strict=True):
            outcome_service.record_outcome(
                store,
                catalog,
                clinician,
                episode_id,
                outcome_service.OutcomeIn(
                    measure=measure_id, score=float(value), variant=variant, date=days[index]
                ),
            )
            recorded += 1
    return recorded


@dataclass(frozen=True)
class DemoSummary:
    clinic_id: str
    owner_email: str
    owner_token: str
    patients: int
    episodes: int
    visits: int
    adverse_events: int
    followups_answered: int = 0
    followups_pending: int = 0
    followups_expired: int = 0
    patient_reported_events: int = 0
    outcome_scores: int = 0


def _profile(rng: random.Random, catalog: Catalog, age: int, sex: str) -> dict:
    conditions = [c for c in catalog.kb.conditions.values() if c.painful_regions]
    condition = rng.choice(conditions)
    regions = list(condition.painful_regions)
    medications = [name for name, share in MEDICINES if rng.random() < share]
    return {
        "age": age,
        "sex": sex,
        "condition": condition.id,
        "pain_regions": rng.sample(regions, k=min(len(regions), rng.choice([1, 2, 2, 3]))),
        "side": rng.choice(["left", "right", None]),
        "duration_weeks": rng.choice([2, 4, 8, 12, 26, 52]),
        "pain_nprs": rng.randint(3, 8),
        "medications": medications,
        "consent": True,
    }


def _needling(rng: random.Random, report: dict, side: str | None) -> list[dict]:
    blocked = service.blocked_muscles(report)
    if "*" in blocked:
        return []
    muscles = [m["muscle"] for m in report.get("candidate_muscles") or [] if m["muscle"] not in blocked]
    if not muscles:
        return []
    count = min(len(muscles), rng.choices([1, 2, 3, 4], weights=[30, 30, 25, 15])[0])
    entries = []
    for muscle in rng.sample(muscles, k=count):
        length = rng.choice([30, 30, 40, 50])
        entries.append(
            {
                "muscle": muscle,
                "side": side or rng.choice(["left", "right"]),
                "needles": rng.choices([1, 2, 3, 4], weights=[35, 35, 20, 10])[0],
                "length_mm": length,
                "gauge": rng.choice([0.25, 0.25, 0.30]),
                "depth_mm": round(length * rng.uniform(0.3, 0.7)),
                "technique": rng.choices(["fast_in_fast_out", "static", "rotation"], weights=[60, 30, 10])[0],
                "twitch_responses": min(8, int(rng.expovariate(0.6))),
                "electrical_stimulation": rng.random() < 0.1,
                "ultrasound_guided": rng.random() < 0.05,
            }
        )
    return entries


def seed(store: Store, catalog: Catalog, patients: int, random_seed: int = 1) -> DemoSummary:
    """Make a demo clinic with ``patients`` synthetic patients (about 3 visits each)."""
    rng = random.Random(random_seed)
    clinic = accounts.add_clinic(store, "Demo clinic (synthetic patients, not real people)", demo=True)
    tag = clinic.id.hex[:8]
    owner_email = f"owner.{tag}@demo.invalid"
    accounts.add_user(store, clinic.id, owner_email, "owner", None, name="Demo Owner")
    clinicians: list[User] = [
        accounts.add_user(
            store,
            clinic.id,
            f"clinician{i}.{tag}@demo.invalid",
            "clinician",
            None,
            name=f"Demo Clinician {i}",
            training=Training(
                hours=rng.choice([27, 54, 80]), course="Synthetic DN course", jurisdiction="Demo"
            ),
        )
        for i in (1, 2, 3)
    ]
    accounts.add_user(
        store, clinic.id, f"assistant.{tag}@demo.invalid", "assistant", None, name="Demo Assistant"
    )
    accounts.add_user(store, clinic.id, f"auditor.{tag}@demo.invalid", "auditor", None, name="Demo Auditor")
    rates = {c.id: c.rates.get("brady_2014", 0.0) / 100 for c in catalog.practice.adverse_events}
    today = date.today()
    episodes = visits = events = scores = 0
    # A separate stream for outcome scores, so adding them left the rest of the demo exactly as it was.
    outcome_rng = random.Random(random_seed + 7919)
    followups = DemoFollowUps()
    for first in range(0, patients, BATCH_PATIENTS):
        # a batch of patients in one transaction (when the store offers it): the same use cases and checks
        with _batch(store) as batch:
            for number in range(first, min(first + BATCH_PATIENTS, patients)):
                counts = _seed_patient(
                    batch, catalog, rng, clinicians, rates, today, tag, number, followups, outcome_rng
                )
                episodes, visits, events = episodes + counts[0], visits + counts[1], events + counts[2]
                scores += counts[3]
    token = accounts.issue_token(store, owner_email, name="demo")
    return DemoSummary(
        clinic_id=str(clinic.id),
        owner_email=owner_email,
        owner_token=token,
        patients=patients,
        episodes=episodes,
        visits=visits,
        adverse_events=events,
        followups_answered=followups.answered,
        followups_pending=followups.pending,
        followups_expired=followups.expired,
        patient_reported_events=followups.events,
        outcome_scores=scores,
    )


def _seed_patient(
    store: Store,
    catalog: Catalog,
    rng: random.Random,
    clinicians: list[User],
    rates: dict[str, float],
    today: date,
    tag: str,
    number: int,
    followups: DemoFollowUps,
    outcome_rng: random.Random,
) -> tuple[int, int, int, int]:
    """One synthetic patient with their episodes, consent and visits, and the patient's answers to the
    follow-up links of signed visits (counted in ``followups``) and outcome scores over the episode;
    (episodes, visits, adverse events, outcome scores)."""

    episodes = visits = events = scores = 0
    clinician = rng.choice(clinicians)
    age = rng.randint(18, 85)
    sex = rng.choices(["female", "male"], weights=[60, 40])[0]
    patient = service.create_patient(
        store,
        clinician,
        service.PatientIn(
            name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            birth_date=date(today.year - age, rng.randint(1, 12), rng.randint(1, 28)),
            sex=sex,
            external_id=f"DEMO-{tag}-{number + 1:06d}",
        ),
    )
    for _ in range(rng.choices([1, 2], weights=[85, 15])[0]):
        profile = _profile(rng, catalog, age, sex)
        episode = service.create_episode(
            store, catalog, clinician, patient.id, service.EpisodeIn(profile=profile)
        )
        episodes += 1
        report = episode.assessments[-1].report
        day = today - timedelta(days=rng.randint(70, 365))  # six visits at most 10 days apart end by today
        service.record_consent(
            store,
            catalog,
            clinician,
            episode.id,
            service.ConsentIn(signed_by="patient", signer_name=patient.name, copy_given=True),
            synthetic_signed_at=datetime.combine(day, time(8, 30), UTC),  # before the first visit
        )
        days: list[date] = []
        for _ in range(rng.choice([1, 2, 2, 3, 3, 4, 5, 6])):
            days.append(day)
            needling = _needling(rng, report, profile["side"])
            before = rng.randint(2, 8)
            adverse = [
                {"category": category, "severity": "mild"}
                for category, rate in rates.items()
                if needling and rng.random() < rate
            ]
            visit = service.record_visit(
                store,
                catalog,
                clinician,
                episode.id,
                service.VisitIn(
                    visit_date=day,
                    subjective="Synthetic demo visit.",
                    pain_before=before,
                    pain_after=max(0, before - rng.randint(0, 3)),
                    heat_before=rng.random() < 0.3,
                    heat_after=rng.random() < 0.4,
                    needling=needling,
                    needles_out=sum(entry["needles"] for entry in needling),
                    clean_technique=True,
                    sharps_disposed=True,
                    adverse_events=adverse,
                    plan="Review soreness at 24-48 h; continue home exercise.",
                ),
            )
            visits += 1
            events += len(adverse)
            if rng.random() < 0.9:
                service.sign_visit(store, clinician, visit.id, catalog)
                add_history(store, catalog, clinician, visit, rng, followups)
                if rng.random() < 0.05:
                    service.amend_visit(
                        store,
                        clinician,
                        visit.id,
                        service.AmendmentIn(text="Demo amendment: corrected LTR count."),
                    )
            day += timedelta(days=rng.randint(4, 10))
        scores += _record_outcomes(
            store, outcome_rng, catalog, clinician, episode.id, profile["condition"], days
        )
    return episodes, visits, events, scores


@contextmanager
def _batch(store: Store) -> Iterator[Store]:
    """One transaction for a batch of use cases where the store offers it (SqlStore.batch), else the store."""
    batch = getattr(store, "batch", None)
    if batch is None:
        yield store
        return
    with batch() as one:
        yield one
