"""The shipped catalog for tests that read it at module level (parametrize lists, constants).

Tests are not the application: one cached catalog per test process keeps the suite fast. The fixture
``catalog`` (conftest.py) returns the same object.
"""

from __future__ import annotations

from functools import cache

from dryneedling.catalog import Catalog, load_catalog


@cache
def shipped_catalog() -> Catalog:
    """The packaged data, loaded once per test process."""
    return load_catalog()
