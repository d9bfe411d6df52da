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
from contextlib import contextmanager, nullcontext, suppress
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from dryneedling.db import audit as audit_log
from dryneedling.db import rls, tallies
from dryneedling.db import tables as t
from dryneedling.db.engine import writer_turn
from dryneedling.db.followups import FollowUpRows, followup_by_token_hash
from dryneedling.db.scoped import SCOPE, scoped_statement
from dryneedling.records.audit import AuditEntry
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
    """Opens one transaction per use case on ``engine`` (see :class:`~dryneedling.records.repository.Store`).

    On PostgreSQL each transaction first switches to the application role and names its clinic (or the
    account look-ups), so row-level security holds whatever role the connection was made as
    (:mod:`dryneedling.db.rls`).
    """

    def __init__(self, engine: Engine, app_role: str | None = None) -> None:
        self.engine = engine
        self.app_role = app_role or rls.app_role() if engine.dialect.name == "postgresql" else None

    @contextmanager
    def _transaction(
        self, write: bool, clinic_id: uuid.UUID | None = None, followup_token_hash: str | None = None
    ) -> Iterator[Connection]:
        with writer_turn(self.engine) if write else nullcontext(), self.engine.connect() as connection:
            connection.info["write"] = write
            with connection.begin():
                if self.app_role is not None:
                    connection.exec_driver_sql(
                        rls.token_lookup_settings(self.app_role, followup_token_hash)
                        if followup_token_hash is not None
                        else rls.transaction_settings(self.app_role, clinic_id)
                    )
                yield connection

    @contextmanager
    def clinic(self, clinic_id: uuid.UUID, write: bool = True) -> Iterator[SqlClinicRecords]:
        with self._transaction(write, clinic_id) as connection:
            yield SqlClinicRecords(connection, clinic_id)

    @contextmanager
    def accounts(self, write: bool = True) -> Iterator[SqlAccounts]:
        with self._transaction(write) as connection:
            yield SqlAccounts(connection)

    @contextmanager
    def logins(self, write: bool = True) -> Iterator[Any]:
        """Sessions, failed sign-ins and token housekeeping (:mod:`dryneedling.db.logins`)."""
        from dryneedling.db.logins import SqlLogins

        with self._transaction(write) as connection:
            yield SqlLogins(connection)

    @contextmanager
    def batch(self) -> Iterator[OneTransaction]:
        """A store whose use cases all run in one write transaction, committed at the end (all or nothing):
        for bulk loading such as ``demo seed``, where a commit (and, on PostgreSQL, a flush to disk and a
        pool check) per use case set the pace. The use cases and their checks are the same."""
        with self._transaction(True) as connection:
            yield OneTransaction(connection, self.app_role)

    # -- readers' questions (dryneedling.db.questions) -------------------------------------------------
    @contextmanager
    def questions(self, clinic_id: uuid.UUID, write: bool = True) -> Iterator[Any]:
        from dryneedling.db.questions import SqlQuestions

        with self._transaction(write, clinic_id) as connection:
            yield SqlQuestions(connection, clinic_id)

    # -- follow-up links (dryneedling.db.followups) ----------------------------------------------------
    def followup_by_token_hash(self, token_hash: str) -> Any:
        """The follow-up a patient's link names (any clinic: the link is the patient's only credential)."""
        with self._transaction(False, followup_token_hash=token_hash) as connection:
            return followup_by_token_hash(connection, token_hash)

    # -- outcome measures and the clinic dashboard (dryneedling.db.outcomes) ----------------------------
    @contextmanager
    def outcomes(self, clinic_id: uuid.UUID, write: bool = True) -> Iterator[Any]:
        from dryneedling.db.outcomes import SqlOutcomes

        with self._transaction(write, clinic_id) as connection:
            yield SqlOutcomes(connection, clinic_id)

    def public_questions_clinic(self) -> uuid.UUID | None:
        from dryneedling.db.questions import public_questions_clinic

        with self._transaction(False) as connection:  # an account look-up: no clinic is known yet
            return public_questions_clinic(connection)


_INSERTS = {name: insert(table) for name, table in t.metadata.tables.items()}


class OneTransaction:
    """The :class:`Store` of :meth:`SqlStore.batch`: every ``clinic()`` and ``accounts()`` shares one
    connection and its transaction."""

    def __init__(self, connection: Connection, app_role: str | None = None) -> None:
        self.connection = connection
        self.app_role = app_role

    def _scope(self, clinic_id: uuid.UUID | None) -> None:
        # On PostgreSQL the one transaction names, for each use case in turn, the clinic it works for, so
        # row-level security holds within the batch as it does between transactions.
        if self.app_role is not None:
            self.connection.exec_driver_sql(rls.transaction_settings(self.app_role, clinic_id))

    @contextmanager
    def clinic(self, clinic_id: uuid.UUID, write: bool = True) -> Iterator[SqlClinicRecords]:
        self._scope(clinic_id)
        yield SqlClinicRecords(self.connection, clinic_id)

    @contextmanager
    def accounts(self, write: bool = True) -> Iterator[SqlAccounts]:
        self._scope(None)
        yield SqlAccounts(self.connection)

    @contextmanager
    def outcomes(self, clinic_id: uuid.UUID, write: bool = True) -> Iterator[Any]:
        from dryneedling.db.outcomes import SqlOutcomes

        self._scope(clinic_id)
        yield SqlOutcomes(self.connection, clinic_id)


class ClinicScoped:
    """Base of the clinic repositories: every statement is confined to ``clinic_id``."""

    def __init__(self, connection: Connection, clinic_id: uuid.UUID) -> None:
        self.connection = connection
        self.clinic_id = clinic_id

    def scoped(self, table: Table, *columns: Any) -> Select:
        """``SELECT`` from ``table`` (or ``columns`` of it) restricted to this clinic: the start of every read."""
        return select(*(columns or (table,))).where(table.c.clinic_id == self.clinic_id)

    def run(self, statement: Any, **params: Any) -> Any:
        """Execute a statement built once by :func:`scoped_statement` with this clinic and ``params``."""
        return self.connection.execute(statement, {SCOPE: self.clinic_id, **params})

    def _insert(self, table: Table, rows: list[dict[str, Any]] | dict[str, Any]) -> None:
        rows = rows if isinstance(rows, list) else [rows]
        if rows:
            self.connection.execute(
                _INSERTS[table.name], [{**row, "clinic_id": self.clinic_id} for row in rows]
            )

    def _update(self, table: Table, key: Any, *where: Any) -> Any:
        return update(table).where(table.c.clinic_id == self.clinic_id, table.c.id == key, *where)

    def _refresh_visit_tallies(self, *visit_ids: uuid.UUID) -> None:
        """Recompute the dashboard's tallies of these visits from their rows (:mod:`dryneedling.db.tallies`);
        every write to a visit, its adverse events, follow-ups or their events calls it in its transaction."""
        tallies.refresh(self.connection, self.clinic_id, visit_ids)

    def audit(
        self,
        actor: User | uuid.UUID,
        action: str,
        entity: str,
        entity_id: uuid.UUID | None,
        before: Any = None,
        after: Any = None,
        role: str | None = None,
    ) -> None:
        """Append to the clinic's audit chain in this transaction (who, role, what, when, request id, and
        for changes the changed fields before and after). ``actor`` may be a user id (its role is looked up)."""
        if not self.connection.info.get("write", True):
            # On SQLite a read transaction that turns into a write fails under concurrent writers; say so
            # at once, on every backend, instead of now and then in production.
            raise RuntimeError("an audited use case needs a write transaction: store.clinic(..., write=True)")
        if isinstance(actor, User):
            user_id, role = actor.id, actor.role
        elif role is not None:
            user_id = actor
        else:
            user_id = actor
            row = self.connection.execute(
                self.scoped(t.users, t.users.c.role).where(t.users.c.id == actor)
            ).first()
            role = row.role if row else "unknown"
        audit_log.append(
            self.connection,
            self.clinic_id,
            actor=user_id,
            role=role,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )

    def audit_page(
        self,
        limit: int,
        offset: int,
        actor: uuid.UUID | None = None,
        entity: str | None = None,
        entity_id: uuid.UUID | None = None,
    ) -> tuple[list[AuditEntry], int]:
        """The clinic's audit entries, newest first, and how many match."""
        return audit_log.page(
            self.connection,
            self.clinic_id,
            limit=limit,
            offset=offset,
            actor=actor,
            entity=entity,
            entity_id=entity_id,
        )

    def audit_entities(self) -> list[str]:
        """The kinds of record this clinic's log names."""
        return audit_log.entities(self.connection, self.clinic_id)

    def audit_chain(self) -> Iterator[AuditEntry]:
        """Every entry of the clinic's chain by seq (streamed, for verification)."""
        return audit_log.chain(self.connection, self.clinic_id)

    def audit_head(self) -> tuple[int, str] | None:
        """The (seq, hash) of the last entry the application appended."""
        return audit_log.head(self.connection, self.clinic_id)


class SqlClinicRecords(FollowUpRows, ClinicScoped):
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
        if latest_only and len(episode_ids) == 1:
            rows = self.run(_LATEST_ASSESSMENT, episode_id=episode_ids[0])
        else:
            statement = self.scoped(t.assessments).where(t.assessments.c.episode_id.in_(episode_ids))
            rows = self.connection.execute(statement.order_by(t.assessments.c.created_at, t.assessments.c.id))
        for row in rows:
            assessment = Assessment.model_validate(_row(row))
            found[assessment.episode_id].append(assessment)
        return found

    def _episodes(self, statement: Select | Any, latest_only: bool = False) -> list[Episode]:
        result = statement if not isinstance(statement, Select) else self.connection.execute(statement)
        rows = [_row(row) for row in result]
        assessments = self._assessments([row["id"] for row in rows], latest_only)
        return [Episode.model_validate({**row, "assessments": assessments[row["id"]]}) for row in rows]

    def episode(self, episode_id: uuid.UUID, latest_only: bool = False) -> Episode | None:
        found = self._episodes(self.run(_EPISODE, id=episode_id), latest_only)
        return found[0] if found else None

    def latest_assessment_at(self, episode_id: uuid.UUID) -> datetime | None:
        return _aware(self.run(_LATEST_ASSESSMENT_AT, episode_id=episode_id).scalar())

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
        return [Consent.model_validate(_row(row)) for row in self.run(_CONSENTS_OF, episode_id=episode_id)]

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
        self._refresh_visit_tallies(visit.id)

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
        self._refresh_visit_tallies(visit.id)
        return True

    def mark_signed(self, visit_id: uuid.UUID, signed_by: uuid.UUID, at: datetime) -> bool:
        result = self.run(_SIGN_DRAFT, visit_id=visit_id, signed_by=signed_by, at=at)
        return result.rowcount == 1

    def _visits(self, statement: Select | Any) -> list[Visit]:
        result = statement if not isinstance(statement, Select) else self.connection.execute(statement)
        rows = [_row(row) for row in result]
        ids = [row["id"] for row in rows]
        if not ids:
            return []
        # only a signed note can have amendments (amend_visit refuses a draft)
        signed = [row["id"] for row in rows if row["status"] != "draft"]
        children: dict[str, dict[uuid.UUID, list]] = {
            "needling": {key: [] for key in ids},
            "adverse_events": {key: [] for key in ids},
            "amendments": {key: [] for key in ids},
        }
        for name, model in (("needling", NeedlingEntry), ("adverse_events", AdverseEvent)):
            for row in self.run(_VISIT_CHILDREN[name], ids=ids):
                data = _row(row)
                children[name][data["visit_id"]].append(model.model_validate(data))
        if signed:
            for row in self.run(_AMENDMENTS_OF, ids=signed):
                amendment = Amendment.model_validate(_row(row))
                children["amendments"][amendment.visit_id].append(amendment)
        return [
            Visit.model_validate({**row, **{name: found[row["id"]] for name, found in children.items()}})
            for row in rows
        ]

    def visit(self, visit_id: uuid.UUID) -> Visit | None:
        found = self._visits(self.run(_VISIT, id=visit_id))
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

    def clinic_users(self) -> list[User]:
        """Everyone of the clinic, by name (for the audit log's filter)."""
        rows = self.connection.execute(self.scoped(t.users).order_by(t.users.c.name, t.users.c.id))
        return [_user(row) for row in rows]


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
        row = self.connection.execute(
            _USER_BY_TOKEN, {"token_id": token_id, "now": datetime.now(UTC)}
        ).first()
        if row is None:
            return None
        if not hmac.compare_digest(row.token_hash, token_hash):
            return None
        return _user(row)


# -- statements built once (see SCOPE) ------------------------------------------------------------------
_EPISODE = scoped_statement(t.episodes, t.episodes.c.id == bindparam("id"))
_LATEST_ASSESSMENT = (
    scoped_statement(t.assessments, t.assessments.c.episode_id == bindparam("episode_id"))
    .order_by(t.assessments.c.created_at.desc(), t.assessments.c.id.desc())
    .limit(1)
)
_LATEST_ASSESSMENT_AT = scoped_statement(
    t.assessments,
    t.assessments.c.episode_id == bindparam("episode_id"),
    columns=(func.max(t.assessments.c.created_at),),
)
_CONSENTS_OF = scoped_statement(t.consents, t.consents.c.episode_id == bindparam("episode_id")).order_by(
    t.consents.c.signed_at, t.consents.c.id
)
_VISIT = scoped_statement(t.visits, t.visits.c.id == bindparam("id"))
_VISIT_CHILDREN = {
    name: scoped_statement(table, table.c.visit_id.in_(bindparam("ids", expanding=True))).order_by(
        table.c.visit_id, table.c.position
    )
    for name, table in (("needling", t.needling_entries), ("adverse_events", t.adverse_events))
}
_AMENDMENTS_OF = scoped_statement(
    t.amendments, t.amendments.c.visit_id.in_(bindparam("ids", expanding=True))
).order_by(t.amendments.c.created_at, t.amendments.c.id)
_SIGN_DRAFT = (
    update(t.visits)
    .where(
        t.visits.c.clinic_id == bindparam(SCOPE),
        t.visits.c.id == bindparam("visit_id"),
        t.visits.c.status == "draft",
    )
    .values(
        status="signed",
        signed_at=bindparam("at"),
        signed_by=bindparam("signed_by"),
        updated_at=bindparam("at"),
    )
)
_USER_BY_TOKEN = (
    select(t.users, t.api_tokens.c.token_hash)
    .join(
        t.api_tokens,
        and_(t.api_tokens.c.clinic_id == t.users.c.clinic_id, t.api_tokens.c.user_id == t.users.c.id),
    )
    .where(
        t.api_tokens.c.id == bindparam("token_id"),
        t.api_tokens.c.revoked_at.is_(None),
        or_(t.api_tokens.c.expires_at.is_(None), t.api_tokens.c.expires_at > bindparam("now")),
        t.users.c.active.is_(True),
    )
)
