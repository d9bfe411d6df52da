"""Shared helpers for the assessment tests: a minimal valid profile and cached example reports."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from dryneedling.assessment.profile import load_profile
from dryneedling.assessment.report import Report, build_report

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
    return build_report(load_profile(profile(**changes)))


@cache
def example_report(name: str, audience: str = "clinician") -> Report:
    """The report of examples/<name>.yaml (cached: examples are read-only)."""
    return build_report(load_profile(ROOT / "examples" / f"{name}.yaml"), audience=audience)
