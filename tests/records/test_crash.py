"""Nothing lost: the server is killed with SIGKILL while 20 clients create and sign visits; after a restart
every visit that was answered 201 is there, field for field, and every sign answered 200 is signed.

The server is the real ``dryneedling serve`` in its own process, on SQLite (WAL, synchronous=NORMAL) and on
PostgreSQL. SIGKILL kills the process, not the operating system: a commit that returned is in the WAL file
(SQLite) or the server's WAL (PostgreSQL), which survive a process kill; this test does not simulate a power
cut (see README, "Backup and restore").
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
from records_helpers import profile, visit_body

from dryneedling.services import accounts
from dryneedling.services.audit import verify_all

CLIENTS = 20
KILL_AFTER_SIGNED = 60  # kill once this many signs were answered,
KILL_AFTER_S = 8.0  # or after this long once at least MIN_SIGNED were (a busy machine is slower),
MIN_SIGNED = 10
GIVE_UP_S = 25.0  # or after this long in any case (then the test fails: too little load reached the server)

ONE_MUSCLE = [
    {
        "muscle": "upper_trapezius",
        "side": "left",
        "needles": 1,
        "length_mm": 30,
        "gauge": 0.25,
        "depth_mm": 12,
        "technique": "static",
        "twitch_responses": 2,
    }
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _server(database_url: str, data_dir: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """``dryneedling serve`` in its own process on ``database_url``; killed on exit if still alive."""
    port = _free_port()
    env = {
        **os.environ,
        "DRYNEEDLING_DATABASE_URL": database_url,
        "DRYNEEDLING_DATA_DIR": str(data_dir),
        "DRYNEEDLING_SECRET_KEY": "k" * 40,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "dryneedling", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("dryneedling serve did not start")
            time.sleep(0.1)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _episode(client: httpx.Client, headers: dict) -> str:
    patient = client.post(
        "/api/patients",
        json={"name": "Crash Test", "birth_date": f"{date.today().year - 47}-06-07", "sex": "male"},
        headers=headers,
    )
    assert patient.status_code == 201, patient.text
    episode = client.post(
        f"/api/patients/{patient.json()['id']}/episodes",
        json={"profile": profile("neck_pain_headache")},
        headers=headers,
    )
    assert episode.status_code == 201, episode.text
    episode_id = episode.json()["id"]
    consent = client.post(
        f"/api/episodes/{episode_id}/consent",
        json={"signed_by": "patient", "signer_name": "Crash Test", "method": "typed_name_and_tick"},
        headers=headers,
    )
    assert consent.status_code == 201, consent.text
    return episode_id


SENT_FIELDS = ("subjective", "pain_before", "pain_after", "heat_before", "heat_after", "needles_out", "plan")


def test_a_killed_server_loses_no_answered_visit(store, database_url, backend, tmp_path):
    clinic = accounts.add_clinic(store, "Crash Clinic")
    email = f"crash.{uuid.uuid4().hex[:8]}@example.org"
    accounts.add_user(store, clinic.id, email, "clinician", None, name="Crash Clinician")
    headers = {"Authorization": f"Bearer {accounts.issue_token(store, email)}"}

    created: dict[str, dict] = {}  # visit id -> body sent, for every 201
    signed: set[str] = set()  # visit ids whose sign was answered 200
    failures: list[str] = []  # any answer other than 201/200 (a 5xx would be a bug, not the kill)
    lock = threading.Lock()
    stop = threading.Event()

    with _server(database_url, tmp_path) as (process, url):
        with httpx.Client(base_url=url, timeout=30) as client:
            episodes = [_episode(client, headers) for _ in range(CLIENTS)]

        def client_loop(index: int) -> None:
            with httpx.Client(base_url=url, timeout=30) as client:
                counter = 0
                while not stop.is_set():
                    counter += 1
                    body = visit_body(
                        needling=ONE_MUSCLE,
                        subjective=f"client {index} visit {counter}",
                        pain_before=counter % 11,
                        pain_after=index % 11,
                        adverse_events=[],
                    )
                    try:
                        response = client.post(
                            f"/api/episodes/{episodes[index]}/visits", json=body, headers=headers
                        )
                        if response.status_code != 201:
                            failures.append(f"create {response.status_code}: {response.text[:200]}")
                            return
                        visit_id = response.json()["id"]
                        with lock:
                            created[visit_id] = body
                        response = client.post(f"/api/visits/{visit_id}/sign", headers=headers)
                        if response.status_code != 200:
                            failures.append(f"sign {response.status_code}: {response.text[:200]}")
                            return
                        with lock:
                            signed.add(visit_id)
                    except httpx.HTTPError:
                        return  # the server is gone

        threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        while len(signed) < KILL_AFTER_SIGNED:
            waited = time.monotonic() - started
            if (waited > KILL_AFTER_S and len(signed) >= MIN_SIGNED) or waited > GIVE_UP_S or failures:
                break
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)  # mid-load: requests are in flight
        process.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=40)
        assert not any(thread.is_alive() for thread in threads)

    print(f"{backend}: {len(created)} visits answered 201, {len(signed)} signs answered 200 before the kill")
    assert not failures, failures[:3]
    assert len(signed) >= MIN_SIGNED, "too little load reached the server before the kill"
    with lock:
        created_now, signed_now = dict(created), set(signed)

    with _server(database_url, tmp_path) as (_, url), httpx.Client(base_url=url, timeout=30) as client:
        for visit_id, body in created_now.items():
            response = client.get(f"/api/visits/{visit_id}", headers=headers)
            assert response.status_code == 200, f"visit answered 201 is lost: {response.text}"
            stored = response.json()
            for name in SENT_FIELDS:
                assert stored[name] == body[name], (visit_id, name)
            assert [e["muscle"] for e in stored["needling"]] == ["upper_trapezius"]
            assert stored["needling"][0]["depth_mm"] == 12
            if visit_id in signed_now:
                assert stored["status"] == "signed" and stored["signed_at"], visit_id

    if backend == "sqlite":
        import sqlite3

        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        try:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            connection.close()
    chains = verify_all(store)
    assert chains.holds, chains.first_break.broken.describe()  # type: ignore[union-attr]
