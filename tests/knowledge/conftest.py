"""Fixtures for knowledge base tests: a private copy of the data directory that a test may break."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from dryneedling.knowledge import DATA_DIR

Editor = Callable[[str, Callable[[dict], None]], None]


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A copy of the packaged knowledge data (all bibliography files included)."""
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


@pytest.fixture
def edit(data_copy: Path) -> Editor:
    """Change one YAML file of the copy: ``edit("muscles.yaml", lambda doc: ...)``."""

    def apply(relative: str, change: Callable[[dict], None]) -> None:
        path = data_copy / relative
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(document)
        path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")

    return apply
