"""pool_many(): one vectorised call equals pool() per group, for every method and test, ragged k."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from dryneedling.errors import InputError
from dryneedling.evidence import METHODS, pool, pool_many

from .metafor_reference import DATASETS, POOL

FIELDS = (
    "k",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "stat",
    "pvalue",
    "tau2",
    "i2",
    "h2",
    "q",
    "q_df",
    "q_pvalue",
    "pi_low",
    "pi_high",
    "vt",
)


def _ragged_batch(seed: int, n_groups: int = 60):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 25, size=n_groups)
    sizes[:3] = (1, 2, 3)  # always include the smallest cases
    tau2 = rng.choice([0.0, 0.02, 0.2, 1.0], size=n_groups)
    ys, vs, ids = [], [], []
    for g, (k, t2) in enumerate(zip(sizes, tau2, strict=True)):
        v = rng.chisquare(3, size=k) / 20 + 0.005
        ys.append(rng.normal(0.2, np.sqrt(v + t2)))
        vs.append(v)
        ids.append(np.full(k, f"g{g:03d}"))
    order = rng.permutation(int(sizes.sum()))  # rows of a group need not be contiguous
    return (np.concatenate(ys)[order], np.concatenate(vs)[order], np.concatenate(ids)[order])


def _assert_same(batch, index, single, rtol=1e-9):
    got = batch.result(index)
    for field in FIELDS:
        np.testing.assert_allclose(
            getattr(got, field), getattr(single, field), rtol=rtol, atol=1e-12, err_msg=field
        )
    np.testing.assert_allclose(got.weights, single.weights, rtol=rtol, atol=1e-12)
    assert got.df == single.df and got.test == single.test and got.converged == single.converged


@pytest.mark.parametrize("test", ["z", "knha"])
@pytest.mark.parametrize("method", METHODS)
def test_pool_many_equals_pool_per_group(method, test):
    y, v, ids = _ragged_batch(seed=zlib.crc32(f"{method}-{test}".encode()))
    batch = pool_many(y, v, ids, method=method, test=test)
    assert len(batch) == len(set(ids))
    for index, group in enumerate(batch.groups):
        rows = ids == group
        np.testing.assert_array_equal(np.sort(batch.rows(index)), np.flatnonzero(rows))
        _assert_same(batch, index, pool(y[rows], v[rows], method=method, test=test))


def test_pool_many_on_the_metafor_reference_sets():
    names = sorted(DATASETS)
    y = np.concatenate([DATASETS[n]["yi"] for n in names])
    v = np.concatenate([DATASETS[n]["vi"] for n in names])
    ids = np.concatenate([[n] * len(DATASETS[n]["yi"]) for n in names])
    batch = pool_many(y, v, ids, method="REML", test="knha")
    for index, name in enumerate(batch.groups):
        ref = POOL[(str(name), "REML", "knha")]
        assert batch.estimate[index] == pytest.approx(ref["estimate"], rel=1e-6)
        assert batch.tau2[index] == pytest.approx(ref["tau2"], rel=1e-6, abs=1e-9)
        assert batch.pi_high[index] == pytest.approx(ref["pi_high"], rel=1e-6)


def test_weights_are_aligned_with_input_rows_and_sum_to_100_per_group():
    y, v, ids = _ragged_batch(seed=7)
    batch = pool_many(y, v, ids, method="DL")
    for group in batch.groups:
        assert batch.weights[ids == group].sum() == pytest.approx(100.0)


def test_integer_group_ids_and_a_single_group():
    data = DATASETS["bcg"]
    batch = pool_many(data["yi"], data["vi"], [5] * len(data["yi"]))
    single = pool(data["yi"], data["vi"])
    assert list(batch.groups) == [5]
    _assert_same(batch, 0, single)


def test_group_ids_must_match_rows():
    with pytest.raises(InputError) as err:
        pool_many([0.1, 0.2], [0.1, 0.1], [1])
    assert err.value.field == "group_ids"


def test_bad_variance_is_reported_with_its_argument():
    with pytest.raises(InputError) as err:
        pool_many([0.1, 0.2], [0.1, -0.1], [1, 1])
    assert err.value.field == "vi"
