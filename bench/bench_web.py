"""Benchmark: throughput of ``POST /api/assess`` beside a bare FastAPI endpoint under the same server.

Run: ``python bench/bench_web.py`` (``--seconds``, ``--clients``, ``--rounds`` to change the run). Not a
timed test: numbers depend on the machine and its load, so both servers are measured in the same run,
alternately, and the best round of each is kept.

What it measures
- the real app (``dryneedling.web.app:app``) and a bare FastAPI app with one trivial POST endpoint
  (``bare_app`` below), each served by uvicorn in its own subprocess on 127.0.0.1 and a free port, with the
  same settings (one worker, no access log);
- 20 concurrent clients POST for a fixed time (bounded by ``MAX_REQUESTS`` too); requests/s counts
  complete 200 responses, driven two ways:
  * ``httpx``: 20 threads, each with its own keep-alive ``httpx.Client`` (the target is judged on this);
  * ``raw``: 20 keep-alive HTTP/1.1 connections on asyncio streams, a client that costs the machine far
    less, so the bare endpoint shows what the server itself can do (printed, not judged: see below);
- the assess bodies are the example profiles (examples/*.yaml as JSON), cycled across requests; the bare
  endpoint gets the same bodies;
- the target: assess at least half of the bare endpoint's requests/s. The response sizes are printed too,
  and each server's CPU time per request (from /proc, during the raw-client rounds), whose ratio is the
  capacity ratio of the two endpoints whatever the client and the machine's load.

Reading the two lines: with httpx the bare endpoint is bounded by the Python client (both share the
machine), so the ratio says how assess compares with the cheapest endpoint as a Python client sees it.
With the raw client the bare endpoint runs at the server's own limit, far above what any endpoint that
builds a 60-120 KB report can reach, and the ratio says what one report costs beside FastAPI's floor.

Exit status 1 when the target is missed (and the line says FAIL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml
from fastapi import FastAPI, Request

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
TARGET = 0.5
MAX_REQUESTS = 1_000_000  # a bound on one round, far above what a loopback run reaches
PROFILES = [
    "neck_pain_headache",
    "shoulder",
    "low_back_sciatica",
    "plantar_heel",
    "lymphedema_shoulder",
]


def bare_app() -> FastAPI:
    """A FastAPI app with one trivial POST endpoint: the floor any FastAPI POST endpoint costs."""
    app = FastAPI()

    @app.post("/bare")
    async def bare(request: Request) -> dict:
        body = await request.body()
        return {"received": len(body)}

    return app


def serve(which: str, port: int) -> None:
    """Run one server in this (sub)process; the same uvicorn settings for both apps."""
    import uvicorn

    target = "dryneedling.web.app:app" if which == "assess" else bare_app()
    uvicorn.run(target, host=HOST, port=port, workers=1, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start(which: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "--serve", which, "--port", str(port)], cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the {which} server exited with {process.returncode}")
        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the {which} server did not start within 60 s")


def request_bytes(path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
    length = {k.strip().lower(): v.strip() for k, v in headers.items()}.get("content-length")
    if length is None:
        raise RuntimeError(f"response without Content-Length: {lines[:5]}")
    return status, await reader.readexactly(int(length))


async def client(port: int, requests: list[bytes], stop: float, counts: list[int], offset: int) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    i = offset
    try:
        while time.perf_counter() < stop and sum(counts) < MAX_REQUESTS:
            writer.write(requests[i % len(requests)])
            status, _ = await read_response(reader)
            if status != 200:
                raise RuntimeError(f"HTTP {status}")
            counts[0] += 1
            i += 1
    finally:
        writer.close()


async def drive_raw(port: int, requests: list[bytes], clients: int, seconds: float) -> tuple[float, int]:
    """Requests/s over ``seconds`` with ``clients`` asyncio connections (after a short warm-up), and the
    number of requests sent in all (warm-up included)."""
    warm = [0]
    await asyncio.gather(
        *(client(port, requests, time.perf_counter() + 0.5, warm, i) for i in range(clients))
    )
    counts = [0]
    start = time.perf_counter()
    await asyncio.gather(*(client(port, requests, start + seconds, counts, i) for i in range(clients)))
    return counts[0] / (time.perf_counter() - start), warm[0] + counts[0]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive_httpx(port: int, path: str, bodies: list[bytes], clients: int, seconds: float) -> float:
    """Requests/s over ``seconds`` with ``clients`` threads, each with a keep-alive httpx.Client."""
    import httpx

    counts = [0] * clients
    errors: list[str] = []

    def worker(index: int, stop: float, record: bool) -> None:
        headers = {"content-type": "application/json"}
        with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30) as session:
            i = index
            while time.perf_counter() < stop and sum(counts) < MAX_REQUESTS:
                response = session.post(path, content=bodies[i % len(bodies)], headers=headers)
                if response.status_code != 200:
                    errors.append(f"HTTP {response.status_code}")
                    return
                counts[index] += record
                i += 1

    def run(stop: float, record: bool) -> None:
        threads = [threading.Thread(target=worker, args=(i, stop, record)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise RuntimeError(errors[0])

    run(time.perf_counter() + 0.5, False)
    start = time.perf_counter()
    run(start + seconds, True)
    return sum(counts) / (time.perf_counter() - start)


async def fetch(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(request)
    status, body = await read_response(reader)
    writer.close()
    if status != 200:
        raise SystemExit(f"HTTP {status}: {body[:500]!r}")
    return body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one timed round (default 5)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="timed rounds per server, best kept (default 3)"
    )
    parser.add_argument("--clients", type=int, default=20, help="concurrent connections (default 20)")
    parser.add_argument("--serve", choices=("assess", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return 0

    bodies = [
        json.dumps(yaml.safe_load((ROOT / "examples" / f"{name}.yaml").read_text())).encode()
        for name in PROFILES
    ]
    paths = {"assess": "/api/assess", "bare": "/bare"}
    raw_requests = {name: [request_bytes(path, body) for body in bodies] for name, path in paths.items()}
    servers = {"assess": start("assess"), "bare": start("bare")}
    best = {(client, name): 0.0 for client in ("httpx", "raw") for name in paths}
    cpu_per_request = dict.fromkeys(paths, float("inf"))
    try:
        port = servers["assess"][1]
        sizes = [len(asyncio.run(fetch(port, request))) for request in raw_requests["assess"]]
        for _ in range(args.rounds):
            for name in paths:
                port = servers[name][1]
                rate = drive_httpx(port, paths[name], bodies, args.clients, args.seconds)
                best["httpx", name] = max(best["httpx", name], rate)
                used = cpu_seconds(servers[name][0].pid)
                rate, sent = asyncio.run(drive_raw(port, raw_requests[name], args.clients, args.seconds))
                used = cpu_seconds(servers[name][0].pid) - used
                best["raw", name] = max(best["raw", name], rate)
                cpu_per_request[name] = min(cpu_per_request[name], used / sent)
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)

    print(
        f"Web throughput, best of {args.rounds} rounds of {args.seconds:g} s, {args.clients} clients, "
        f"uvicorn with 1 worker each (Python {sys.version.split()[0]}, {os.cpu_count()} CPUs)"
    )
    print(
        "  response size            "
        + ", ".join(f"{name} {size / 1024:.0f} KB" for name, size in zip(PROFILES, sizes, strict=True))
    )
    failed = False
    for client_kind in ("httpx", "raw"):
        bare, assess = best[client_kind, "bare"], best[client_kind, "assess"]
        ratio = assess / bare
        verdict = "(not judged)"
        if client_kind == "httpx":
            failed = ratio < TARGET
            verdict = f"target >= {TARGET:g}: {'FAIL' if failed else 'ok'}"
        print(
            f"  {client_kind:<5} client: bare {bare:7.0f} req/s   assess {assess:6.0f} req/s   "
            f"ratio {ratio:5.2f}   {verdict}"
        )
    bare, assess = cpu_per_request["bare"], cpu_per_request["assess"]
    print(
        f"  server CPU per request (raw client): bare {bare * 1000:.2f} ms   assess {assess * 1000:.2f} ms   "
        f"capacity ratio {bare / assess:5.2f}   (not judged; independent of the client and the load)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
