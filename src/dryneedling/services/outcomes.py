"""Use cases of outcome measures and the clinic dashboard, shared by the JSON API and the records pages.

Who may do what:
- record a score: owners and clinicians (the roles that treat); any role of the clinic may read an episode's
  progress, as it may read the episode itself;
- the dashboard: owners and auditors see the whole clinic; a clinician sees their own treatments, answers and
  episodes (the clinic's mean stays the funnel's centre line); assistants may not (it compares clinicians and
  shows clinical results, a quality review for those who run or audit the clinic).
Another clinic's episode is "not found" (404), never "forbidden".
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import date as Date
from typing import Any

from pydantic import Field, field_validator

from dryneedling.catalog import Catalog
from dryneedling.errors import InputError
from dryneedling.outcomes import scoring
from dryneedling.outcomes.dashboard import Dashboard, build_dashboard
from dryneedling.outcomes.evidence_line import evidence_line
from dryneedling.outcomes.progress import MeasureProgress, Point, measure_progress
from dryneedling.records.entities import CLINICAL_ROLES, Episode, User
from dryneedling.records.errors import Forbidden, NotFound
from dryneedling.records.outcomes import OutcomeScore, OutcomeStore
from dryneedling.services.records import IsoDate, _In, refuse_before_birth

RECORDING_ROLES = CLINICAL_ROLES
CLINIC_DASHBOARD_ROLES = ("owner", "auditor")
OWN_DASHBOARD_ROLES = ("clinician",)


def _now() -> datetime:
    return datetime.now(UTC)


class OutcomeIn(_In):
    """A score of an outcome measure: ``score`` (a total) or ``items`` (answers by position), on ``date``."""

    measure: str = Field(description="Measure id from the knowledge base (e.g. nprs, ndi, lefs, psfs)")
    score: float | None = Field(None, description="The total, on the measure's scale")
    items: list[float] | None = Field(
        None, max_length=scoring.MAX_NAMED_ITEMS, description="Item answers, where the licence allows items"
    )
    variant: str | None = Field(None, description="The version or subscale, for measures that have them")
    date: IsoDate | None = Field(None, description="When it was measured (default: today)")

    @field_validator("date")
    @classmethod
    def _not_in_future(cls, value: Date | None) -> Date | None:
        if value is not None and (value > Date.today() + timedelta(days=1) or value.year < 1900):
            raise ValueError("must be a date between 1900 and today")
        return value


def record_outcome(
    store: OutcomeStore, catalog: Catalog, user: User, episode_id: uuid.UUID, data: OutcomeIn
) -> OutcomeScore:
    """Keep one checked score for the episode (scored by the knowledge base's rules)."""
    if user.role not in RECORDING_ROLES:
        raise Forbidden(f"the {user.role} role may not record outcome measures")
    kb = catalog.kb
    if data.measure not in kb.measures:
        recordable = [m for m in kb.measures.values() if scoring.recordable(m)]
        raise InputError.unknown("measure", data.measure, [m.id for m in recordable], kind="measure")
    scored = scoring.score(kb.measures[data.measure], data.score, data.items, data.variant)
    with store.outcomes(user.clinic_id) as records:
        episode = records.episode(episode_id, latest_only=True)
        if episode is None:
            raise NotFound("episode")
        if data.date is not None:  # a score before birth would become the episode's baseline
            refuse_before_birth(records, episode, data.date, "date")
        record = OutcomeScore(
            clinic_id=user.clinic_id,
            id=uuid.uuid4(),
            episode_id=episode_id,
            measure=scored.measure,
            variant=scored.variant,
            score=scored.score,
            items=list(scored.items) if scored.items is not None else None,
            measured_on=data.date or Date.today(),
            recorded_by=user.id,
            created_at=_now(),
        )
        records.add_score(record)
        records.audit(
            user,
            "create",
            "outcome_score",
            record.id,
            after={"episode": str(episode_id), "measure": record.measure, "score": record.score},
        )
    return record


@dataclass(frozen=True)
class Progress:
    episode: Episode
    measures: list[MeasureProgress]
    scores: list[OutcomeScore]

    def as_dict(self) -> dict[str, Any]:
        return {"measures": [m.as_dict() for m in self.measures]}


def progress(store: OutcomeStore, catalog: Catalog, user: User, episode_id: uuid.UUID) -> Progress:
    """Each measure of the episode over time against its baseline and the MCID that applies."""
    with store.outcomes(user.clinic_id) as records:
        episode = records.episode(episode_id, latest_only=True)
        if episode is None:
            raise NotFound("episode")
        records.audit(user, "read", "progress", episode_id)
        scores = records.scores_of(episode_id)
    grouped: dict[tuple[str, str | None], list[Point]] = defaultdict(list)
    for found in scores:
        grouped[(found.measure, found.variant)].append(Point(found.measured_on, found.score))
    measures = [
        measure_progress(catalog.kb.measures[measure], points, episode.condition, variant)
        for (measure, variant), points in grouped.items()
        if measure in catalog.kb.measures
    ]
    measures.sort(key=lambda m: (m.name, m.variant or ""))
    return Progress(episode=episode, measures=measures, scores=scores)


def dashboard_scope(user: User) -> str:
    """``clinic`` or ``own`` for the user's role; Forbidden for a role that may not see the dashboard."""
    if user.role in CLINIC_DASHBOARD_ROLES:
        return "clinic"
    if user.role in OWN_DASHBOARD_ROLES:
        return "own"
    raise Forbidden(f"the {user.role} role may not see the clinic dashboard")


def dashboard(store: OutcomeStore, catalog: Catalog, user: User) -> Dashboard:
    """The clinic dashboard for ``user`` (see the module docstring for who sees what)."""
    scope = dashboard_scope(user)
    with store.outcomes(user.clinic_id) as records:
        records.audit(user, "read", "dashboard", None)
        counts, answers = records.visit_counts()
        changes = records.outcome_changes(user.id if scope == "own" else None)
        clinicians = records.clinicians()
    return build_dashboard(
        kb=catalog.kb,
        catalog_version=catalog.version,
        benchmarks=catalog.benchmarks,
        scope=scope,  # type: ignore[arg-type]
        viewer_id=str(user.id),
        counts=counts,
        answers=answers,
        changes=changes,
        clinicians=clinicians,
        evidence=lambda condition: evidence_line(catalog, condition),
    )
