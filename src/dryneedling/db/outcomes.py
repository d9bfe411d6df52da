"""The SQL side of outcome measures and the clinic dashboard (one clinic each, aggregates in the database).

The dashboard's reads are GROUP BY queries: per clinician treatment and event counts, and a histogram of
per-episode changes (latest minus baseline, found with window functions), so 100,000 visits are summed by
the database and only a few hundred rows reach Python.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Numeric, and_, case, cast, func, or_, select

from dryneedling.db import tables as t
from dryneedling.db.store import SqlClinicRecords, _row
from dryneedling.outcomes.dashboard import ClinicianInfo, OutcomeChange, PatientAnswer, TreatmentCount
from dryneedling.records.outcomes import OutcomeScore

_O = t.outcome_scores
SERIOUS = ("significant", "major")


class SqlOutcomes(SqlClinicRecords):
    def add_score(self, score: OutcomeScore) -> None:
        self._insert(_O, score.model_dump(exclude={"clinic_id"}))

    def scores_of(self, episode_id: uuid.UUID) -> list[OutcomeScore]:
        statement = (
            self.scoped(_O)
            .where(_O.c.episode_id == episode_id)
            .order_by(_O.c.measured_on, _O.c.created_at, _O.c.id)
        )
        return [OutcomeScore.model_validate(_row(row)) for row in self.connection.execute(statement)]

    def treatment_counts(self) -> list[TreatmentCount]:
        a, v = t.adverse_events, t.visits
        per_visit = (
            self.scoped(
                a,
                a.c.visit_id,
                func.max(case((a.c.severity == "mild", 1), else_=0)).label("mild"),
                func.max(case((a.c.severity.in_(SERIOUS), 1), else_=0)).label("serious"),
            )
            .group_by(a.c.visit_id)
            .subquery()
        )
        statement = (
            self.scoped(
                v,
                v.c.clinician_id,
                func.count().label("treatments"),
                func.coalesce(func.sum(per_visit.c.mild), 0).label("mild"),
                func.coalesce(func.sum(per_visit.c.serious), 0).label("serious"),
            )
            .select_from(v.outerjoin(per_visit, per_visit.c.visit_id == v.c.id))
            .where(v.c.muscle_count > 0)
            .group_by(v.c.clinician_id)
        )
        return [
            TreatmentCount(str(row.clinician_id), int(row.treatments), int(row.mild), int(row.serious))
            for row in self.connection.execute(statement)
        ]

    def patient_answers(self) -> list[PatientAnswer]:
        # TODO(followup-merge): the patient follow-up (issue 11 part 1) is built on another branch. After the
        # merge, return one PatientAnswer per answered follow-up of this clinic: the visit's clinician_id,
        # soreness 0-10 at 24 h and 48 h (None when not answered) and whether the patient reported a mild or a
        # significant/major event. Until then there are no answers and the dashboard says so.
        return []

    def outcome_changes(self, clinician_id: uuid.UUID | None = None) -> list[OutcomeChange]:
        key = (_O.c.episode_id, _O.c.measure, _O.c.variant)
        first = func.row_number().over(
            partition_by=key, order_by=(_O.c.measured_on, _O.c.created_at, _O.c.id)
        )
        last = func.row_number().over(
            partition_by=key, order_by=(_O.c.measured_on.desc(), _O.c.created_at.desc(), _O.c.id.desc())
        )
        ranked = self.scoped(
            _O, *key, _O.c.score, first.label("first_rank"), last.label("last_rank")
        ).subquery()
        change = func.max(case((ranked.c.last_rank == 1, ranked.c.score))) - func.max(
            case((ranked.c.first_rank == 1, ranked.c.score))
        )
        pairs = (
            select(ranked.c.episode_id, ranked.c.measure, ranked.c.variant, change.label("change"))
            .group_by(ranked.c.episode_id, ranked.c.measure, ranked.c.variant)
            .having(func.count() > 1)
            .subquery()
        )
        e = t.episodes
        rounded = func.round(cast(pairs.c.change, Numeric), 4)
        statement = (
            select(
                e.c.condition,
                pairs.c.measure,
                pairs.c.variant,
                rounded.label("change"),
                func.count().label("n"),
            )
            .select_from(pairs.join(e, and_(e.c.clinic_id == self.clinic_id, e.c.id == pairs.c.episode_id)))
            .group_by(e.c.condition, pairs.c.measure, pairs.c.variant, rounded)
        )
        if clinician_id is not None:
            treated = self.scoped(t.visits, t.visits.c.episode_id).where(
                t.visits.c.clinician_id == clinician_id
            )
            statement = statement.where(or_(e.c.created_by == clinician_id, e.c.id.in_(treated)))
        return [
            OutcomeChange(row.condition, row.measure, row.variant, float(row.change), int(row.n))
            for row in self.connection.execute(statement)
        ]

    def clinicians(self) -> list[ClinicianInfo]:
        u = t.users
        statement = self.scoped(u, u.c.id, u.c.name, u.c.training_hours).where(
            u.c.role.in_(("owner", "clinician"))
        )
        return [
            ClinicianInfo(str(row.id), row.name, row.training_hours)
            for row in self.connection.execute(statement)
        ]


__all__ = ["SqlOutcomes"]
