"""Helpers for knowledge base tests: find an entry in a YAML document; estimate a reading grade."""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


def syllables(word: str) -> int:
    """Vowel groups, minus a silent final 'e'; at least one per word."""
    word = word.lower()
    count = len(re.findall(r"[aeiouy]+", word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(count, 1)


def fk_grade(text: str) -> float:
    """Flesch-Kincaid grade level: 0.39 words/sentence + 11.8 syllables/word - 15.59."""
    words = _WORD.findall(text)
    sentences = max(len(re.findall(r"[.!?]+(?:\s|$)", text)), 1)
    total = sum(syllables(w) for w in words)
    return 0.39 * len(words) / sentences + 11.8 * total / len(words) - 15.59


def entry(document: dict, section: str, entry_id: str) -> dict:
    """The entry with ``entry_id`` in ``document[section]``."""
    return next(item for item in document[section] if item["id"] == entry_id)
