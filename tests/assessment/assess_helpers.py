"""Shared helpers for the assessment tests: a minimal valid profile and cached example reports."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from dryneedling.assessment.profile import load_profile
from dryneedling.assessment.report import Report, build_report
from shipped import shipped_catalog

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def profile(**changes: Any) -> dict[str, Any]:
    """A plain profile with no findings (returning patient, neck pain), updated with ``changes``."""
    data: dict[str, Any] = {
        "age": 40,
        "condition": "neck_pain_stiff_neck",
        "pain_regions": ["posterior_neck"],
        "side": "right",
        "duration_weeks": 4,
        "consent": True,
        "previous_dry_needling": {"sessions": 2, "vasovagal_reaction": False},
    }
    data.update(changes)
    return data


def report_for(**changes: Any) -> Report:
    """Build the report of ``profile(**changes)``."""
    catalog = shipped_catalog()
    return build_report(load_profile(profile(**changes), catalog), catalog)


@cache
def example_report(name: str, audience: str = "clinician") -> Report:
    """The report of examples/<name>.yaml (cached: examples are read-only)."""
    catalog = shipped_catalog()
    path = ROOT / "examples" / f"{name}.yaml"
    return build_report(load_profile(path, catalog), catalog, audience=audience)
