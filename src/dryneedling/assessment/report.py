"""The Report: everything the assessment says about one person, in one object.

``build_report(profile)`` runs screening, the atlas, the modifiers and the plan, and collects every
source id it cites into ``sources``. JSON, text, HTML and PDF are renderings of this one object.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dryneedling.assessment.models import (
    Aftercare,
    CandidateMuscle,
    CarePlan,
    EvidenceSection,
    ExcludedMuscle,
    HeatPlan,
    Modifier,
    Screening,
)
from dryneedling.assessment.profile import PatientProfile, load_profile

DISCLAIMER = (
    "Decision support, not a decision: this report summarises published evidence and safety guidance for "
    "one person. It does not replace examination and judgement - the clinician decides."
)
PATIENT_DISCLAIMER = (
    "This report helps you and your physical therapist talk about dry needling. "
    "It does not replace their advice. Your therapist decides with you."
)


class Report(BaseModel):
    """The personal assessment of one profile (see the module docstring)."""

    model_config = ConfigDict(frozen=True, serialize_by_alias=True)

    profile: dict[str, Any]
    screening: Screening
    candidate_muscles: list[CandidateMuscle] = Field(default_factory=list)
    excluded_muscles: list[ExcludedMuscle] = Field(default_factory=list)
    evidence: EvidenceSection
    modifiers: list[Modifier] = Field(default_factory=list)
    heat_plan: HeatPlan
    aftercare: Aftercare
    care_plan: CarePlan
    sources: dict[str, str] = Field(default_factory=dict, description="Every cited source id -> citation.")
    disclaimer: str = DISCLAIMER
    patient_disclaimer: str = PATIENT_DISCLAIMER
    catalog_version: str = Field("", description="Version of the knowledge catalog the report was made with.")

    def cited_ids(self) -> set[str]:
        """Every source id cited anywhere in the report (walks the whole dump)."""
        return _collect_source_ids(self.model_dump(mode="json", exclude={"sources"}))

    def patient_texts(self) -> list[str]:
        """Every patient-facing sentence in the report, in reading order."""
        texts: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    if key in ("patient_text", "plain_summary", "plain") and isinstance(value, str) and value:
                        texts.append(value)
                    else:
                        walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        # A patient reads the evidence highlights, not every row the clinician sees.
        clinician_only = {"evidence": {"rows"}, "care_plan": {"combined_evidence"}}
        walk(self.model_dump(mode="json", exclude={"sources": True, "profile": True, **clinician_only}))
        texts.append(self.patient_disclaimer)
        return texts


def _collect_source_ids(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "sources" and isinstance(value, list):
                found.update(v for v in value if isinstance(v, str))
            elif key == "source" and isinstance(value, str) and value:
                found.add(value)
            else:
                found |= _collect_source_ids(value)
    elif isinstance(node, list):
        for value in node:
            found |= _collect_source_ids(value)
    return found


def build_report(profile: PatientProfile | dict, kb: Any = None, audience: str = "clinician") -> Report:
    """Assess one person: screening, candidate muscles, evidence, modifiers, heat, aftercare, care plan.

    ``audience="patient"`` drops evidence rows the evidence table marks unsafe for patients.
    """
    from dryneedling.assessment.evidence_view import evidence_section
    from dryneedling.assessment.modifiers import assess_modifiers
    from dryneedling.assessment.plan import (
        aftercare_plan,
        candidates_for,
        care_plan,
        finish_screening,
        heat_plan,
    )
    from dryneedling.assessment.screening import screen
    from dryneedling.knowledge import load_knowledge

    kb = kb or load_knowledge()
    if not isinstance(profile, PatientProfile):
        profile = load_profile(profile, kb=kb)
    first_pass = screen(profile, kb)
    candidates, excluded = candidates_for(profile, first_pass, kb)
    screening = finish_screening(first_pass, candidates, excluded, kb)
    modifiers = assess_modifiers(profile, kb)
    evidence = evidence_section(profile, kb, audience=audience)
    report = Report(
        profile=profile.model_dump(mode="json"),
        screening=screening,
        candidate_muscles=candidates,
        excluded_muscles=excluded,
        evidence=evidence,
        modifiers=modifiers,
        heat_plan=heat_plan(profile, screening, candidates, kb),
        aftercare=aftercare_plan(profile, screening, candidates, modifiers, kb),
        care_plan=care_plan(profile, evidence, kb),
    )
    cited = report.cited_ids()
    sources = {sid: kb.sources[sid].citation for sid in sorted(cited) if sid in kb.sources}
    missing = sorted(cited - set(sources))
    if missing:
        # A cited id that does not resolve is a data bug, never silently dropped.
        raise ValueError(f"report cites unknown source ids: {missing}")
    return report.model_copy(update={"sources": sources})
