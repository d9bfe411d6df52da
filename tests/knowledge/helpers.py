"""Helpers for knowledge base tests: find an entry in a YAML document."""

from __future__ import annotations


def entry(document: dict, section: str, entry_id: str) -> dict:
    """The entry with ``entry_id`` in ``document[section]``."""
    return next(item for item in document[section] if item["id"] == entry_id)
