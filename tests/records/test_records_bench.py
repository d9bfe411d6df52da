"""The records benchmark script imports, its bare endpoint answers and its visit body is a valid visit
(timings are not tested: run ``python bench/bench_records.py``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi.testclient import TestClient

from dryneedling.services.records import VisitIn

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_records.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_records", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_loads_the_bare_endpoint_with_the_same_body_as_the_records_api():
    bench = _load_bench()
    visit = VisitIn.model_validate(bench.VISIT)
    assert len({entry.muscle for entry in visit.needling}) == 3  # a 20561 visit
    response = TestClient(bench.bare_app).post("/bare", json=bench.VISIT)
    assert response.status_code == 201 and response.json()["ok"]
