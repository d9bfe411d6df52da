"""The SQL side of outcome measures and the clinic dashboard (one clinic each, aggregates in the database).

The dashboard's reads are GROUP BY queries over small rows kept in step by the writes: per clinician
treatment, event and answer counts over ``visit_tallies`` (one row per visit, :mod:`dryneedling.db.tallies`),
and a histogram of per-episode changes (latest minus baseline) over ``outcome_series``, one row per episode
and measure that :meth:`SqlOutcomes.add_score` keeps in step, so 100,000 visits are summed by the database
from covering indexes and only a few hundred rows reach Python.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, or_

from dryneedling.db import tables as t
from dryneedling.db.store import SqlClinicRecords, _row
from dryneedling.outcomes.dashboard import ClinicianInfo, OutcomeChange, PatientAnswer, TreatmentCount
from dryneedling.records.outcomes import OutcomeScore

_O = t.outcome_scores
_S = t.outcome_series
_V = t.visit_tallies


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

    def visit_counts(self) -> tuple[list[TreatmentCount], list[PatientAnswer]]:
        """Per clinician the treatments (visits with needling) and of those the ones with a mild / a serious
        adverse event the clinician reported; and the answered visits grouped by what their patients answered
        (soreness in the first day, a follow-up due up to 36 h after the visit, and the second; a mild or a
        significant/major event not dismissed), with how many visits gave each combination. One read: the
        visits' tallies grouped by every column, in the order of their covering index, so the database
        streams the index once without sorting and a few hundred groups reach Python, however many visits."""
        v = _V
        grouped = (
            v.c.clinician_id,
            v.c.treated,
            v.c.clinician_mild,
            v.c.clinician_serious,
            v.c.answered,
            v.c.soreness_24h,
            v.c.soreness_48h,
            v.c.patient_mild,
            v.c.patient_serious,
        )
        statement = self.scoped(v, *grouped, func.count().label("n")).group_by(*grouped)
        treatments: dict[str, list[int]] = {}
        answers: dict[tuple, int] = {}
        for row in self.connection.execute(statement):
            clinician, n = str(row.clinician_id), int(row.n)
            if row.treated:
                counts = treatments.setdefault(clinician, [0, 0, 0])
                counts[0] += n
                counts[1] += n if row.clinician_mild else 0
                counts[2] += n if row.clinician_serious else 0
            if row.answered:
                key = (
                    clinician,
                    row.soreness_24h,
                    row.soreness_48h,
                    bool(row.patient_mild),
                    bool(row.patient_serious),
                )
                answers[key] = answers.get(key, 0) + n
        return (
            [TreatmentCount(clinician, *counts) for clinician, counts in treatments.items()],
            [
                PatientAnswer(
                    clinician_id=clinician,
                    soreness_24h=soreness_24h,
                    soreness_48h=soreness_48h,
                    mild=mild,
                    serious=serious,
                    count=n,
                )
                for (clinician, soreness_24h, soreness_48h, mild, serious), n in answers.items()
            ],
        )

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
