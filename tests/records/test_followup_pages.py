"""The follow-up on the records pages: the visit page lists its follow-ups with link and QR code, the
patient's red-flag answer turns up as an alert linked from the navigation, a clinician resolves it and
confirms or dismisses the event drafts by form, the owner sets hours and phone, and the card prints."""

from __future__ import annotations

import re
import subprocess

from fastapi.testclient import TestClient
from test_records_pages import PASSWORD, csrf, walk

from dryneedling.db import open_store
from dryneedling.web.app import create_app


def _setup(client: TestClient) -> None:
    page = client.get("/records/setup")
    client.post(
        "/records/setup",
        data={
            "csrf": csrf(page),
            "clinic": "Harbour Physio",
            "name": "Olive Owner",
            "email": "olive@harbour.example",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )


def test_it_runs_the_followup_through_the_clinicians_pages(tmp_path, catalog):
    store = open_store(f"sqlite:///{tmp_path / 'pages.db'}", migrate=True)
    with TestClient(create_app(catalog, store, session_key="k" * 40)) as client:
        _setup(client)
        page = client.get("/records/followup-settings")
        saved = client.post(
            "/records/followup-settings",
            data={
                "csrf": csrf(page),
                "hours": "24, 48",
                "link_days": "5",
                "phone": "+1 555 0100",
                "smtp_port": "25",
            },
        )
        assert saved.url.query == b"saved=1" and 'value="+1 555 0100"' in saved.text
        bad = client.post(
            "/records/followup-settings", data={"csrf": csrf(page), "hours": "soon", "link_days": "5"}
        )
        assert bad.status_code == 422 and "hours" in bad.text
        ids = walk(client, None)
        page = client.get(f"/records/visits/{ids['visit']}")
        rows = re.findall(r'<tr data-status="(\w+)"', page.text)
        assert rows == ["pending", "pending"]
        assert page.text.count("<svg") >= 2 and 'id="card-link"' in page.text
        urls = re.findall(r'class="fu-url"[^>]*value="([^"]+)"|value="([^"]+)" class="fu-url"', page.text)
        links = re.findall(r'value="(http://testserver/followup/[^"]+)"', page.text)
        assert len(links) == 2, urls
        card = client.get(f"/records/visits/{ids['visit']}/followup-card.pdf")
        assert card.status_code == 200 and card.content.startswith(b"%PDF")
        pdf = tmp_path / "card.pdf"
        pdf.write_bytes(card.content)
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "After your visit" in text and "+1 555 0100" in text and "Ann" not in text

        # the patient answers on the phone (no session needed) with a red flag
        token = links[0].rsplit("/", 1)[1]
        patient = TestClient(client.app)
        form = patient.get(f"/followup/{token}")
        assert form.status_code == 200 and "dn_session" not in form.headers.get("set-cookie", "")
        answered = patient.post(
            f"/followup/{token}",
            data={
                "soreness": "6",
                "bruising": "yes",
                "bleeding": "none",
                "fainting": "no",
                "breathless_or_chest_pain": "yes",
                "numbness_or_weakness": "no",
                "worse_pain": "no",
                "note": "Tight chest this morning",
            },
        )
        assert 'id="red-flag"' in answered.text and "short of breath" in answered.text

        page = client.get(f"/records/visits/{ids['visit']}")
        assert re.findall(r'<tr data-status="(\w+)"', page.text) == ["answered", "pending"]
        assert "ALERT" in page.text and "Tight chest this morning" in page.text
        alerts = client.get("/records/alerts")
        assert 'id="nav-alerts"' in alerts.text and "Ann Example" in alerts.text
        assert alerts.text.count('class="resolve"') == 1
        resolved = client.post(
            re.search(r'action="(/records/followups/[^"]+/resolve)"', alerts.text).group(1),
            data={"csrf": csrf(alerts)},
        )
        assert 'id="no-alerts"' in resolved.text
        drafts = re.findall(r'action="(/records/followup-events/[^"]+/decision)"', resolved.text)
        assert len(drafts) == 2
        client.post(drafts[0], data={"csrf": csrf(resolved), "decision": "confirm", "severity": "mild"})
        after = client.post(drafts[1], data={"csrf": csrf(resolved), "decision": "dismiss"})
        assert 'id="no-drafts"' in after.text
        page = client.get(f"/records/visits/{ids['visit']}")
        statuses = re.findall(r'<li data-status="(\w+)">', page.text)
        assert sorted(statuses) == ["confirmed", "dismissed"]
        assert "reported by the patient" in page.text
    store.engine.dispose()
