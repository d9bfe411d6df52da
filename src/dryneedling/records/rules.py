"""The practice rules from the knowledge base (``data/records/practice.yaml``), typed and checked.

The CPT code of a visit, the adverse-event categories and severities, the needling techniques and the
consent wording live in cited YAML, not in code; this module reads and validates them (every source id must
resolve in the bibliography) and offers the few pure functions that apply them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dryneedling.errors import DataError, Problem
from dryneedling.vocabulary import Confidence

PRACTICE_FILE = Path("records") / "practice.yaml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CptCode(_Frozen):
    code: str
    min_muscles: int = Field(ge=1)
    max_muscles: int | None = None
    label: str


class CptRule(_Frozen):
    counting: str
    codes: list[CptCode]
    note: str
    documentation: str
    sources: list[str]
    confidence: Confidence


class Choice(_Frozen):
    id: str
    label: str
    text: str = ""


class AdverseEventCategory(_Frozen):
    id: str
    label: str
    rates: dict[str, float] = Field(default_factory=dict, description="source id -> % of treatments")
    serious: bool = False


class ConsentSection(_Frozen):
    id: str
    heading: str
    text: str
    none_text: str | None = None
    values: dict[str, int | float | str] = Field(default_factory=dict)
    sources: list[str]
    confidence: Confidence


class ConsentWording(_Frozen):
    version: str
    title: str
    sections: list[ConsentSection]
    agreement: str


class PracticeRules(_Frozen):
    """Everything of ``practice.yaml``; see the module docstring."""

    version: int
    cpt: CptRule
    severities: list[Choice]
    severity_sources: list[str]
    adverse_events: list[AdverseEventCategory]
    adverse_event_sources: list[str]
    techniques: list[Choice]
    consent: ConsentWording

    @property
    def adverse_event_ids(self) -> list[str]:
        return [category.id for category in self.adverse_events]

    @property
    def severity_ids(self) -> list[str]:
        return [severity.id for severity in self.severities]

    @property
    def technique_ids(self) -> list[str]:
        return [technique.id for technique in self.techniques]

    def cited(self) -> list[str]:
        """Every source id the rules cite."""
        ids = [*self.cpt.sources, *self.severity_sources, *self.adverse_event_sources]
        for category in self.adverse_events:
            ids.extend(category.rates)
        for section in self.consent.sections:
            ids.extend(section.sources)
        return list(dict.fromkeys(ids))


def load_practice_rules(data_dir: Path, sources: Mapping[str, object]) -> PracticeRules:
    """Read ``records/practice.yaml`` under ``data_dir``; DataError naming every problem."""
    path = data_dir / PRACTICE_FILE
    name = PRACTICE_FILE.as_posix()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        rules = PracticeRules.model_validate(raw)
    except OSError as exc:
        raise DataError([Problem(name, "-", "", f"cannot read: {exc.strerror or exc}")]) from None
    except yaml.YAMLError as exc:
        raise DataError([Problem(name, "-", "", f"not valid YAML: {exc}")]) from None
    except ValidationError as exc:
        raise DataError(
            Problem(name, "-", ".".join(str(p) for p in err["loc"]), err["msg"]) for err in exc.errors()
        ) from None
    problems = [
        Problem(name, "-", "sources", f"unknown source id {sid!r}")
        for sid in rules.cited()
        if sid not in sources
    ]
    bands = sorted(rules.cpt.codes, key=lambda code: code.min_muscles)
    if not bands or bands[0].min_muscles != 1:
        problems.append(Problem(name, "cpt", "codes", "the first code must start at 1 muscle"))
    for low, high in zip(bands, bands[1:], strict=False):
        if low.max_muscles is None or low.max_muscles + 1 != high.min_muscles:
            problems.append(
                Problem(name, "cpt", "codes", f"{low.code} and {high.code} leave a gap or overlap")
            )
    if problems:
        raise DataError(problems)
    return rules


def distinct_muscles(muscles: Iterable[str]) -> list[str]:
    """The muscles of a visit counted once each (left and right of one muscle count once), in order."""
    return list(dict.fromkeys(muscles))


def cpt_code(rules: PracticeRules, muscles: Iterable[str]) -> tuple[str | None, int]:
    """The CPT code for the muscles needled in one visit and the muscle count that supports it.

    No muscle: no code (None, 0).
    """
    count = len(distinct_muscles(muscles))
    for band in rules.cpt.codes:
        if count >= band.min_muscles and (band.max_muscles is None or count <= band.max_muscles):
            return band.code, count
    return None, count
