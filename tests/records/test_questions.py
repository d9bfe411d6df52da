"""Readers' questions: a reader asks under a topic page, the spam filter refuses robots, the clinic's owner
and clinicians moderate under /records (assistants and auditors may not, another clinic gets 404), and only
approved questions appear, with the clinician's answer and name. Both database backends."""

from __future__ import annotations

import re
import secrets
import time
import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from dryneedling.db import tables as t
from dryneedling.services import accounts
from dryneedling.services import learn as learn_service
from dryneedling.services import questions as service

PASSWORD = "a long enough password"
QUESTION = "How long does the soreness after a session usually last?"


def csrf(response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', response.text).group(1)


@dataclass
class Clinic:
    id: uuid.UUID
    staff: dict[str, TestClient]
    outsider: TestClient
    topic: str
    api: TestClient

    def ask(self, text: str = QUESTION, age: float = 30.0, **extra: str):
        """A reader's post, with a form token issued ``age`` seconds ago (the real page's token)."""
        page = self.api.get(f"/learn/{self.topic}")
        assert page.status_code == 200 and 'id="questions"' in page.text
        desk = self.api.app.state.question_desk
        token = desk.clock.issue(time.time() - age)
        data = {"text": text, "name": "", "email": "", "website": "", "form_token": token, **extra}
        return self.api.post(f"/learn/{self.topic}/questions", data=data, follow_redirects=False)

    def pending(self) -> list:
        with self.api.app.state.records_store.questions(self.id, write=False) as records:
            return records.questions("pending")


def _client(api: TestClient, store, clinic_id, role: str, name: str) -> TestClient:
    email = f"{role}.{secrets.token_hex(4)}@example.org"
    accounts.add_user(store, clinic_id, email, role, PASSWORD, name=name)
    client = TestClient(api.app)
    page = client.get("/records/login")
    signed = client.post("/records/login", data={"csrf": csrf(page), "email": email, "password": PASSWORD})
    assert signed.status_code == 200, signed.text[:300]
    return client


@pytest.fixture
def clinic(api, store, catalog) -> Clinic:
    """A clinic with the question form on (the only one on in this database), its staff signed in."""
    made = accounts.add_clinic(store, "Harbour Physio")
    other = accounts.add_clinic(store, "Hill Physio")
    with store.engine.begin() as connection:
        connection.execute(update(t.clinic_settings).values(questions_enabled=False))
    api.app.state.question_desk = None  # a fresh rate limiter for each test
    staff = {
        "owner": _client(api, store, made.id, "owner", "Olive Owner"),
        "clinician": _client(api, store, made.id, "clinician", "Cara Clinician"),
        "assistant": _client(api, store, made.id, "assistant", "Ash Assistant"),
        "auditor": _client(api, store, made.id, "auditor", "Aud Auditor"),
    }
    outsider = _client(api, store, other.id, "owner", "Hugo Hill")
    page = staff["owner"].get("/records/questions")
    turned = staff["owner"].post("/records/questions/settings", data={"csrf": csrf(page), "enabled": "on"})
    assert turned.status_code == 200 and "The question form is on" in turned.text
    topic = learn_service.pages(catalog)[0].slug
    return Clinic(made.id, staff, outsider, topic, api)


def decide(client: TestClient, question_id: str, action: str, answer: str = ""):
    page = client.get("/records/questions")
    return client.post(
        f"/records/questions/{question_id}",
        data={"csrf": csrf(page), "action": action, "answer": answer},
        follow_redirects=False,
    )


def test_it_shows_no_question_form_until_a_clinic_turns_it_on(api, store, catalog):
    with store.engine.begin() as connection:
        connection.execute(update(t.clinic_settings).values(questions_enabled=False))
    page = api.get(f"/learn/{learn_service.pages(catalog)[0].slug}")
    assert page.status_code == 200 and 'id="questions"' not in page.text
    assert "set-cookie" not in page.headers


def test_it_keeps_a_readers_question_pending_and_private_until_approved(clinic):
    asked = clinic.ask(name="Sam", email="sam@example.org")
    assert asked.status_code == 303 and asked.headers["location"].endswith("?asked=1#questions")
    thanks = clinic.api.get(asked.headers["location"])
    assert "waits for a clinician" in thanks.text and QUESTION not in thanks.text
    queue = clinic.staff["clinician"].get("/records/questions")
    assert QUESTION in queue.text and "sam@example.org" in queue.text


def test_it_shows_an_approved_question_with_the_clinicians_answer_and_name(clinic):
    clinic.ask(
        text=QUESTION + " <script>alert(1)</script> see https://example.com", name="Sam", email="s@x.org"
    )
    (question,) = clinic.pending()
    done = decide(
        clinic.staff["clinician"], question.id, "approve", "Usually one to three days. <b>Heat</b> helps."
    )
    assert done.status_code == 303
    page = clinic.api.get(f"/learn/{clinic.topic}")
    assert "Usually one to three days" in page.text and "Answer by Cara Clinician" in page.text
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    assert "&lt;b&gt;Heat&lt;/b&gt;" in page.text
    assert 'href="https://example.com' not in page.text  # links are never made clickable
    assert "s@x.org" not in page.text  # the e-mail stays private
    assert "from Sam" in page.text


def test_it_never_shows_a_rejected_question(clinic):
    clinic.ask(text="Cheap pills and backlinks, buy now at www.spam.shop !!!")
    (question,) = clinic.pending()
    assert question.spam_reasons  # marked as probable spam for the moderator
    assert decide(clinic.staff["owner"], question.id, "reject").status_code == 303
    page = clinic.api.get(f"/learn/{clinic.topic}")
    assert "backlinks" not in page.text
    assert "backlinks" in clinic.staff["owner"].get("/records/questions").text  # listed as rejected


def test_it_asks_for_an_answer_before_approving(clinic):
    clinic.ask()
    (question,) = clinic.pending()
    refused = decide(clinic.staff["owner"], question.id, "approve", "   ")
    assert refused.status_code == 422 and "needs your answer" in refused.text
    assert len(clinic.pending()) == 1


def test_it_refuses_moderation_to_assistants_and_auditors(clinic):
    clinic.ask()
    (question,) = clinic.pending()
    for role in ("assistant", "auditor"):
        client = clinic.staff[role]
        assert client.get("/records/questions").status_code == 403
        page = client.get("/records/patients")
        refused = client.post(
            f"/records/questions/{question.id}",
            data={"csrf": csrf(page), "action": "approve", "answer": "Yes."},
        )
        assert refused.status_code == 403
    assert len(clinic.pending()) == 1


def test_it_refuses_turning_the_form_off_to_a_clinician(clinic):
    client = clinic.staff["clinician"]
    page = client.get("/records/questions")
    assert "Save setting" not in page.text
    refused = client.post("/records/questions/settings", data={"csrf": csrf(page)})
    assert refused.status_code == 403


def test_it_hides_the_queue_from_another_clinics_staff(clinic):
    clinic.ask()
    (question,) = clinic.pending()
    assert QUESTION not in clinic.outsider.get("/records/questions").text
    refused = decide(clinic.outsider, question.id, "approve", "Not yours.")
    assert refused.status_code == 404
    assert len(clinic.pending()) == 1


def test_it_refuses_a_robot_that_fills_the_honeypot(clinic):
    refused = clinic.ask(website="http://spam.example")
    assert refused.status_code == 400 and "refused" in refused.text
    assert clinic.pending() == []


def test_it_refuses_a_question_sent_faster_than_a_person_types(clinic):
    refused = clinic.ask(age=0.5)
    assert refused.status_code == 400
    refused = clinic.ask(form_token="forged.0000")
    assert refused.status_code == 400
    assert clinic.pending() == []


def test_it_limits_the_questions_from_one_address(clinic):
    for n in range(3):
        assert clinic.ask(text=f"{QUESTION} (question {n})").status_code == 303
    limited = clinic.ask(text=QUESTION + " once more")
    assert limited.status_code == 429 and "too many questions" in limited.text
    assert QUESTION + " once more" in limited.text  # the reader's text is kept in the form
    assert len(clinic.pending()) == 3


def test_it_learns_from_the_clinics_decisions(clinic, store, catalog):
    clinic.ask(text="Casino bonus, earn crypto income fast, click here")
    clinic.ask(text="Does dry needling hurt more than acupuncture does?")
    for question in clinic.pending():
        decide(
            clinic.staff["owner"],
            question.id,
            "reject" if "Casino" in question.text else "approve",
            "Often a little.",
        )
    with store.questions(clinic.id, write=False) as records:
        decisions = records.decisions(100)
    assert sorted(approved for _, approved in decisions) == [False, True]
    spam = service._spam_filter(clinic.api.app.state.question_desk, decisions)
    assert spam.classifier.trained()
    assert spam.score("casino crypto income")[0] > spam.score("does needling hurt")[0]


def test_it_refuses_to_decide_a_question_twice(clinic):
    clinic.ask()
    (question,) = clinic.pending()
    assert decide(clinic.staff["owner"], question.id, "reject").status_code == 303
    assert decide(clinic.staff["clinician"], question.id, "approve", "Late.").status_code == 409


def test_it_records_who_decided_in_the_audit_log(clinic, store):
    clinic.ask()
    (question,) = clinic.pending()
    decide(clinic.staff["clinician"], question.id, "approve", "Usually a day or two.")
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(t.audit_log.c.action).where(
                t.audit_log.c.clinic_id == clinic.id, t.audit_log.c.entity_id == uuid.UUID(question.id)
            )
        ).all()
    assert [row.action for row in rows] == ["approve"]


def test_it_keeps_a_readers_address_out_of_the_access_log():
    import logging

    from dryneedling.web.logs import DropQueryStrings

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.9:5000", "POST", "/learn/safety/questions", "1.1", 303),
        None,
    )
    DropQueryStrings().filter(record)
    assert "203.0.113.9" not in record.getMessage()
