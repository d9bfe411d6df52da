"""Security headers on every answer and no inline script or style on any page (issue 12.5).

A signed-in crawler follows every same-site link from the home page, the public pages and the records pages
(with a patient, an episode and a visit in the database, so their pages are reached too) and checks each
answer: the Content-Security-Policy (no inline script, frame-ancestors 'none'), nosniff, a referrer policy,
a permissions policy; and in every HTML page no inline <script>, <style>, style= or on...= attribute, which
that policy would block. Follow-up pages send no referrer; production adds HSTS and a Secure cookie and
refuses to start without its secret key.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from dryneedling.services import accounts
from dryneedling.web.app import create_app
from dryneedling.web.headers import CONTENT_SECURITY_POLICY

PASSWORD = "a long enough password"
INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "<style> element": re.compile(r"<style\b", re.I),
    "style= attribute": re.compile(r"<[^>]+\sstyle\s*=", re.I),
    "on...= event handler": re.compile(r"<[^>]+\son[a-z]+\s*=", re.I),
    "hx-on attribute": re.compile(r"\shx-on", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}
SKIP = re.compile(r"^/(static/|openapi\.json|api/|records/logout|sitemap\.xml)|\.pdf$")


def _assert_headers(response, path: str) -> None:
    headers = response.headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self';" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff", path
    assert headers["x-frame-options"] == "DENY", path
    assert headers["referrer-policy"] == "same-origin", path
    assert "camera=()" in headers["permissions-policy"], path
    assert "strict-transport-security" not in headers, path  # development: plain http on localhost


def _assert_no_inline_code(html: str, path: str) -> None:
    for what, pattern in INLINE.items():
        found = pattern.search(html)
        assert found is None, f"{path}: {what}: {found.group(0)[:120] if found else ''}"


@pytest.fixture
def signed_in(api, store, world, chart):
    """A browser-like client signed in as a clinician of a clinic with a patient, episode and signed visit."""
    chart.signed_visit()
    email = f"crawler.{uuid.uuid4().hex[:6]}@example.org"
    accounts.add_user(store, uuid.UUID(world.clinic), email, "clinician", PASSWORD, name="Crawl Er")
    with TestClient(api.app, raise_server_exceptions=False) as client:
        page = client.get("/records/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        # the chart's records belong to world.clinician; the crawler signs in as a colleague of that clinic
        client.post("/records/login", data={"csrf": csrf, "email": email, "password": PASSWORD})
        yield client


def test_every_page_has_the_headers_and_no_inline_code(signed_in):
    seen: set[str] = set()
    queue = ["/", "/atlas", "/evidence", "/assess", "/learn", "/records/patients", "/records/account"]
    html_pages = 0
    while queue and len(seen) < 250:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = signed_in.get(path)
        assert response.status_code < 500, path
        _assert_headers(response, path)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        html_pages += 1
        _assert_no_inline_code(response.text, path)
        for link in re.findall(r'(?:href|action)="([^"#]+)', response.text):
            target = urlsplit(urljoin("http://testserver" + path, link))
            if target.netloc == "testserver" and not SKIP.search(target.path) and target.path not in seen:
                queue.append(target.path)
    assert html_pages >= 15 and any(p.startswith("/records/visits/") for p in seen), sorted(seen)
    # static files, the API and error answers carry them too
    for path in ("/static/app.js", "/api/health", "/api/patients/not-an-id", "/no/such/page"):
        _assert_headers(signed_in.get(path), path)


def test_form_answers_with_errors_have_no_inline_code_either(signed_in):
    for path, data in (("/assess", {}), ("/assess/report", {}), ("/records/patients", {"name": ""})):
        response = signed_in.post(path, data=data)
        assert response.status_code < 500
        _assert_headers(response, path)
        _assert_no_inline_code(response.text, path)


def test_follow_up_pages_send_no_referrer(api):
    for path in ("/followup/some-token", "/followup/"):
        assert api.get(path).headers["referrer-policy"] == "no-referrer"
    assert api.get("/records/login").headers["referrer-policy"] == "same-origin"


def test_production_adds_hsts_and_a_secure_cookie(store, catalog, monkeypatch):
    monkeypatch.setenv("DRYNEEDLING_ENV", "production")
    monkeypatch.setenv("DRYNEEDLING_SECRET_KEY", "k" * 48)
    with TestClient(create_app(catalog, store), base_url="https://testserver") as client:
        page = client.get("/records/login")
        assert page.headers["strict-transport-security"].startswith("max-age=31536000")
        assert "secure" in page.headers["set-cookie"].lower()


def test_production_without_a_secret_key_refuses_to_build_the_app(store, catalog, monkeypatch):
    monkeypatch.setenv("DRYNEEDLING_ENV", "production")
    monkeypatch.delenv("DRYNEEDLING_SECRET_KEY", raising=False)
    with pytest.raises(accounts.InputError, match="DRYNEEDLING_SECRET_KEY"):
        create_app(catalog, store)


def test_dryneedling_serve_in_production_without_a_secret_key_exits_naming_it(tmp_path, database_url):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DRYNEEDLING_")} | {
        "DRYNEEDLING_ENV": "production",
        "DRYNEEDLING_DATA_DIR": str(tmp_path),
        "DRYNEEDLING_DATABASE_URL": database_url,
        "DRYNEEDLING_PORT": "1",  # never reached: it must stop before binding
    }
    done = subprocess.run(
        [sys.executable, "-m", "dryneedling", "serve"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "DRYNEEDLING_SECRET_KEY" in done.stderr + done.stdout
    assert "production" in done.stderr + done.stdout
    assert not (tmp_path / "dryneedling.secret").exists()  # no key was made up in its place
