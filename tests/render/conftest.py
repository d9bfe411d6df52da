"""Reports built from every example profile by the real assessment, once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from dryneedling.assessment.profile import load_profile
from dryneedling.assessment.report import build_report
from shipped import shipped_catalog

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


@pytest.fixture(scope="session")
def example_reports() -> dict[tuple[str, str], object]:
    """(example stem, audience) -> Report for every example profile."""
    return {
        (path.stem, audience): build_report(
            load_profile(path, shipped_catalog()), shipped_catalog(), audience=audience
        )
        for path in EXAMPLES
        for audience in ("clinician", "patient")
    }
