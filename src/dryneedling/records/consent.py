"""The dry needling consent text a patient reads: built from the knowledge base and their own screening.

The wording, the published rates and their sources come from ``records/practice.yaml``; the part "what
applies to you" comes from the episode's stored Report (screening findings, muscles kept free of needles
and any per-muscle restrictions). The text is plain, fixed for one input, and hashed (SHA-256) so the
record proves which text was signed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dryneedling.records.rules import PracticeRules


@dataclass(frozen=True)
class ConsentText:
    text: str
    version: str
    sha256: str


def _restriction_lines(report: Mapping[str, Any] | None) -> list[str]:
    """Plain sentences for this person's screening findings and the muscles kept free of needles."""
    if not report:
        return []
    lines: list[str] = []
    screening = report.get("screening") or {}
    for item in screening.get("items") or []:
        text = item.get("patient_text") or item.get("label")
        if text:
            lines.append(str(text))
    for muscle in report.get("excluded_muscles") or []:
        text = muscle.get("patient_text") or f"No needles will go into the {muscle.get('name', 'muscle')}."
        lines.append(str(text))
    for candidate in report.get("candidate_muscles") or []:
        for restriction in candidate.get("restrictions") or []:
            if isinstance(restriction, Mapping):
                text = restriction.get("patient_text") or restriction.get("text") or restriction.get("label")
            else:
                text = str(restriction)
            if text:
                lines.append(f"{candidate.get('name', candidate.get('muscle', ''))}: {text}")
    return list(dict.fromkeys(lines))


def muscle_restrictions(report: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """Muscle id -> what screening says about needling it (clinician wording), for the candidate muscles that
    carry ``restrictions`` in the stored Report (muscles it blocks outright are in ``excluded_muscles``)."""
    found: dict[str, list[str]] = {}
    for candidate in (report or {}).get("candidate_muscles") or []:
        texts = []
        for restriction in candidate.get("restrictions") or []:
            if isinstance(restriction, Mapping):
                text = next(
                    (
                        restriction[key]
                        for key in ("text", "note", "action", "label", "reason", "patient_text")
                        if isinstance(restriction.get(key), str) and restriction.get(key)
                    ),
                    None,
                )
            else:
                text = str(restriction)
            if text:
                texts.append(text)
        if texts:
            found[candidate.get("muscle", "")] = texts
    return found


def consent_text(
    rules: PracticeRules, citations: Mapping[str, str], report: Mapping[str, Any] | None
) -> ConsentText:
    """The consent text for one episode (see the module docstring); ``citations`` maps source id -> citation."""
    wording = rules.consent
    numbers: dict[str, int] = {}
    parts = [wording.title, ""]
    for section in wording.sections:
        refs = []
        for source in section.sources:
            numbers.setdefault(source, len(numbers) + 1)
            refs.append(str(numbers[source]))
        body = " ".join(section.text.format(**section.values).split())
        parts.append(section.heading)
        parts.append(f"{body} [{', '.join(refs)}]")
        if section.id == "your_restrictions":
            lines = _restriction_lines(report)
            parts.extend(f"- {line}" for line in lines) if lines else parts.append(section.none_text or "")
        parts.append("")
    parts.append(" ".join(wording.agreement.split()))
    parts.append("")
    parts.append("Sources")
    parts.extend(f"[{number}] {citations.get(source, source)}" for source, number in numbers.items())
    text = "\n".join(parts).strip() + "\n"
    return ConsentText(
        text=text, version=wording.version, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest()
    )
