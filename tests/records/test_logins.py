"""Signing in and staying signed in (issue 12.5), on SQLite and PostgreSQL: one generic failure message and
similar timing, the rate limit kept in the database under hashes, server-side sessions that expire (idle and
absolute) and end on sign-out, sign-out everywhere and a password change, tokens listed (never their secret)
and revoked through the API, the account page and the CLI."""

from __future__ import annotations

import base64
import json
import re
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from records_helpers import PATIENT
from sqlalchemy import select, update
from typer.testing import CliRunner

from dryneedling.cli import app as cli
from dryneedling.db import tables as t
from dryneedling.services import accounts, logins

PASSWORD = "a long enough password"


@pytest.fixture
def browser(api) -> Iterator[TestClient]:
    with TestClient(api.app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def second_browser(api) -> Iterator[TestClient]:
    with TestClient(api.app, raise_server_exceptions=False) as client:
        yield client


def _user(store, world, role: str = "clinician"):
    email = f"{role}.{uuid.uuid4().hex[:8]}@example.org"
    return accounts.add_user(
        store, uuid.UUID(world.clinic), email, role, PASSWORD, name=f"Login {role.title()}"
    )


def _csrf(page) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _try(client: TestClient, email: str, password: str):
    token = _csrf(client.get("/records/login"))
    return client.post("/records/login", data={"csrf": token, "email": email, "password": password})


def _sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    page = _try(client, email, password)
    assert page.url.path == "/records/patients", page.text
    return _csrf(page)


def _cookie_payload(client: TestClient) -> dict:
    value = client.cookies["dn_session"]
    data = value.split(".")[0]
    return json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))


# -- sign-in failures and the rate limit -----------------------------------------------------------------
def test_an_unknown_address_and_a_wrong_password_get_the_same_answer(browser, store, world):
    user = _user(store, world)
    unknown = _try(browser, f"nobody.{uuid.uuid4().hex[:6]}@example.org", PASSWORD)
    wrong = _try(browser, user.email, "not the password at all")
    assert unknown.status_code == wrong.status_code == 401
    message = re.search(r'role="alert"[^>]*>(.*?)</p>', wrong.text, re.S).group(1)
    assert message == re.search(r'role="alert"[^>]*>(.*?)</p>', unknown.text, re.S).group(1)
    assert "wrong e-mail address or password" in message


def test_an_unknown_address_takes_about_as_long_as_a_wrong_password(store, world):
    user = _user(store, world)

    def timed(email: str) -> float:
        start = time.perf_counter()
        with pytest.raises(Exception):  # noqa: B017 - NotAuthenticated, or TooManyAttempts never (fresh keys)
            logins.sign_in(store, email, "not the password at all", None)
        return time.perf_counter() - start

    known = statistics.median(timed(user.email) for _ in range(3))
    unknown = statistics.median(timed(f"ghost.{uuid.uuid4().hex}@example.org") for _ in range(3))
    # both run one argon2id verification; without the dummy check the unknown address would take ~0 s
    assert unknown > 0.5 * known, (known, unknown)


def test_five_failures_lock_the_account_for_a_while_even_with_the_right_password(browser, store, world):
    user = _user(store, world)
    for _ in range(5):
        assert _try(browser, user.email, "not the password at all").status_code == 401
    locked = _try(browser, user.email, PASSWORD)
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["retry-after"]) <= 15 * 60
    assert "too many failed sign-ins" in locked.text
    # an unknown address is limited alike, so the limit tells nothing about who has an account
    ghost = f"ghost.{uuid.uuid4().hex[:6]}@example.org"
    for _ in range(5):
        assert _try(browser, ghost, PASSWORD).status_code == 401
    assert _try(browser, ghost, PASSWORD).status_code == 429
    # another account from the same address is not locked by them
    other = _user(store, world)
    _sign_in(browser, other.email)


def test_the_limit_is_kept_in_the_database_under_hashes_not_addresses(browser, store, world):
    user = _user(store, world)
    _try(browser, user.email, "not the password at all")
    with store.engine.connect() as connection:
        keys = connection.execute(select(t.login_attempts.c.key)).scalars().all()
    assert keys and all(re.fullmatch(r"[0-9a-f]{64}", key) for key in keys)
    assert not any(user.email in key or "testclient" in key for key in keys)
    # a second process (another app on the same database) sees the same count
    for _ in range(4):
        with pytest.raises(Exception):  # noqa: B017
            logins.sign_in(store, user.email, "not the password at all", "203.0.113.9")
    assert _try(browser, user.email, PASSWORD).status_code == 429


def test_one_client_address_is_limited_across_accounts(store, world):
    policy = logins.LoginPolicy(address_limit=3)
    address = f"198.51.100.{uuid.uuid4().int % 250}"
    for _ in range(3):
        with pytest.raises(logins.NotAuthenticated):
            logins.sign_in(
                store, f"g{uuid.uuid4().hex[:6]}@example.org", "whatever it is now", address, policy
            )
    with pytest.raises(logins.TooManyAttempts):
        logins.sign_in(store, _user(store, world).email, PASSWORD, address, policy)


# -- sessions --------------------------------------------------------------------------------------------
def test_the_cookie_holds_only_a_random_id_and_the_database_only_its_hash(browser, store, world):
    user = _user(store, world)
    _sign_in(browser, user.email)
    payload = _cookie_payload(browser)
    assert set(payload) == {"sid", "csrf"}
    assert str(user.id) not in json.dumps(payload)
    with store.engine.connect() as connection:
        hashes = (
            connection.execute(select(t.sessions.c.id_hash).where(t.sessions.c.user_id == user.id))
            .scalars()
            .all()
        )
    assert hashes == [logins.session_hash(payload["sid"])] and payload["sid"] not in hashes


def test_the_session_cookie_is_httponly_and_samesite_lax(browser, store, world):
    user = _user(store, world)
    csrf = _csrf(browser.get("/records/login"))
    answer = browser.post(
        "/records/login",
        data={"csrf": csrf, "email": user.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # development: http


def _age_session(store, user, **moved: timedelta) -> None:
    with store.engine.begin() as connection:
        for column, delta in moved.items():
            connection.execute(
                update(t.sessions)
                .where(t.sessions.c.user_id == user.id)
                .values({column: datetime.now(UTC) - delta})
            )


@pytest.mark.parametrize(
    "moved",
    [{"last_seen_at": timedelta(minutes=31)}, {"expires_at": timedelta(seconds=1)}],
    ids=["idle", "absolute"],
)
def test_a_session_ends_when_idle_too_long_or_too_old(browser, store, world, moved):
    user = _user(store, world)
    _sign_in(browser, user.email)
    assert browser.get("/api/patients").status_code == 200
    _age_session(store, user, **moved)
    assert browser.get("/api/patients").status_code == 401
    page = browser.get("/records/patients")
    assert page.url.path == "/records/login"


def test_a_request_keeps_the_session_alive(browser, store, world):
    user = _user(store, world)
    _sign_in(browser, user.email)
    _age_session(store, user, last_seen_at=timedelta(minutes=20))
    assert browser.get("/api/patients").status_code == 200  # 20 min idle: still alive, and seen now
    _age_session(store, user, created_at=timedelta(minutes=40))
    with store.engine.connect() as connection:
        seen = connection.execute(
            select(t.sessions.c.last_seen_at).where(t.sessions.c.user_id == user.id)
        ).scalar()
    seen = seen if seen.tzinfo else seen.replace(tzinfo=UTC)
    assert datetime.now(UTC) - seen < timedelta(minutes=1)


def test_signing_out_revokes_the_session_so_a_copied_cookie_is_useless(browser, second_browser, store, world):
    user = _user(store, world)
    token = _sign_in(browser, user.email)
    second_browser.cookies.set("dn_session", browser.cookies["dn_session"])
    assert second_browser.get("/api/patients").status_code == 200
    browser.post("/records/logout", data={"csrf": token})
    assert second_browser.get("/api/patients").status_code == 401


def test_sign_out_everywhere_ends_every_session_and_on_request_every_token(
    browser, second_browser, store, world, api
):
    user = _user(store, world)
    token = accounts.issue_token(store, user.email, name="script")
    _sign_in(second_browser, user.email)
    csrf = _sign_in(browser, user.email)
    page = browser.post("/records/logout-everywhere", data={"csrf": csrf})
    assert page.url.path == "/records/login"
    assert second_browser.get("/api/patients").status_code == 401
    assert browser.get("/api/patients").status_code == 401
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/patients", headers=bearer).status_code == 200  # tokens stay unless asked
    csrf = _sign_in(browser, user.email)
    browser.post("/records/logout-everywhere", data={"csrf": csrf, "tokens": "on"})
    assert api.get("/api/patients", headers=bearer).status_code == 401


# -- password change -------------------------------------------------------------------------------------
def _change(client, csrf, current, new, again=None):
    return client.post(
        "/records/account/password",
        data={
            "csrf": csrf,
            "current_password": current,
            "new_password": new,
            "new_password_again": again or new,
        },
    )


def test_a_password_change_needs_the_current_password_and_a_good_new_one(browser, store, world):
    user = _user(store, world)
    csrf = _sign_in(browser, user.email)
    assert _change(browser, csrf, "not the password at all", "a brand new passphrase").status_code == 403
    short = _change(browser, csrf, PASSWORD, "short one")
    assert short.status_code == 422 and "at least 12 characters" in short.text
    own = _change(browser, csrf, PASSWORD, user.email.split("@")[0] + "-and-more")
    assert own.status_code == 422 and "must not contain your e-mail address or your name" in own.text
    named = _change(browser, csrf, PASSWORD, "my name is Clinician!")
    assert named.status_code == 422
    differ = _change(browser, csrf, PASSWORD, "a brand new passphrase", "another passphrase")
    assert differ.status_code == 422 and "differ" in differ.text


def test_a_password_change_signs_out_the_other_sessions_only(browser, second_browser, store, world):
    user = _user(store, world)
    _sign_in(second_browser, user.email)
    csrf = _sign_in(browser, user.email)
    done = _change(browser, csrf, PASSWORD, "a brand new passphrase")
    assert done.url.path == "/records/account" and "Your password is changed" in done.text
    assert browser.get("/api/patients").status_code == 200
    assert second_browser.get("/api/patients").status_code == 401
    assert _try(second_browser, user.email, PASSWORD).status_code == 401
    _sign_in(second_browser, user.email, "a brand new passphrase")


def test_a_new_user_needs_a_password_of_twelve_characters_not_their_name(store, world):
    with pytest.raises(accounts.InputError, match="12"):
        accounts.add_user(store, uuid.UUID(world.clinic), "x1@example.org", "clinician", "eleven char")
    with pytest.raises(accounts.InputError, match="name"):
        accounts.add_user(
            store,
            uuid.UUID(world.clinic),
            "mariana@example.org",
            "clinician",
            "Mariana2026!!",
            name="Mariana Lopez",
        )


# -- API tokens ------------------------------------------------------------------------------------------
def test_tokens_are_listed_without_their_secret_and_their_use_is_recorded(api, world):
    listed = api.get("/api/tokens", headers=world.clinician.headers)
    assert listed.status_code == 200 and listed.headers["cache-control"] == "no-store"
    items = listed.json()["items"]
    assert len(items) == 1
    secret = world.clinician.token.split("_", 2)[2]
    assert secret not in listed.text
    assert world.clinician.token.startswith(items[0]["prefix"])
    assert items[0]["last_used_at"] is not None and items[0]["revoked_at"] is None


def test_a_revoked_token_opens_nothing(api, store, world):
    token = accounts.issue_token(store, world.clinician.email, name="laptop")
    headers = {"Authorization": f"Bearer {token}"}
    token_id = next(
        i["id"] for i in api.get("/api/tokens", headers=headers).json()["items"] if i["name"] == "laptop"
    )
    revoked = api.delete(f"/api/tokens/{token_id}", headers=headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert api.get("/api/patients", headers=headers).status_code == 401
    assert api.get("/api/patients", headers=world.clinician.headers).status_code == 200  # the other one works


def test_only_an_owner_revokes_a_colleagues_token_and_never_another_clinics(api, store, world):
    colleague_token = api.get("/api/tokens", headers=world.colleague.headers).json()["items"][0]["id"]
    assert api.delete(f"/api/tokens/{colleague_token}", headers=world.clinician.headers).status_code == 404
    assert api.delete(f"/api/tokens/{colleague_token}", headers=world.outsider.headers).status_code == 404
    assert api.get("/api/tokens?clinic=true", headers=world.clinician.headers).status_code == 403
    everyone = api.get("/api/tokens?clinic=true", headers=world.owner.headers).json()["items"]
    assert colleague_token in {item["id"] for item in everyone}
    assert api.delete(f"/api/tokens/{colleague_token}", headers=world.owner.headers).status_code == 200
    assert api.get("/api/patients", headers=world.colleague.headers).status_code == 401
    assert api.delete(f"/api/tokens/{uuid.uuid4()}", headers=world.owner.headers).status_code == 404


def test_an_expired_token_opens_nothing(api, store, world):
    token = accounts.issue_token(store, world.clinician.email, name="short", days=1)
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/patients", headers=headers).status_code == 200
    token_id = uuid.UUID(hex=token.split("_")[1])
    with store.engine.begin() as connection:
        connection.execute(
            update(t.api_tokens).where(t.api_tokens.c.id == token_id).values(expires_at=datetime.now(UTC))
        )
    assert api.get("/api/patients", headers=headers).status_code == 401


def test_a_session_revoking_a_token_sends_its_csrf_token(browser, store, world):
    user = _user(store, world)
    token = accounts.issue_token(store, user.email, name="script")
    csrf = _sign_in(browser, user.email)
    token_id = browser.get("/api/tokens").json()["items"][0]["id"]
    assert browser.delete(f"/api/tokens/{token_id}").status_code == 403
    assert browser.delete(f"/api/tokens/{token_id}", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert browser.get("/api/patients", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_the_account_page_makes_lists_and_revokes_tokens(browser, store, world):
    user = _user(store, world)
    csrf = _sign_in(browser, user.email)
    made = browser.post("/records/account/tokens", data={"csrf": csrf, "name": "tablet", "days": "30"})
    assert made.status_code == 200
    token = re.search(r'<code class="token" id="new-token">([^<]+)</code>', made.text).group(1)
    assert browser.get("/api/patients", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    page = browser.get("/records/account")
    assert "tablet" in page.text and token.split("_", 2)[2] not in page.text  # the secret is shown once only
    token_id = uuid.UUID(hex=token.split("_")[1])
    browser.post(f"/records/account/tokens/{token_id}/revoke", data={"csrf": csrf})
    assert browser.get("/api/patients", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    bad = browser.post("/records/account/tokens", data={"csrf": csrf, "name": "x", "days": "many"})
    assert bad.status_code == 422 and "days" in bad.text


def test_the_cli_lists_and_revokes_tokens(database_url, monkeypatch, api, store, world):
    monkeypatch.setenv("DRYNEEDLING_DATABASE_URL", database_url)
    runner = CliRunner()
    listed = runner.invoke(cli, ["user", "tokens", world.assistant.email, "--json"])
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.output)
    assert len(items) == 1 and world.assistant.token.split("_", 2)[2] not in listed.output
    revoked = runner.invoke(cli, ["user", "revoke-token", items[0]["id"]])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert api.get("/api/patients", headers=world.assistant.headers).status_code == 401
    assert runner.invoke(cli, ["user", "revoke-token", "nope"]).exit_code == 2
    assert runner.invoke(cli, ["user", "revoke-token", str(uuid.uuid4())]).exit_code == 1
    assert runner.invoke(cli, ["user", "tokens", "nobody@example.org"]).exit_code == 1


def test_a_session_write_through_the_api_still_works(browser, store, world):
    user = _user(store, world)
    csrf = _sign_in(browser, user.email)
    assert browser.post("/api/patients", json=PATIENT, headers={"X-CSRF-Token": csrf}).status_code == 201


def test_sign_in_password_change_and_token_changes_go_to_the_clinics_audit_log(browser, store, world):
    user = _user(store, world)
    csrf = _sign_in(browser, user.email)
    _change(browser, csrf, PASSWORD, "a brand new passphrase")
    made = browser.post("/records/account/tokens", data={"csrf": csrf, "name": "tablet"})
    token_id = uuid.UUID(hex=re.search(r'id="new-token">dn_([0-9a-f]{32})_', made.text).group(1))
    browser.post(f"/records/account/tokens/{token_id}/revoke", data={"csrf": csrf})
    browser.post("/records/logout-everywhere", data={"csrf": csrf})
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(t.audit_log.c.action, t.audit_log.c.entity_id, t.audit_log.c.clinic_id)
            .where(t.audit_log.c.actor == user.id, t.audit_log.c.action.not_in(("read", "search", "print")))
            .order_by(t.audit_log.c.seq)
        ).all()
    assert [row.action for row in rows] == [
        "sign_in",
        "change_password",
        "issue_token",
        "revoke_token",
        "sign_out_everywhere",
    ]
    assert rows[2].entity_id == rows[3].entity_id == token_id
    assert {row.clinic_id for row in rows} == {user.clinic_id}
