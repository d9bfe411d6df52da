"""The "did you mean" distance stops early on clearly different names and still gives the same answers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dryneedling.assessment.medications import _edits

words = st.text(alphabet="abcdeilmnorst ", max_size=14)


def reference(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance computed in full, cut off above ``limit`` only at the end."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            value = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, rows[-2][j - 2] + 1)
            row.append(value)
        rows.append(row)
    return min(rows[-1][-1], limit + 1)


@given(words, words, st.integers(min_value=0, max_value=3))
def test_it_matches_the_full_computation_within_the_limit(a, b, limit):
    assert min(_edits(a, b, limit), limit + 1) == reference(a, b, limit)


def test_it_counts_swaps_and_typos_as_before():
    assert _edits("plavix", "plavix", 2) == 0
    assert _edits("palvix", "plavix", 2) == 1
    assert _edits("warfrin", "warfarin", 2) == 1
    assert _edits("metformin", "clopidogrel", 2) > 2
