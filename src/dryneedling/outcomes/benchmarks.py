"""The published figures a clinic is held against (``records/benchmarks.yaml``), typed and checked.

Brady 2014 and Boyce 2020 per-treatment adverse event rates and the published course of post-needling
soreness live in cited YAML, not in code; every source id must resolve in the bibliography.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dryneedling.errors import DataError, Problem
from dryneedling.vocabulary import Confidence

BENCHMARKS_FILE = Path("records") / "benchmarks.yaml"
Severity = Literal["mild", "serious"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PublishedRate(_Frozen):
    """One published per-treatment adverse event rate (events among treatments, as the study counted)."""

    id: str
    study: str
    severity: Severity
    events: int = Field(ge=0)
    treatments: int = Field(gt=0)
    percent: float = Field(ge=0, le=100)
    text: str
    reported_by: Literal["clinician", "patient"]
    sources: list[str] = Field(min_length=1)
    confidence: Confidence


class SorenessFinding(_Frozen):
    """One published statement about the course of soreness, at a time after needling where it has one."""

    id: str
    hours: int | None = None
    value_0_10: float | None = Field(None, ge=0, le=10)
    statistic: str | None = None
    text: str
    sources: list[str] = Field(min_length=1)
    confidence: Confidence


class Benchmarks(_Frozen):
    version: int
    adverse_event_rates: list[PublishedRate]
    severity_note: str
    reporting_note: str
    reporting_sources: list[str]
    soreness_course: list[SorenessFinding]

    def rates(self, severity: Severity) -> list[PublishedRate]:
        return [rate for rate in self.adverse_event_rates if rate.severity == severity]

    def cited(self) -> list[str]:
        ids = [*self.reporting_sources]
        for item in (*self.adverse_event_rates, *self.soreness_course):
            ids.extend(item.sources)
        return list(dict.fromkeys(ids))


def load_benchmarks(data_dir: Path, sources: Mapping[str, object]) -> Benchmarks:
    """Read ``records/benchmarks.yaml`` under ``data_dir``; DataError naming every problem."""
    path = data_dir / BENCHMARKS_FILE
    name = BENCHMARKS_FILE.as_posix()
    try:
        benchmarks = Benchmarks.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
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
        for sid in benchmarks.cited()
        if sid not in sources
    ]
    for rate in benchmarks.adverse_event_rates:
        shown = 100 * rate.events / rate.treatments
        # The published percent must follow from the published counts (within rounding: Boyce 2020's abstract
        # divides by 20,494 as well as 20,464 treatments).
        if abs(shown - rate.percent) > 0.15:
            problems.append(
                Problem(
                    name,
                    rate.id,
                    "percent",
                    f"{rate.percent} but {rate.events}/{rate.treatments} is {shown:.2f}",
                )
            )
    if problems:
        raise DataError(problems)
    return benchmarks
