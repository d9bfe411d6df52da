"""The SQL implementation of :mod:`dryneedling.records.repository`.

:class:`ClinicScoped` is the one base of every clinic repository (polar's kit/repository pattern): each read
starts from :meth:`ClinicScoped.scoped`, a ``SELECT`` already filtered by the caller's clinic, and each write
sets ``clinic_id`` itself, so no query can reach another clinic's rows.
"""

from __future__ import annotations

import hmac
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, and_, delete, insert, or_, select, update

from dryneedling.db import tables as t
from dryneedling.records.entities import (
    AdverseEvent,
    Amendment,
    Assessment,
    Clinic,
    Consent,
    Episode,
    NeedlingEntry,
    Patient,
    Training,
    User,
    Visit,
)


def name_key(text: str) -> str:
    """A name folded for search: no accents, no case, hyphens and apostrophes as spaces, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without a zone; every stored time is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _row(row: Any) -> dict[str, Any]:
    return {
        key: _aware(value) if isinstance(value, datetime) else value for key, value in row._mapping.items()
    }


class SqlStore:
    """Opens one transaction per use case on ``engine`` (see :class:`~dryneedling.records.repository.Store`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            connection.info["write"] = write
            with connection.begin():
                yield connection

    @contextmanager
    def clinic(self, clinic_id: uuid.UUID, write: bool = True) -> Iterator[SqlClinicRecords]:
        with self._transaction(write) as connection:
            yield SqlClinicRecords(connection, clinic_id)

    @contextmanager
    def accounts(self, write: bool = True) -> Iterator[SqlAccounts]:
        with self._transaction(write) as connection:
            yield SqlAccounts(connection)

    # -- readers' questions (dryneedling.db.questions) -------------------------------------------------
    @contextmanager
    def questions(self, clinic_id: uuid.UUID, write: bool = True) -> Iterator[Any]:
        from dryneedling.db.questions import SqlQuestions

        with self._transaction(write) as connection:
            yield SqlQuestions(connection, clinic_id)

    # -- outcome measures and the clinic dashboard (dryneedling.db.outcomes) ----------------------------
    @contextmanager
    def outcomes(self, clinic_id: uuid.UUID, write: bool = True) -> Iterator[Any]:
        from dryneedling.db.outcomes import SqlOutcomes

        with self._transaction(write) as connection:
            yield SqlOutcomes(connection, clinic_id)

    def public_questions_clinic(self) -> uuid.UUID | None:
        from dryneedling.db.questions import public_questions_clinic

        with self._transaction(False) as connection:
            return public_questions_clinic(connection)


class ClinicScoped:
    """Base of the clinic repositories: every statement is confined to ``clinic_id``."""

    def __init__(self, connection: Connection, clinic_id: uuid.UUID) -> None:
        self.connection = connection
        self.clinic_id = clinic_id

    def scoped(self, table: Table, *columns: Any) -> Select:
        """``SELECT`` from ``table`` (or ``columns`` of it) restricted to this clinic: the start of every read."""
        return select(*(columns or (table,))).where(table.c.clinic_id == self.clinic_id)

    def _insert(self, table: Table, rows: list[dict[str, Any]] | dict[str, Any]) -> None:
        rows = rows if isinstance(rows, list) else [rows]
        if rows:
            self.connection.execute(insert(table), [{**row, "clinic_id": self.clinic_id} for row in rows])

    def _update(self, table: Table, key: Any, *where: Any) -> Any:
        return update(table).where(table.c.clinic_id == self.clinic_id, table.c.id == key, *where)


class SqlClinicRecords(ClinicScoped):
    # -- patients -------------------------------------------------------------------------------------
    def add_patient(self, patient: Patient) -> None:
        row = patient.model_dump(exclude={"clinic_id"})
        row["name_key"] = name_key(patient.name)
        self._insert(t.patients, row)

    @staticmethod
    def _patient(row: Any) -> Patient:
        data = _row(row)
        data.pop("name_key", None)
        return Patient.model_validate(data)

    def patient(self, patient_id: uuid.UUID) -> Patient | None:
        row = self.connection.execute(self.scoped(t.patients).where(t.patients.c.id == patient_id)).first()
        return self._patient(row) if row else None

    def search_patients(self, text: str, limit: int) -> list[Patient]:
        statement = self.scoped(t.patients)
        words = name_key(text).split()
        conditions = []
        if words:
            names = and_(
                *(
                    or_(t.patients.c.name_key.startswith(word), t.patients.c.name_key.contains(" " + word))
                    for word in words
                )
            )
            conditions.append(names)
            conditions.append(t.patients.c.external_id == text.strip())
            with suppress(ValueError):
                conditions.append(t.patients.c.birth_date == date.fromisoformat(text.strip()))
            statement = statement.where(or_(*conditions))
        statement = statement.order_by(t.patients.c.name_key, t.patients.c.id).limit(limit)
        return [self._patient(row) for row in self.connection.execute(statement)]

    # -- episodes and assessments ---------------------------------------------------------------------
    def add_episode(self, episode: Episode) -> None:
        self._insert(t.episodes, episode.model_dump(exclude={"clinic_id", "assessments"}))
        for assessment in episode.assessments:
            self.add_assessment(assessment)

    def close_episode(self, episode_id: uuid.UUID, closed_at: datetime) -> None:
        self.connection.execute(
            self._update(t.episodes, episode_id).values(status="closed", closed_at=closed_at)
        )

    def _assessments(
        self, episode_ids: list[uuid.UUID], latest_only: bool = False
    ) -> dict[uuid.UUID, list[Assessment]]:
        found: dict[uuid.UUID, list[Assessment]] = {key: [] for key in episode_ids}
        if not episode_ids:
            return found
        statement = self.scoped(t.assessments).where(t.assessments.c.episode_id.in_(episode_ids))
        if latest_only and len(episode_ids) == 1:
            statement = statement.order_by(
                t.assessments.c.created_at.desc(), t.assessments.c.id.desc()
            ).limit(1)
        else:
            statement = statement.order_by(t.assessments.c.created_at, t.assessments.c.id)
        for row in self.connection.execute(statement):
            assessment = Assessment.model_validate(_row(row))
            found[assessment.episode_id].append(assessment)
        return found

    def _episodes(self, statement: Select, latest_only: bool = False) -> list[Episode]:
        rows = [_row(row) for row in self.connection.execute(statement)]
        assessments = self._assessments([row["id"] for row in rows], latest_only)
        return [Episode.model_validate({**row, "assessments": assessments[row["id"]]}) for row in rows]

    def episode(self, episode_id: uuid.UUID, latest_only: bool = False) -> Episode | None:
        found = self._episodes(self.scoped(t.episodes).where(t.episodes.c.id == episode_id), latest_only)
        return found[0] if found else None

    def episodes_of(self, patient_id: uuid.UUID) -> list[Episode]:
        statement = (
            self.scoped(t.episodes)
            .where(t.episodes.c.patient_id == patient_id)
            .order_by(t.episodes.c.opened_at, t.episodes.c.id)
        )
        return self._episodes(statement)

    def add_assessment(self, assessment: Assessment) -> None:
        self._insert(
            t.assessments,
            assessment.model_dump(mode="json", exclude={"clinic_id"})
            | {
                "id": assessment.id,
                "episode_id": assessment.episode_id,
                "created_by": assessment.created_by,
                "created_at": assessment.created_at,
            },
        )

    # -- consent --------------------------------------------------------------------------------------
    def add_consent(self, consent: Consent) -> None:
        self._insert(t.consents, consent.model_dump(exclude={"clinic_id"}))

    def withdraw_consent(self, consent_id: uuid.UUID, at: datetime) -> None:
        self.connection.execute(
            self._update(t.consents, consent_id, t.consents.c.withdrawn_at.is_(None)).values(withdrawn_at=at)
        )

    def consents_of(self, episode_id: uuid.UUID) -> list[Consent]:
        statement = (
            self.scoped(t.consents)
            .where(t.consents.c.episode_id == episode_id)
            .order_by(t.consents.c.signed_at, t.consents.c.id)
        )
        return [Consent.model_validate(_row(row)) for row in self.connection.execute(statement)]

    # -- visits ---------------------------------------------------------------------------------------
    _VISIT_CHILDREN = frozenset({"clinic_id", "needling", "adverse_events", "amendments", "needles_in"})

    def _write_children(self, visit: Visit) -> None:
        self._insert(
            t.needling_entries,
            [
                {**entry.model_dump(), "visit_id": visit.id, "position": i}
                for i, entry in enumerate(visit.needling)
            ],
        )
        self._insert(
            t.adverse_events,
            [
                {**event.model_dump(), "visit_id": visit.id, "position": i}
                for i, event in enumerate(visit.adverse_events)
            ],
        )

    def add_visit(self, visit: Visit) -> None:
        self._insert(t.visits, visit.model_dump(exclude=self._VISIT_CHILDREN))
        self._write_children(visit)

    def replace_draft_visit(self, visit: Visit) -> bool:
        values = visit.model_dump(exclude=self._VISIT_CHILDREN | {"id"})
        result = self.connection.execute(
            self._update(t.visits, visit.id, t.visits.c.status == "draft").values(**values)
        )
        if result.rowcount != 1:
            return False
        for table in (t.needling_entries, t.adverse_events):
            self.connection.execute(
                delete(table).where(table.c.clinic_id == self.clinic_id, table.c.visit_id == visit.id)
            )
        self._write_children(visit)
        return True

    def mark_signed(self, visit_id: uuid.UUID, signed_by: uuid.UUID, at: datetime) -> bool:
        result = self.connection.execute(
            self._update(t.visits, visit_id, t.visits.c.status == "draft").values(
                status="signed", signed_at=at, signed_by=signed_by, updated_at=at
            )
        )
        return result.rowcount == 1

    def _visits(self, statement: Select) -> list[Visit]:
        rows = [_row(row) for row in self.connection.execute(statement)]
        ids = [row["id"] for row in rows]
        if not ids:
            return []
        children: dict[str, dict[uuid.UUID, list]] = {
            "needling": {key: [] for key in ids},
            "adverse_events": {key: [] for key in ids},
            "amendments": {key: [] for key in ids},
        }
        for table, name, model in (
            (t.needling_entries, "needling", NeedlingEntry),
            (t.adverse_events, "adverse_events", AdverseEvent),
        ):
            child = (
                self.scoped(table)
                .where(table.c.visit_id.in_(ids))
                .order_by(table.c.visit_id, table.c.position)
            )
            for row in self.connection.execute(child):
                data = _row(row)
                children[name][data["visit_id"]].append(model.model_validate(data))
        amendment_rows = self.scoped(t.amendments).where(t.amendments.c.visit_id.in_(ids))
        for row in self.connection.execute(
            amendment_rows.order_by(t.amendments.c.created_at, t.amendments.c.id)
        ):
            amendment = Amendment.model_validate(_row(row))
            children["amendments"][amendment.visit_id].append(amendment)
        return [
            Visit.model_validate({**row, **{name: found[row["id"]] for name, found in children.items()}})
            for row in rows
        ]

    def visit(self, visit_id: uuid.UUID) -> Visit | None:
        found = self._visits(self.scoped(t.visits).where(t.visits.c.id == visit_id))
        return found[0] if found else None

    def visits_of(self, episode_id: uuid.UUID) -> list[Visit]:
        statement = (
            self.scoped(t.visits)
            .where(t.visits.c.episode_id == episode_id)
            .order_by(t.visits.c.visit_date, t.visits.c.created_at, t.visits.c.id)
        )
        return self._visits(statement)

    def add_amendment(self, amendment: Amendment) -> None:
        self._insert(t.amendments, amendment.model_dump(exclude={"clinic_id"}))

    # -- users and audit ------------------------------------------------------------------------------
    def user(self, user_id: uuid.UUID) -> User | None:
        row = self.connection.execute(self.scoped(t.users).where(t.users.c.id == user_id)).first()
        return _user(row) if row else None

    def audit(self, user_id: uuid.UUID, action: str, entity: str, entity_id: uuid.UUID) -> None:
        self._insert(
            t.audit_log,
            {
                "id": uuid.uuid4(),
                "at": datetime.now(UTC),
                "user_id": user_id,
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
            },
        )


def _user(row: Any) -> User:
    data = _row(row)
    training = {
        key: data.pop(f"training_{key}") for key in ("hours", "course", "jurisdiction", "completed_on")
    }
    data.pop("password_hash", None)
    data["training"] = Training(**training) if any(value is not None for value in training.values()) else None
    return User.model_validate(data)


class SqlAccounts:
    """Clinics, users and tokens: what authentication reads before it knows the clinic."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add_clinic(self, clinic: Clinic) -> None:
        self.connection.execute(insert(t.clinics).values(**clinic.model_dump()))

    def clinic(self, clinic_id: uuid.UUID) -> Clinic | None:
        row = self.connection.execute(select(t.clinics).where(t.clinics.c.id == clinic_id)).first()
        return Clinic.model_validate(_row(row)) if row else None

    def clinics(self) -> list[Clinic]:
        rows = self.connection.execute(select(t.clinics).order_by(t.clinics.c.created_at, t.clinics.c.id))
        return [Clinic.model_validate(_row(row)) for row in rows]

    def add_user(self, user: User, password_hash: str | None) -> None:
        row = user.model_dump(exclude={"training"})
        training = user.training or Training()
        row.update({f"training_{key}": value for key, value in training.model_dump().items()})
        row["password_hash"] = password_hash
        self.connection.execute(insert(t.users).values(**row))

    def user_by_email(self, email: str) -> tuple[User, str | None] | None:
        row = self.connection.execute(select(t.users).where(t.users.c.email == email.strip().lower())).first()
        return (_user(row), row.password_hash) if row else None

    def set_password_hash(self, user: User, password_hash: str) -> None:
        self.connection.execute(
            update(t.users)
            .where(t.users.c.clinic_id == user.clinic_id, t.users.c.id == user.id)
            .values(password_hash=password_hash)
        )

    def add_token(
        self, user: User, token_id: uuid.UUID, token_hash: str, name: str, created_at: datetime
    ) -> None:
        self.connection.execute(
            insert(t.api_tokens).values(
                clinic_id=user.clinic_id,
                id=token_id,
                user_id=user.id,
                name=name,
                token_hash=token_hash,
                created_at=created_at,
            )
        )

    def user_by_token(self, token_id: uuid.UUID, token_hash: str) -> User | None:
        statement = (
            select(t.users, t.api_tokens.c.token_hash)
            .join(
                t.api_tokens,
                and_(t.api_tokens.c.clinic_id == t.users.c.clinic_id, t.api_tokens.c.user_id == t.users.c.id),
            )
            .where(
                t.api_tokens.c.id == token_id, t.api_tokens.c.revoked_at.is_(None), t.users.c.active.is_(True)
            )
        )
        row = self.connection.execute(statement).first()
        if row is None:
            return None
        if not hmac.compare_digest(row.token_hash, token_hash):
            return None
        return _user(row)
