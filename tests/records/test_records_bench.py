"""The records benchmark script imports, its bare endpoint answers and its visit body is a valid visit
(timings are not tested: run ``python bench/bench_records.py``)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from dryneedling.services.records import VisitIn

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_records.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_records", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_it_loads_the_bare_endpoint_with_the_same_body_as_the_records_api():
    bench = _load_bench()
    visit = VisitIn.model_validate(bench.VISIT)
    assert len({entry.muscle for entry in visit.needling}) == 3  # a 20561 visit
    response = TestClient(bench.bare_app).post("/bare", json=bench.VISIT)
    assert response.status_code == 201 and response.json()["ok"]


def test_it_prints_what_each_request_may_cost_at_the_target(capsys):
    bench = _load_bench()
    records = [bench.Load(100.0, 1000, 0, server_cpu=4.0, database_cpu=None, client_cpu=1.0)]
    bare = [bench.Load(800.0, 8000, 0, server_cpu=3.2, database_cpu=None, client_cpu=7.0)]
    bench.print_cpu_budget(records, bare, 800.0)
    out = capsys.readouterr().out
    assert "server      records  4.00 ms   bare  0.40 ms" in out
    assert "PostgreSQL" not in out  # not measured: not printed
    cores = os.cpu_count() or 1
    # 25 % of 800 req/s is 200 req/s: 5 ms a request for one core, 5 ms per core for the machine
    assert (
        f"at most 5.00 ms (one core) and server, database and clients together at most {5 * cores:.2f} ms"
        in out
    )
    assert "measured 5.00 ms together" in out
