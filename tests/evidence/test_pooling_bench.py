"""The benchmark script imports and its correctness check passes on a tiny batch (timings are not tested)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_pooling.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_pooling", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_correctness_check_on_a_tiny_batch():
    bench = _load_bench()
    diffs = bench.correctness_check(n_groups=12, k=6)
    assert {"pool_many_vs_pool_REML", "pool_many_vs_pool_DL", "pool_many_vs_pool_PM"} <= diffs.keys()
    for name, value in diffs.items():
        # statsmodels' PM stops at a looser tolerance than ours
        limit = 1e-6 if name.startswith("statsmodels_PM") else 1e-9
        assert value < limit, (name, value)


def test_benchmark_batch_generator_is_seeded():
    bench = _load_bench()
    a = bench.make_batch(5, 4)
    b = bench.make_batch(5, 4)
    for x, y in zip(a, b, strict=True):
        assert (x == y).all()
    assert a[0].shape == (5, 4) and a[2].tolist() == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4
