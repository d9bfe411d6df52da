"""Fixtures shared by every area of the test suite."""

from __future__ import annotations

import pytest
import textstat
import textstat.backend.counts._count_syllables as syllable_counter

from shipped import shipped_catalog


@pytest.fixture
def reading_grade(monkeypatch):
    """Flesch-Kincaid grade of a text, measured by textstat without network access.

    textstat looks syllables up in NLTK's cmudict, which it would download on first use; CI has no
    network for that, so the lookup is switched off and textstat falls back to its own Pyphen
    hyphenation counts for every word.
    """
    monkeypatch.setattr(syllable_counter, "get_cmudict", lambda lang: None)
    return textstat.flesch_kincaid_grade


@pytest.fixture(scope="session")
def catalog():
    """The shipped catalog, built once for the whole run (it is read-only)."""

    return shipped_catalog()
