"""The audit log, on SQLite and PostgreSQL: every read and change of patient data is appended to the
clinic's hash chain (who, role, what, when, request id, the changed fields); the database refuses to change
or remove an entry; ``dryneedling audit verify`` and :func:`services.audit.verify_all` find an entry changed,
removed or slipped in behind the application's back and name the first broken link."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from audit_helpers import log_rows, tampering
from records_helpers import PATIENT
from sqlalchemy import insert, text, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from dryneedling.cli import app as cli
from dryneedling.db import tables as t
from dryneedling.records.audit import GENESIS, entry_hash
from dryneedling.services import audit, records


def _clinician(store, world):
    with store.clinic(uuid.UUID(world.clinic), write=False) as clinic_records:
        return clinic_records.user(uuid.UUID(world.clinician.user_id))


def _actions(store, clinic) -> list[tuple[str, str, str | None]]:
    return [
        (row["action"], row["entity"], str(row["entity_id"]) if row["entity_id"] else None)
        for row in log_rows(store, clinic)
    ]


def test_it_logs_every_read_and_change_with_who_role_and_request_id(api, store, world, chart):
    headers = {**world.clinician.headers, "X-Request-ID": "req-abc-123"}
    patient = api.post("/api/patients", json={**PATIENT, "external_id": "MRN-AUD1"}, headers=headers)
    assert patient.headers["x-request-id"] == "req-abc-123"
    patient_id = patient.json()["id"]
    api.get(f"/api/patients/{patient_id}", headers=world.auditor.headers)
    api.get("/api/patients", params={"q": "Ann Example"}, headers=world.assistant.headers)
    episode = chart.episode(patient_id)
    chart.consent(episode)
    visit = chart.visit(episode)
    api.get(f"/api/episodes/{episode}", headers=world.owner.headers)
    api.get(f"/api/visits/{visit}", headers=world.owner.headers)
    assert api.get(f"/api/visits/{visit}/note.pdf", headers=world.owner.headers).status_code == 200

    rows = log_rows(store, world.clinic)
    assert [row["seq"] for row in rows] == list(range(1, len(rows) + 1))
    assert rows[0]["prev_hash"] == GENESIS
    # the people's sign-ins and tokens come first (12.5 logs them too); then the patient
    first = next(row for row in rows if row["entity"] == "patient")
    assert (first["action"], first["entity"], str(first["entity_id"])) == ("create", "patient", patient_id)
    assert (str(first["actor"]), first["role"], first["request_id"]) == (
        world.clinician.user_id,
        "clinician",
        "req-abc-123",
    )
    seen = _actions(store, world.clinic)
    assert ("read", "patient", patient_id) in seen
    assert ("search", "patient", None) in seen
    assert ("create", "episode", episode) in seen
    assert ("read", "episode", episode) in seen
    assert ("create", "visit", visit) in seen
    assert ("read", "visit", visit) in seen
    assert ("print", "visit", visit) in seen
    assert any(action == "create" and entity == "consent" for action, entity, _ in seen)
    reader = next(row for row in rows if row["action"] == "read" and row["entity"] == "patient")
    assert (str(reader["actor"]), reader["role"]) == (world.auditor.user_id, "auditor")
    assert reader["request_id"] and reader["request_id"] != "req-abc-123"  # each request gets its own id
    # the other clinic's chain has none of it
    assert {row["entity"] for row in log_rows(store, world.other_clinic)} <= {"user", "api_token", "token"}


def test_it_keeps_names_and_search_text_out_of_the_log(api, store, world, chart):
    patient_id = chart.patient(name="Quentin Oddname", external_id="MRN-SECRET-77")
    api.get("/api/patients", params={"q": "Quentin Odd"}, headers=world.owner.headers)
    episode = chart.episode(patient_id)
    chart.consent(episode)
    chart.visit(episode)
    dump = json.dumps([{k: str(v) for k, v in row.items()} for row in log_rows(store, world.clinic)])
    for secret in ("Quentin", "Oddname", "MRN-SECRET-77", "worse at the desk", "Ann Example"):
        assert secret not in dump
    search = next(row for row in log_rows(store, world.clinic) if row["action"] == "search")
    assert json.loads(search["after"]) == {"results": [patient_id]}


def test_it_records_the_changed_fields_before_and_after(api, world, store, chart):
    visit = chart.visit()
    response = api.patch(
        f"/api/visits/{visit}",
        json={"pain_before": 2, "subjective": "Better this week."},
        headers=world.clinician.headers,
    )
    assert response.status_code == 200, response.text
    entry = next(row for row in log_rows(store, world.clinic) if row["action"] == "update")
    before, after = json.loads(entry["before"]), json.loads(entry["after"])
    assert set(after) == {"pain_before", "subjective"} == set(before)
    assert (before["pain_before"], after["pain_before"]) == (6, 2)
    assert set(after["subjective"]) == {"hmac_sha256", "length"}  # free text as a fingerprint
    assert before["subjective"]["hmac_sha256"] != after["subjective"]["hmac_sha256"]
    api.post(f"/api/visits/{visit}/sign", headers=world.clinician.headers)
    sign = next(row for row in log_rows(store, world.clinic) if row["action"] == "sign")
    assert json.loads(sign["before"])["status"] == "draft" and json.loads(sign["after"])["status"] == "signed"


def test_it_chains_each_entry_to_the_one_before(api, store, world, chart):
    chart.visit()
    rows = log_rows(store, world.clinic)
    previous = GENESIS
    for row in rows:
        fields = {k: row[k] for k in row if k != "hash"}
        assert row["prev_hash"] == previous
        assert entry_hash(**fields) == row["hash"]
        previous = row["hash"]
    assert audit.verify_clinic(store, uuid.UUID(world.clinic)).holds


def test_it_keeps_one_unbroken_chain_under_20_concurrent_writers(store, world):
    user = _clinician(store, world)
    patient = records.create_patient(
        store, user, records.PatientIn(name="Con Current", birth_date="1970-01-01", sex="male")
    )
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(5):
                records.get_patient(store, user, patient.id)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=reader) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = log_rows(store, world.clinic)
    assert [row["seq"] for row in rows] == list(range(1, len(rows) + 1))
    assert sum(row["entity"] == "patient" for row in rows) == 101  # the create and the 100 concurrent ones
    state = audit.verify_clinic(store, uuid.UUID(world.clinic))
    assert state.holds and state.entries == len(rows)


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'nothing'", "DELETE FROM audit_log"])
def test_the_database_refuses_to_change_or_remove_an_entry(store, world, chart, statement):
    chart.patient()
    with store.engine.connect() as connection:
        with pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text(f"{statement} WHERE clinic_id = :c"), {"c": _clinic_param(store, world)})
        connection.rollback()
    assert audit.verify_clinic(store, uuid.UUID(world.clinic)).holds


def _clinic_param(store, world):
    # SQLite keeps a Uuid column as 32 hex digits; PostgreSQL takes the text form.
    value = uuid.UUID(world.clinic)
    return value.hex if store.engine.dialect.name == "sqlite" else str(value)


def test_postgresql_refuses_truncate_and_the_app_role_has_no_right_to_change_the_log(store, backend, world):
    if backend != "postgresql":
        pytest.skip("TRUNCATE and role rights exist on PostgreSQL only")
    with store.engine.connect() as connection:
        with pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text("TRUNCATE audit_log"))
        connection.rollback()
        for statement in ("UPDATE audit_log SET action = 'nothing'", "DELETE FROM audit_heads"):
            with pytest.raises(DBAPIError, match="permission denied"):
                connection.execute(text(f'SET ROLE "{store.app_role}"'))
                connection.execute(text(f"SET app.clinic_id = '{world.clinic}'"))
                connection.execute(text(statement))
            connection.rollback()


def _run_verify(monkeypatch, database_url, *args):
    monkeypatch.setenv("DRYNEEDLING_DATABASE_URL", database_url)
    return CliRunner().invoke(cli, ["audit", "verify", *args])


def _tamper_and_verify(store, world, monkeypatch, database_url, damage, kind: str, seq: int) -> None:
    """Damage the clinic's log behind the application's back; verify must name the break; then repair."""
    clinic = uuid.UUID(world.clinic)
    assert audit.verify_clinic(store, clinic).holds
    rows = log_rows(store, clinic)
    with tampering(store) as connection:
        repair = damage(connection, clinic, rows)
    try:
        state = audit.verify_clinic(store, clinic)
        assert not state.holds
        assert (state.broken.kind, state.broken.seq) == (kind, seq), state.broken
        result = audit.verify_all(store)
        assert not result.holds and any(s.clinic_id == clinic and not s.holds for s in result.clinics)
        cli_result = _run_verify(monkeypatch, database_url)
        assert cli_result.exit_code == 1, cli_result.output
        assert f"clinic {clinic}: entry {seq} {kind}" in cli_result.output
        as_json = json.loads(_run_verify(monkeypatch, database_url, "--json").output)
        broken = next(c for c in as_json["clinics"] if c["clinic_id"] == str(clinic))["broken"]
        assert (broken["kind"], broken["seq"]) == (kind, seq)
    finally:
        with tampering(store) as connection:
            repair(connection)
    assert audit.verify_clinic(store, clinic).holds


def _where(row):
    return (t.audit_log.c.clinic_id == row["clinic_id"]) & (t.audit_log.c.seq == row["seq"])


def test_verify_names_an_entry_changed_behind_the_applications_back(
    store, world, chart, monkeypatch, database_url
):
    chart.visit()

    def damage(connection, clinic, rows):
        target = rows[2]
        connection.execute(update(t.audit_log).where(_where(target)).values(action="read"))
        return lambda c: c.execute(update(t.audit_log).where(_where(target)).values(action=target["action"]))

    _tamper_and_verify(store, world, monkeypatch, database_url, damage, "changed", 3)


def test_verify_names_an_entry_removed_from_the_middle_or_the_end(
    store, world, chart, monkeypatch, database_url
):
    chart.visit()

    def remove(index):
        def damage(connection, clinic, rows):
            target = rows[index]
            connection.execute(t.audit_log.delete().where(_where(target)))
            return lambda c: c.execute(insert(t.audit_log).values(**target))

        return damage

    _tamper_and_verify(store, world, monkeypatch, database_url, remove(1), "removed", 2)
    last = len(log_rows(store, world.clinic))
    _tamper_and_verify(store, world, monkeypatch, database_url, remove(-1), "removed", last)


def test_verify_names_an_entry_slipped_in_behind_the_applications_back(
    store, world, chart, monkeypatch, database_url
):
    chart.visit()

    def forge_after_last(connection, clinic, rows):
        # A well-formed entry after the last one: its own hash is right, it even links to the last entry,
        # but the application never wrote it (the recorded head says where the chain ends).
        last = rows[-1]
        forged = {**last, "seq": last["seq"] + 1, "action": "read", "prev_hash": last["hash"]}
        forged["hash"] = entry_hash(**{k: v for k, v in forged.items() if k != "hash"})
        connection.execute(insert(t.audit_log).values(**forged))
        return lambda c: c.execute(t.audit_log.delete().where(_where(forged)))

    count = len(log_rows(store, world.clinic))
    _tamper_and_verify(store, world, monkeypatch, database_url, forge_after_last, "inserted", count + 1)

    def forge_in_the_middle(connection, clinic, rows):
        # Renumber the entries after the second one and slip a forged one in as entry 3, hashed correctly
        # but linked to nothing the chain holds.
        originals = rows[2:]
        for row in reversed(originals):
            connection.execute(update(t.audit_log).where(_where(row)).values(seq=row["seq"] + 1))
        forged = {**rows[2], "action": "read", "prev_hash": "f" * 64}
        forged["hash"] = entry_hash(**{k: v for k, v in forged.items() if k != "hash"})
        connection.execute(insert(t.audit_log).values(**forged))

        def repair(c):
            c.execute(t.audit_log.delete().where(_where(forged)))
            for row in originals:
                c.execute(
                    update(t.audit_log)
                    .where(
                        (t.audit_log.c.clinic_id == row["clinic_id"]) & (t.audit_log.c.seq == row["seq"] + 1)
                    )
                    .values(seq=row["seq"])
                )

        return repair

    _tamper_and_verify(store, world, monkeypatch, database_url, forge_in_the_middle, "inserted", 3)


def test_the_cli_says_the_chain_holds_and_exits_0(store, world, chart, monkeypatch, database_url):
    chart.patient()
    result = _run_verify(monkeypatch, database_url)
    assert result.exit_code == 0, result.output
    assert f"clinic {world.clinic}:" in result.output and "chain holds" in result.output
    data = json.loads(_run_verify(monkeypatch, database_url, "--json").output)
    mine = next(c for c in data["clinics"] if c["clinic_id"] == world.clinic)
    assert data["holds"] is True and mine["entries"] >= 1 and len(mine["head_hash"]) == 64


def test_a_failed_change_leaves_no_entry(api, store, world, chart):
    visit = chart.visit()
    before = len(log_rows(store, world.clinic))
    assert (
        api.patch(
            f"/api/visits/{visit}", json={"pain_before": 11}, headers=world.clinician.headers
        ).status_code
        == 422
    )
    assert api.post(f"/api/visits/{visit}/sign", headers=world.colleague.headers).status_code == 403
    assert len(log_rows(store, world.clinic)) == before


def test_it_answers_with_a_request_id_and_replaces_one_it_cannot_log_safely(api, world):
    fresh = api.get("/api/patients", headers=world.clinician.headers)
    assert uuid.UUID(fresh.headers["x-request-id"])
    unsafe = api.get("/api/patients", headers={**world.clinician.headers, "X-Request-ID": "Ann Example <b>"})
    assert uuid.UUID(unsafe.headers["x-request-id"])


def test_an_audit_in_a_read_only_transaction_fails_at_once(store, world):
    user = _clinician(store, world)
    with (
        pytest.raises(RuntimeError, match="write transaction"),
        store.clinic(user.clinic_id, write=False) as records,
    ):
        records.audit(user, "read", "patient", None)
