"""The hash chain in plain Python: what a change records and what verification reports, without a database."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

from dryneedling.records.audit import GENESIS, AuditEntry, changes, entry_hash, fingerprint_key, verify_chain

KEY = fingerprint_key("a test secret that is long enough for the server")

CLINIC = uuid.uuid4()
ACTOR = uuid.uuid4()


def _chain(n: int) -> list[AuditEntry]:
    entries, previous = [], GENESIS
    for seq in range(1, n + 1):
        fields = {
            "clinic_id": CLINIC,
            "seq": seq,
            "at": datetime(2026, 11, 30, 6, seq, tzinfo=UTC),
            "actor": ACTOR,
            "role": "clinician",
            "action": "read",
            "entity": "patient",
            "entity_id": uuid.uuid4(),
            "request_id": f"r{seq}",
            "before": None,
            "after": None,
            "prev_hash": previous,
        }
        entry = AuditEntry(**fields, hash=entry_hash(**fields))
        entries.append(entry)
        previous = entry.hash
    return entries


def test_it_keeps_only_the_changed_fields_and_fingerprints_free_text():
    before, after = changes(
        {"pain_before": 6, "plan": "Stretch daily", "status": "draft", "needling": [{"muscle": "x"}]},
        {"pain_before": 6, "plan": "Rest", "status": "signed", "needling": [{"muscle": "x"}]},
        KEY,
    )
    assert set(before) == set(after) == {"plan", "status"}
    assert after["status"] == "signed" and before["status"] == "draft"
    assert after["plan"]["length"] == 4 and "Rest" not in str(after)


def test_a_creation_has_no_before_and_its_names_are_fingerprinted():
    before, after = changes(None, {"name": "Ann Example", "birth_date": "1980-02-03"}, KEY)
    assert before is None and "Ann" not in str(after) and "1980" not in str(after)


def test_a_fingerprint_cannot_be_undone_by_trying_candidates_without_the_key():
    """A plain SHA-256 of a birth date falls to trying every date; the keyed one does not."""
    import hashlib

    _, after = changes(None, {"birth_date": "1980-02-03"}, KEY)
    stored = after["birth_date"]["hmac_sha256"]
    assert stored != hashlib.sha256(b"1980-02-03").hexdigest()
    assert (
        stored
        != changes(None, {"birth_date": "1980-02-03"}, fingerprint_key("another secret " * 3))[1][
            "birth_date"
        ]["hmac_sha256"]
    )


def test_an_intact_chain_holds_and_reports_its_head():
    entries = _chain(5)
    state = verify_chain(CLINIC, entries, (5, entries[-1].hash))
    assert state.holds and state.entries == 5 and state.head_hash == entries[-1].hash


def test_it_names_the_first_break_of_each_kind():
    entries = _chain(6)
    head = (6, entries[-1].hash)
    changed = [*entries[:2], dataclasses.replace(entries[2], action="update"), *entries[3:]]
    assert verify_chain(CLINIC, changed, head).broken.kind == "changed"
    assert verify_chain(CLINIC, changed, head).broken.seq == 3
    removed = entries[:3] + entries[4:]
    assert (
        verify_chain(CLINIC, removed, head).broken.kind,
        verify_chain(CLINIC, removed, head).broken.seq,
    ) == (
        "removed",
        4,
    )
    assert verify_chain(CLINIC, entries[:5], head).broken.seq == 6  # cut off the end
    relinked = dataclasses.replace(entries[3], prev_hash="f" * 64)
    relinked = dataclasses.replace(relinked, hash=relinked.computed_hash())
    broken = verify_chain(CLINIC, [*entries[:3], relinked, *entries[4:]], head).broken
    assert (broken.kind, broken.seq) == ("inserted", 4)
    assert verify_chain(CLINIC, entries, (5, entries[4].hash)).broken.kind == "inserted"


def test_a_chain_whose_end_mark_is_gone_is_reported():
    entries = _chain(3)
    broken = verify_chain(CLINIC, entries, None).broken
    assert (broken.kind, broken.seq) == ("removed", 3)
    assert verify_chain(CLINIC, [], None).holds  # a clinic that never logged anything
