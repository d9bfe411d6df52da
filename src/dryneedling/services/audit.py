"""Use cases of the audit log: verify every clinic's hash chain, and let auditors and owners read their log.

:func:`verify_all` is what ``dryneedling audit verify`` runs and what other code (backup, restore, crash
tests) calls to know the log still holds: it recomputes each clinic's chain and names the first broken link.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from dryneedling.errors import InputError
from dryneedling.records.audit import AuditEntry, ChainState, verify_chain
from dryneedling.records.entities import User
from dryneedling.records.errors import Forbidden
from dryneedling.records.repository import Store

AUDIT_READERS: tuple[str, ...] = ("owner", "auditor")
PAGE_SIZE = 50


@dataclass(frozen=True)
class Verification:
    """The result for every clinic checked; ``holds`` when no chain is broken."""

    clinics: list[ChainState] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return all(state.holds for state in self.clinics)

    @property
    def first_break(self) -> ChainState | None:
        return next((state for state in self.clinics if not state.holds), None)

    def as_json(self) -> dict[str, Any]:
        return {
            "holds": self.holds,
            "clinics": [
                {
                    "clinic_id": str(state.clinic_id),
                    "entries": state.entries,
                    "head_seq": state.head_seq,
                    "head_hash": state.head_hash,
                    "holds": state.holds,
                    "broken": None
                    if state.broken is None
                    else {
                        "seq": state.broken.seq,
                        "kind": state.broken.kind,
                        "detail": state.broken.detail,
                    },
                }
                for state in self.clinics
            ],
        }


def verify_clinic(store: Store, clinic_id: uuid.UUID) -> ChainState:
    """Recompute one clinic's chain (read-only) and compare its end with the recorded head."""
    with store.clinic(clinic_id, write=False) as records:
        return verify_chain(clinic_id, records.audit_chain(), records.audit_head())


def verify_all(store: Store) -> Verification:
    """Recompute every clinic's chain; see :class:`Verification`."""
    with store.accounts(write=False) as accounts:
        clinic_ids = [clinic.id for clinic in accounts.clinics()]
    return Verification([verify_clinic(store, clinic_id) for clinic_id in clinic_ids])


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int
    actor: uuid.UUID | None
    entity: str | None
    users: dict[uuid.UUID, str] = field(default_factory=dict)
    """The clinic's users by id -> name, to name the actors and offer the filter."""
    entities: list[str] = field(default_factory=list)
    """The kinds of record the log names, to offer the filter."""


def read_log(
    store: Store,
    user: User,
    page: int = 1,
    actor: uuid.UUID | None = None,
    entity: str | None = None,
    entity_id: uuid.UUID | None = None,
) -> AuditPage:
    """One page of the user's clinic's log, newest first (auditors and owners only)."""
    if user.role not in AUDIT_READERS:
        raise Forbidden(f"the {user.role} role may not read the audit log")
    page = max(1, page)
    with store.clinic(user.clinic_id, write=False) as records:
        kinds = records.audit_entities()
        if entity is not None and entity not in kinds:
            raise InputError.unknown("entity", entity, kinds, kind="kind of record")
        entries, total = records.audit_page(
            PAGE_SIZE, (page - 1) * PAGE_SIZE, actor=actor, entity=entity, entity_id=entity_id
        )
        users = {person.id: person.name for person in records.clinic_users()}
    pages = max(1, -(-total // PAGE_SIZE))
    return AuditPage(entries, total, page, pages, actor, entity, users, kinds)
