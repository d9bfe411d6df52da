"""The SQL side of outcome measures and the clinic dashboard (one clinic each, aggregates in the database).

The dashboard's reads are GROUP BY queries: per clinician treatment and event counts, and a histogram of
per-episode changes (latest minus baseline) over ``outcome_series``, one row per episode and measure that
:meth:`SqlOutcomes.add_score` keeps in step, so 100,000 visits are summed by the database and only a few
hundred rows reach Python.
"""

from __future__ import annotations

import uuid

from sqlalchemy import and_, case, delete, func, or_, select

from dryneedling.db import tables as t
from dryneedling.db.store import SqlClinicRecords, _row
from dryneedling.outcomes.dashboard import ClinicianInfo, OutcomeChange, PatientAnswer, TreatmentCount
from dryneedling.records.outcomes import OutcomeScore

_O = t.outcome_scores
_S = t.outcome_series
SERIOUS = ("significant", "major")
# Follow-ups due up to this many hours after the visit count as the first day's answer (24 h by default),
# later ones as the second's (48 h), whatever hours the clinic chose.
FIRST_DAY_HOURS = 36


class SqlOutcomes(SqlClinicRecords):
    def add_score(self, score: OutcomeScore) -> None:
        self._insert(_O, score.model_dump(exclude={"clinic_id"}))
        self._refresh_series(score.episode_id, score.measure, score.variant)

    def _refresh_series(self, episode_id: uuid.UUID, measure: str, variant: str | None) -> None:
        """Recompute the episode's first and latest score of ``measure`` (a back-dated score may be either)."""
        same_variant = _O.c.variant.is_(None) if variant is None else _O.c.variant == variant
        rows = self.connection.execute(
            self.scoped(_O, _O.c.measured_on, _O.c.score)
            .where(_O.c.episode_id == episode_id, _O.c.measure == measure, same_variant)
            .order_by(_O.c.measured_on, _O.c.created_at, _O.c.id)
        ).all()
        episode = self.connection.execute(
            self.scoped(t.episodes, t.episodes.c.condition, t.episodes.c.created_by).where(
                t.episodes.c.id == episode_id
            )
        ).one()
        key = {"episode_id": episode_id, "measure": measure, "variant_key": variant or ""}
        self.connection.execute(
            delete(_S).where(
                _S.c.clinic_id == self.clinic_id, *(_S.c[name] == value for name, value in key.items())
            )
        )
        self._insert(
            _S,
            {
                **key,
                "condition": episode.condition,
                "opened_by": episode.created_by,
                "scores": len(rows),
                "first_on": rows[0].measured_on,
                "first_score": rows[0].score,
                "last_on": rows[-1].measured_on,
                "last_score": rows[-1].score,
                "change": round(rows[-1].score - rows[0].score, 4),
            },
        )

    def scores_of(self, episode_id: uuid.UUID) -> list[OutcomeScore]:
        statement = (
            self.scoped(_O)
            .where(_O.c.episode_id == episode_id)
            .order_by(_O.c.measured_on, _O.c.created_at, _O.c.id)
        )
        return [OutcomeScore.model_validate(_row(row)) for row in self.connection.execute(statement)]

    def treatment_counts(self) -> list[TreatmentCount]:
        # Two aggregates, each over one covering index: treatments per clinician, and per clinician the
        # treatments with at least one mild / serious event (events grouped per visit first).
        a, v = t.adverse_events, t.visits
        treatments = (
            self.scoped(v, v.c.clinician_id, func.count().label("n"))
            .where(v.c.muscle_count > 0)
            .group_by(v.c.clinician_id)
        )
        per_visit = (
            self.scoped(
                a,
                v.c.clinician_id,
                func.max(case((a.c.severity == "mild", 1), else_=0)).label("mild"),
                func.max(case((a.c.severity.in_(SERIOUS), 1), else_=0)).label("serious"),
            )
            .select_from(a.join(v, and_(v.c.clinic_id == a.c.clinic_id, v.c.id == a.c.visit_id)))
            # a patient's event a clinician confirmed is kept on the visit too, but it is patient-reported:
            # counted in patient_answers, not here
            .where(v.c.muscle_count > 0, a.c.reported_by == "clinician")
            .group_by(a.c.visit_id, v.c.clinician_id)
            .subquery()
        )
        events = select(
            per_visit.c.clinician_id,
            func.sum(per_visit.c.mild).label("mild"),
            func.sum(per_visit.c.serious).label("serious"),
        ).group_by(per_visit.c.clinician_id)
        flagged = {
            row.clinician_id: (int(row.mild), int(row.serious)) for row in self.connection.execute(events)
        }
        return [
            TreatmentCount(str(row.clinician_id), int(row.n), *flagged.get(row.clinician_id, (0, 0)))
            for row in self.connection.execute(treatments)
        ]

    def patient_answers(self) -> list[PatientAnswer]:
        """The answered visits grouped by what their patients answered: per clinician, soreness in the first
        day (a follow-up due up to 36 h after the visit) and the second (later ones), and whether a mild or a
        significant/major event was reported that a clinician has not dismissed, with how many visits gave
        each combination (a few hundred rows, however many visits)."""
        f, v, e = t.followups, t.visits, t.followup_events
        first_day = f.c.hours_after <= FIRST_DAY_HOURS
        per_visit = (
            self.scoped(
                f,
                v.c.clinician_id,
                f.c.visit_id,
                func.max(case((first_day, f.c.soreness))).label("soreness_24h"),
                func.max(case((~first_day, f.c.soreness))).label("soreness_48h"),
            )
            .join(v, and_(v.c.clinic_id == f.c.clinic_id, v.c.id == f.c.visit_id))
            .where(f.c.answered_at.is_not(None))
            .group_by(v.c.clinician_id, f.c.visit_id)
            .subquery()
        )
        reported = (
            self.scoped(
                e,
                e.c.visit_id,
                func.max(case((e.c.severity == "mild", 1), else_=0)).label("mild"),
                func.max(case((e.c.severity.in_(SERIOUS), 1), else_=0)).label("serious"),
            )
            .where(e.c.status != "dismissed")
            .group_by(e.c.visit_id)
            .subquery()
        )
        mild = func.coalesce(reported.c.mild, 0).label("mild")
        serious = func.coalesce(reported.c.serious, 0).label("serious")
        grouped = (
            select(
                per_visit.c.clinician_id,
                per_visit.c.soreness_24h,
                per_visit.c.soreness_48h,
                mild,
                serious,
                func.count().label("n"),
            )
            .select_from(per_visit.outerjoin(reported, reported.c.visit_id == per_visit.c.visit_id))
            .group_by(
                per_visit.c.clinician_id, per_visit.c.soreness_24h, per_visit.c.soreness_48h, mild, serious
            )
        )
        return [
            PatientAnswer(
                clinician_id=str(row.clinician_id),
                soreness_24h=row.soreness_24h,
                soreness_48h=row.soreness_48h,
                mild=bool(row.mild),
                serious=bool(row.serious),
                count=int(row.n),
            )
            for row in self.connection.execute(grouped)
        ]

    def outcome_changes(self, clinician_id: uuid.UUID | None = None) -> list[OutcomeChange]:
        statement = (
            self.scoped(
                _S, _S.c.condition, _S.c.measure, _S.c.variant_key, _S.c.change, func.count().label("n")
            )
            .where(_S.c.scores > 1)
            .group_by(_S.c.condition, _S.c.measure, _S.c.variant_key, _S.c.change)
        )
        if clinician_id is not None:
            treated = self.scoped(t.visits, t.visits.c.episode_id).where(
                t.visits.c.clinician_id == clinician_id
            )
            statement = statement.where(or_(_S.c.opened_by == clinician_id, _S.c.episode_id.in_(treated)))
        return [
            OutcomeChange(row.condition, row.measure, row.variant_key or None, float(row.change), int(row.n))
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
