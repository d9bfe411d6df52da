"""Follow-up links by e-mail, against a real local SMTP server (aiosmtpd) the test starts: sent when the
visit is signed if the clinic has a mail server and the patient an address; a failed send keeps the note
signed and is recorded on the follow-up."""

from __future__ import annotations

import asyncio
import email
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from aiosmtpd.controller import Controller

from dryneedling.web.app import create_app
from live import serve


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _configure(api, world, port: int) -> None:
    response = api.put(
        "/api/clinic/followup-settings",
        json={
            "hours": [24, 48],
            "link_days": 7,
            "phone": "+1 555 0100",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_from": "desk@harbour.example.org",
        },
        headers=world.owner.headers,
    )
    assert response.status_code == 200, response.text


def _signed_visit_for(api, world, chart, patient_email: str | None) -> str:
    patient = chart.patient(email=patient_email) if patient_email else chart.patient()
    episode = chart.episode(patient)
    chart.consent(episode)
    visit_id = chart.visit(episode)
    response = api.post(f"/api/visits/{visit_id}/sign", headers=world.clinician.headers)
    assert response.status_code == 200, response.text
    return visit_id


def test_it_emails_each_link_when_the_visit_is_signed(api, world, chart, smtp):
    inbox, port = smtp
    _configure(api, world, port)
    visit_id = _signed_visit_for(api, world, chart, "Ann.Example@Example.org")
    assert len(inbox.messages) == 2
    assert inbox.recipients == [["ann.example@example.org"]] * 2
    items = api.get(f"/api/visits/{visit_id}/followups", headers=world.clinician.headers).json()
    bodies = [message.get_payload(decode=True).decode() for message in inbox.messages]
    for item, body in zip(items, bodies, strict=True):
        assert item["url"] in body and "Hello Ann," in body and "Example" not in body.split("\n")[0]
        assert item["email_sent_at"] is not None and item["email_error"] is None
    assert inbox.messages[0]["From"] == "desk@harbour.example.org"
    token = items[0]["url"].rsplit("/", 1)[1]
    assert api.get(f"/followup/{token}").status_code == 200


def test_it_sends_nothing_without_a_patient_address(api, world, chart, smtp):
    inbox, port = smtp
    _configure(api, world, port)
    _signed_visit_for(api, world, chart, None)
    assert inbox.messages == []


def test_it_keeps_the_sign_and_records_a_failed_send(api, world, chart):
    _configure(api, world, _free_port())  # nothing listens there
    visit_id = _signed_visit_for(api, world, chart, "ann@example.org")
    visit = api.get(f"/api/visits/{visit_id}", headers=world.clinician.headers).json()
    assert visit["status"] == "signed"
    items = api.get(f"/api/visits/{visit_id}/followups", headers=world.clinician.headers).json()
    assert len(items) == 2
    assert all(i["email_sent_at"] is None and "ConnectionRefusedError" in i["email_error"] for i in items)


def test_it_refuses_a_bad_patient_address_naming_the_field(api, world):
    response = api.post(
        "/api/patients",
        json={"name": "Bo Bad", "birth_date": "1990-01-01", "sex": "male", "email": "not-an-address"},
        headers=world.clinician.headers,
    )
    assert response.status_code == 422 and response.json()["error"]["field"] == "email"


class SlowInbox(Inbox):
    """A mail server that takes its time over each message (as a distant or busy one does)."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(SLOW_SECONDS)
        return await super().handle_DATA(server, session, envelope)


SLOW_SECONDS = 2.0


def test_signing_answers_before_a_slow_mail_server_has_taken_the_links(api, store, catalog, world, chart):
    inbox, port = SlowInbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _configure(api, world, port)
        episode = chart.episode(chart.patient(email="ann.example@example.org"))
        chart.consent(episode)
        visit_id = chart.visit(episode)
        with serve(create_app(catalog, store)) as url:
            started = time.monotonic()
            response = httpx.post(
                f"{url}/api/visits/{visit_id}/sign", headers=world.clinician.headers, timeout=30
            )
            answered = time.monotonic() - started
            assert response.status_code == 200, response.text
            assert answered < SLOW_SECONDS, f"the signature waited {answered:.1f} s for the mail server"
            deadline = time.monotonic() + 4 * SLOW_SECONDS + 10
            while len(inbox.messages) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
        assert len(inbox.messages) == 2  # and the links still went out, after the answer
        items = api.get(f"/api/visits/{visit_id}/followups", headers=world.clinician.headers).json()
        assert all(item["email_sent_at"] is not None and item["email_error"] is None for item in items)
    finally:
        controller.stop()
