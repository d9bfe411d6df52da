"""Helpers for the practice-records tests: example bodies and a Chart that builds records through the API."""

from __future__ import annotations

import secrets
from datetime import date
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def profile(name: str = "neck_pain_headache") -> dict:
    return yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())


def born_at(age: int) -> str:
    """A birth date (YYYY-MM-DD) that makes someone ``age`` today: their birthday was on 1 January."""
    return f"{date.today().year - age}-01-01"


PATIENT = {"name": "Ann Example", "birth_date": "1980-02-03", "sex": "female", "external_id": "MRN-1"}
THREE_MUSCLES = [
    {
        "muscle": "upper_trapezius",
        "side": "right",
        "needles": 2,
        "length_mm": 30,
        "gauge": 0.25,
        "depth_mm": 15,
        "technique": "fast_in_fast_out",
        "twitch_responses": 3,
    },
    {
        "muscle": "sternocleidomastoid",
        "side": "bilateral",
        "needles": 2,
        "length_mm": 30,
        "gauge": 0.25,
        "depth_mm": 20,
        "technique": "static",
        "twitch_responses": 0,
        "duration_min": 10,
    },
    {
        "muscle": "temporalis",
        "side": "right",
        "needles": 1,
        "length_mm": 15,
        "gauge": 0.2,
        "depth_mm": 8,
        "technique": "static",
        "twitch_responses": 1,
    },
]


def visit_body(needling=None, **changes) -> dict:
    needling = THREE_MUSCLES if needling is None else needling
    body = {
        "subjective": "Headache 4 days a week; worse at the desk.",
        "pain_before": 6,
        "pain_after": 3,
        "heat_before": False,
        "heat_after": True,
        "needling": needling,
        "needles_out": sum(entry["needles"] for entry in needling),
        "clean_technique": True,
        "sharps_disposed": True,
        "adverse_events": [{"category": "bruising", "severity": "mild"}],
        "plan": "Review soreness at 48 h; home stretches.",
    }
    body.update(changes)
    return body


class Chart:
    """Builds records through the API as a given persona and returns their ids."""

    def __init__(self, api: TestClient, world) -> None:
        self.api = api
        self.world = world

    def patient(self, as_: str = "clinician", **changes) -> str:
        body = {**PATIENT, "external_id": f"MRN-{secrets.token_hex(4)}", **changes}
        response = self.api.post("/api/patients", json=body, headers=self.world.people[as_].headers)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def episode(
        self, patient_id: str | None = None, as_: str = "clinician", example: str = "neck_pain_headache"
    ) -> str:
        body = profile(example)
        # the patient is as old as the example says (an episode's profile may not contradict the birth date)
        patient_id = patient_id or self.patient(birth_date=born_at(body["age"]))
        response = self.api.post(
            f"/api/patients/{patient_id}/episodes",
            json={"profile": body, "goals": "Work a full day without headache"},
            headers=self.world.people[as_].headers,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def consent(self, episode_id: str, as_: str = "clinician") -> dict:
        response = self.api.post(
            f"/api/episodes/{episode_id}/consent",
            json={
                "signed_by": "patient",
                "signer_name": "Ann Example",
                "method": "typed_name_and_tick",
                "copy_given": True,
            },
            headers=self.world.people[as_].headers,
        )
        assert response.status_code == 201, response.text
        return response.json()

    def visit(self, episode_id: str | None = None, as_: str = "clinician", **changes) -> str:
        if episode_id is None:
            episode_id = self.episode()
            self.consent(episode_id)
        response = self.api.post(
            f"/api/episodes/{episode_id}/visits",
            json=visit_body(**changes),
            headers=self.world.people[as_].headers,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def signed_visit(self, as_: str = "clinician") -> str:
        visit_id = self.visit(as_=as_)
        response = self.api.post(f"/api/visits/{visit_id}/sign", headers=self.world.people[as_].headers)
        assert response.status_code == 200, response.text
        return visit_id


BROWSER_PASSWORD = "a long enough password"


def set_up_clinic_in_browser(page, server: str) -> None:
    """The first-run form filled in a browser: Harbour Physio, its owner Olive signed in."""
    page.goto(server + "/records")
    page.get_by_label("Clinic name").fill("Harbour Physio")
    page.get_by_label("Your name").fill("Olive Owner")
    page.get_by_label("E-mail (your sign-in)").fill("olive@harbour.example")
    page.get_by_label("Password (at least 12 characters)").fill(BROWSER_PASSWORD)
    page.get_by_label("Password again").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Create clinic and sign in").click()
