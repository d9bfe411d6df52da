"""The audit log's hash chain, in plain Python: what an entry holds, how it is hashed, how a chain is checked.

Each clinic has one chain. Entry ``seq`` (1, 2, 3 ...) carries the hash of entry ``seq - 1`` (the first one
carries :data:`GENESIS`), and its own hash is SHA-256 over a canonical JSON of every field, that previous hash
included. Changing a stored entry changes its hash; removing one leaves a gap in ``seq``; slipping one in
breaks the link of the next (or runs past the recorded head). :func:`verify_chain` names the first break.

The log holds ids, never a patient's name or narrative: :func:`changes` keeps structured values (status,
dates of care, scores, muscles) as they are and replaces free text and identifying fields by a fingerprint
(SHA-256 and length), so the log can be shown to an auditor and still proves what a text was.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

GENESIS = "0" * 64
"""The previous hash of a clinic's first entry."""

# Fields whose values would put a patient's identity or narrative into the log: kept as a fingerprint.
FINGERPRINTED = frozenset(
    {
        "name",
        "birth_date",
        "external_id",
        "subjective",
        "plan",
        "goals",
        "text",
        "note",
        "signer_name",
        "typed_name",
        "sex",
        "email",
        "signature",
        "override_reason",
        "answer",
    }
)

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "dryneedling_request_id", default=None
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def set_request_id(value: str | None) -> contextvars.Token:
    """Name the request (or CLI run) the following audit entries belong to; returns a token for reset."""
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def current_request_id() -> str | None:
    return _request_id.get()


def valid_request_id(value: str | None) -> str:
    """``value`` when it is a short token of safe characters (a client's X-Request-ID), else a new uuid4."""
    if value and _REQUEST_ID.match(value):
        return value
    return str(uuid.uuid4())


def fingerprint_key(secret: str) -> bytes:
    """The key of the log's fingerprints, derived from the server secret (a separate key per purpose)."""
    return hmac.new(secret.encode(), b"dryneedling audit fingerprints v1", hashlib.sha256).digest()


def fingerprint(value: Any, key: bytes) -> dict[str, Any]:
    """A stand-in for a value the log must not hold: its HMAC-SHA256 under ``key`` (of its canonical JSON)
    and its length. Keyed, because a plain hash of a birth date or a name is undone by trying candidates."""
    text = value if isinstance(value, str) else canonical(value)
    return {"hmac_sha256": hmac.new(key, text.encode(), hashlib.sha256).hexdigest(), "length": len(text)}


def _redact(value: Any, key: bytes, field: str | None = None) -> Any:
    if field in FINGERPRINTED and value is not None:
        return fingerprint(value, key)
    if isinstance(value, Mapping):
        return {str(k): _redact(v, key, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(item, key) for item in value]
    return value


def changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, key: bytes
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The fields that differ between ``before`` and ``after`` (each side only those), redacted with
    fingerprints under ``key`` (:func:`fingerprint_key`).

    A creation has no ``before``; a field present on one side only counts as changed.
    """
    before_json = json.loads(canonical(before)) if before is not None else None
    after_json = json.loads(canonical(after)) if after is not None else None
    if before_json is None or after_json is None:
        return (
            _redact(before_json, key) if before_json is not None else None,
            _redact(after_json, key) if after_json is not None else None,
        )
    fields = [name for name in {**before_json, **after_json} if before_json.get(name) != after_json.get(name)]
    return (
        _redact({name: before_json.get(name) for name in fields}, key),
        _redact({name: after_json.get(name) for name in fields}, key),
    )


def canonical(value: Any) -> str:
    """The one JSON text of ``value``: keys sorted, no spaces, UTF-8; dates, times and ids as text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot put {type(value).__name__} into the audit log")


def utc_text(at: datetime) -> str:
    """A time as the chain hashes it: UTC, microseconds, ISO 8601."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class AuditEntry:
    """One link of a clinic's chain (``before`` and ``after`` are canonical JSON text or None)."""

    clinic_id: uuid.UUID
    seq: int
    at: datetime
    actor: uuid.UUID
    role: str
    action: str
    entity: str
    entity_id: uuid.UUID | None
    request_id: str | None
    before: str | None
    after: str | None
    prev_hash: str
    hash: str

    def computed_hash(self) -> str:
        return entry_hash(
            clinic_id=self.clinic_id,
            seq=self.seq,
            at=self.at,
            actor=self.actor,
            role=self.role,
            action=self.action,
            entity=self.entity,
            entity_id=self.entity_id,
            request_id=self.request_id,
            before=self.before,
            after=self.after,
            prev_hash=self.prev_hash,
        )

    def as_json(self) -> dict[str, Any]:
        data = json.loads(canonical(self.__dict__))
        data["before"] = json.loads(self.before) if self.before is not None else None
        data["after"] = json.loads(self.after) if self.after is not None else None
        return data


def entry_hash(
    *,
    clinic_id: uuid.UUID,
    seq: int,
    at: datetime,
    actor: uuid.UUID,
    role: str,
    action: str,
    entity: str,
    entity_id: uuid.UUID | None,
    request_id: str | None,
    before: str | None,
    after: str | None,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) over the canonical JSON of an entry's fields, the previous entry's hash included."""
    payload = {
        "clinic_id": str(clinic_id),
        "seq": seq,
        "at": utc_text(at),
        "actor": str(actor),
        "role": role,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id) if entity_id is not None else None,
        "request_id": request_id,
        "before": before,
        "after": after,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical(payload).encode()).hexdigest()


BreakKind = Literal["changed", "removed", "inserted"]


@dataclass(frozen=True)
class ChainBreak:
    """The first place a clinic's chain does not hold."""

    clinic_id: uuid.UUID
    seq: int
    kind: BreakKind
    detail: str

    def describe(self) -> str:
        return f"clinic {self.clinic_id}: entry {self.seq} {self.kind}: {self.detail}"


@dataclass(frozen=True)
class ChainState:
    """A clinic's chain as verified: how many entries, the last hash, and the first break (None: it holds)."""

    clinic_id: uuid.UUID
    entries: int
    head_seq: int
    head_hash: str
    broken: ChainBreak | None

    @property
    def holds(self) -> bool:
        return self.broken is None


def verify_chain(
    clinic_id: uuid.UUID, entries: Iterable[AuditEntry], head: tuple[int, str] | None
) -> ChainState:
    """Walk ``entries`` (ordered by seq) and name the first break; ``head`` is the recorded (seq, hash) of
    the last entry the application appended (None when none was recorded)."""
    expected, previous, count, last_seq = 1, GENESIS, 0, 0

    def state(broken: ChainBreak | None) -> ChainState:
        return ChainState(clinic_id, count, last_seq, previous, broken)

    for entry in entries:
        count += 1
        if entry.clinic_id != clinic_id:
            return state(ChainBreak(clinic_id, entry.seq, "inserted", "the entry names another clinic"))
        if entry.seq > expected:
            missing = f"{expected}" if entry.seq == expected + 1 else f"{expected} to {entry.seq - 1}"
            return state(ChainBreak(clinic_id, expected, "removed", f"entry {missing} is missing"))
        if entry.seq < expected:
            return state(ChainBreak(clinic_id, entry.seq, "inserted", "a second entry with this number"))
        if entry.computed_hash() != entry.hash:
            return state(
                ChainBreak(clinic_id, entry.seq, "changed", "its content no longer matches its hash")
            )
        if entry.prev_hash != previous:
            return state(
                ChainBreak(
                    clinic_id,
                    entry.seq,
                    "inserted",
                    "it does not link to the entry before it (inserted, reordered or the one before rewritten)",
                )
            )
        previous, last_seq, expected = entry.hash, entry.seq, entry.seq + 1
    if head is None and count:
        return state(
            ChainBreak(
                clinic_id, last_seq, "removed", "the record of where the chain ends is missing (audit_heads)"
            )
        )
    if head is not None:
        head_seq, head_hash = head
        if last_seq < head_seq:
            missing = f"{expected}" if head_seq == expected else f"{expected} to {head_seq}"
            return state(
                ChainBreak(clinic_id, expected, "removed", f"entry {missing} is missing from the end")
            )
        if last_seq > head_seq:
            return state(
                ChainBreak(
                    clinic_id, head_seq + 1, "inserted", "entries run past the last one the application wrote"
                )
            )
        if head_hash != previous:
            return state(
                ChainBreak(
                    clinic_id, last_seq, "changed", "the last entry is not the one the application wrote"
                )
            )
    return state(None)
