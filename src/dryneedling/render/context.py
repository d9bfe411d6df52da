"""What a printed document says about itself: who it is for, who made it, when, with what, on what paper.

This lives beside the renderers, not in the Report: the Report is the assessment (the same whoever prints
it); the clinic, the clinician, the patient's name and the paper belong to one printing of it. Fields
left empty print as blank lines to write on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Paper = Literal["a4", "letter"]
PAPERS: tuple[str, ...] = ("a4", "letter")
# CSS @page sizes (WeasyPrint and browsers know both names).
PAGE_SIZES: dict[str, str] = {"a4": "A4", "letter": "letter"}


def _now() -> datetime:
    return datetime.now().astimezone().replace(microsecond=0)


class DocumentContext(BaseModel):
    """One printing of a report: clinic, clinician, patient, time of printing and paper size."""

    model_config = ConfigDict(frozen=True)

    clinic: str = ""
    clinician: str = ""
    patient_name: str = ""
    patient_id: str = ""
    generated_at: datetime = Field(default_factory=_now)
    paper: Paper = "a4"

    @field_validator("clinic", "clinician", "patient_name", "patient_id", mode="before")
    @classmethod
    def _blank_is_empty(cls, value: Any) -> str:
        return "" if value is None else " ".join(str(value).split())

    @field_validator("paper", mode="before")
    @classmethod
    def _paper_lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def page_size(self) -> str:
        """The CSS ``@page`` size of the paper."""
        return PAGE_SIZES[self.paper]

    @property
    def generated(self) -> str:
        """Date and time of printing, e.g. ``2026-11-30 14:05 UTC+01:00``, readable on paper."""
        stamp = self.generated_at
        zone = stamp.strftime("%z")
        if zone:
            zone = " UTC" + (zone[:3] + ":" + zone[3:] if zone not in ("+0000", "-0000") else "")
        return stamp.strftime("%Y-%m-%d %H:%M") + zone


def tool_version() -> str:
    from dryneedling import __version__

    return __version__


def versions(report: Any) -> str:
    """'dryneedling 0.1.0, knowledge catalog abc123' (the catalog part only when the report has one)."""
    catalog = getattr(report, "catalog_version", "") or ""
    text = f"dryneedling {tool_version()}"
    return text + (
        f", knowledge catalog {catalog}" if catalog else ", knowledge catalog version not recorded"
    )
