"""The per-visit tallies of the clinic dashboard (``visit_tallies``, see :mod:`dryneedling.db.tables`).

One row per visit says what the dashboard counts of it: whether it was a treatment, whether the clinician
reported a mild or a serious adverse event, what its patient answered (soreness in the first and second day,
events not dismissed). Every write that can change those (a visit recorded or its draft replaced, a
follow-up answered, patient-reported events added, confirmed or dismissed, a confirmed event appended to the
visit's adverse events) calls :func:`refresh` in its own transaction, which recomputes the visit's row from
the source rows with :func:`tally_select`, the same definitions the dashboard used to evaluate over every
visit on each read. Migration 0008 fills the table for the visits that existed before it with the same
definitions in plain SQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, delete, exists, func, insert, select

from dryneedling.db import tables as t

SERIOUS = ("significant", "major")
# Follow-ups due up to this many hours after the visit count as the first day's answer (24 h by default),
# later ones as the second's (48 h), whatever hours the clinic chose.
FIRST_DAY_HOURS = 36

_T = t.visit_tallies
COLUMNS = [column.name for column in _T.columns]


def _tallies_of(*where: Any) -> Select:
    """The tally rows of the visits ``where`` selects, computed from the visits, their adverse events,
    follow-ups and follow-up events; columns in the order of ``visit_tallies``."""
    v, a, f, e = t.visits, t.adverse_events, t.followups, t.followup_events

    def clinician_event(*severity) -> exists:
        # A patient's event a clinician confirmed is kept on the visit too, but it is patient-reported:
        # counted from the follow-up events, not here.
        return exists().where(
            a.c.clinic_id == v.c.clinic_id,
            a.c.visit_id == v.c.id,
            a.c.reported_by == "clinician",
            *severity,
        )

    answered_followup = and_(
        f.c.clinic_id == v.c.clinic_id, f.c.visit_id == v.c.id, f.c.answered_at.is_not(None)
    )

    def soreness(first_day: bool):
        due = f.c.hours_after <= FIRST_DAY_HOURS if first_day else f.c.hours_after > FIRST_DAY_HOURS
        return select(func.max(f.c.soreness)).where(answered_followup, due).scalar_subquery()

    def patient_event(*severity) -> exists:
        return exists().where(
            e.c.clinic_id == v.c.clinic_id, e.c.visit_id == v.c.id, e.c.status != "dismissed", *severity
        )

    statement = select(
        v.c.clinic_id,
        v.c.id.label("visit_id"),
        v.c.clinician_id,
        (v.c.muscle_count > 0).label("treated"),
        clinician_event(a.c.severity == "mild").label("clinician_mild"),
        clinician_event(a.c.severity.in_(SERIOUS)).label("clinician_serious"),
        exists().where(answered_followup).label("answered"),
        soreness(True).label("soreness_24h"),
        soreness(False).label("soreness_48h"),
        patient_event(e.c.severity == "mild").label("patient_mild"),
        patient_event(e.c.severity.in_(SERIOUS)).label("patient_serious"),
    ).where(*where)
    return statement


def tally_select(clinic_id: uuid.UUID, visit_ids: Iterable[uuid.UUID] | None = None) -> Select:
    """The tally rows of the clinic's visits (of ``visit_ids`` only, when given), from their source rows."""
    where = [t.visits.c.clinic_id == clinic_id]
    if visit_ids is not None:
        where.append(t.visits.c.id.in_(list(visit_ids)))
    return _tallies_of(*where)


# Built once with bound parameters: refresh runs on every visit, answer and event write, and building this
# statement and its cache key anew cost more than running it (1.5 ms a visit on SQLite at 100,000 visits,
# 0.1 ms built once).
_DELETE_ONE = delete(_T).where(
    _T.c.clinic_id == bindparam("clinic_id"), _T.c.visit_id == bindparam("visit_id")
)
_INSERT_ONE = insert(_T).from_select(
    COLUMNS,
    _tallies_of(t.visits.c.clinic_id == bindparam("clinic_id"), t.visits.c.id == bindparam("visit_id")),
)


def refresh(connection: Connection, clinic_id: uuid.UUID, visit_ids: Iterable[uuid.UUID]) -> None:
    """Recompute the tallies of ``visit_ids`` (of one clinic) from their source rows, in the caller's
    transaction."""
    for visit_id in dict.fromkeys(visit_ids):
        params = {"clinic_id": clinic_id, "visit_id": visit_id}
        connection.execute(_DELETE_ONE, params)
        connection.execute(_INSERT_ONE, params)


def rebuild(connection: Connection, clinic_id: uuid.UUID) -> None:
    """Recompute every tally of the clinic (after rows were written around the use cases, e.g. a bulk
    copy)."""
    connection.execute(delete(_T).where(_T.c.clinic_id == clinic_id))
    connection.execute(insert(_T).from_select(COLUMNS, tally_select(clinic_id)))


__all__ = ["FIRST_DAY_HOURS", "SERIOUS", "rebuild", "refresh", "tally_select"]
