"""The Report: everything the assessment says about one person, in one object.

``build_report(profile, catalog)`` runs screening, the atlas, the modifiers and the plan, and collects every
source id it cites into ``sources``. JSON, text, HTML and PDF are renderings of this one object. The report
records ``catalog_version``: the content hash of the data it was made with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from dryneedling.evidence.table import EvidenceRow

if TYPE_CHECKING:
    from dryneedling.catalog import Catalog

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

    catalog_version: str = Field(description="Content hash of the curated data this report was made with.")
    profile: PatientProfile
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
        return _collect_source_ids({k: v for k, v in self.__dict__.items() if k != "sources"})

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
        clinician_only: dict[str, Any] = {"evidence": {"rows"}, "care_plan": {"combined_evidence"}}
        if self.screening.decision == "do_not_needle":
            # The handout of a person who must not be needled lists no muscles and no needling research.
            clinician_only = {
                **clinician_only,
                "evidence": {"rows", "gaps"},
                "excluded_muscles": True,
                "heat_plan": True,
                "aftercare": True,
            }
        walk(self.model_dump(mode="json", exclude={"sources": True, "profile": True, **clinician_only}))
        texts.append(self.patient_disclaimer)
        return texts


def _collect_source_ids(node: Any, found: set[str] | None = None) -> set[str]:
    """Every source id under ``node``: fields named ``sources`` (lists) and ``source`` (one id).

    Walks the models themselves rather than a dump of them: a report is walked for every request.
    """
    found = set() if found is None else found
    if isinstance(node, EvidenceRow):  # a row cites its review; its nested check cites nothing
        if node.source:
            found.add(node.source)
        return found
    if isinstance(node, BaseModel):
        node = node.__dict__
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "sources" and isinstance(value, list | tuple):
                found.update(v for v in value if isinstance(v, str))
            elif key == "source" and isinstance(value, str):
                if value:
                    found.add(value)
            elif isinstance(value, BaseModel | dict | list | tuple):
                _collect_source_ids(value, found)
    elif isinstance(node, list | tuple):
        for value in node:
            if isinstance(value, BaseModel | dict | list | tuple):
                _collect_source_ids(value, found)
    return found


def build_report(profile: PatientProfile | dict, catalog: Catalog, audience: str = "clinician") -> Report:
    """Assess one person: screening, candidate muscles, evidence, modifiers, heat, aftercare, care plan.

    ``audience="patient"`` drops evidence rows the evidence table marks unsafe for patients.
    """
    from dryneedling.assessment.evidence_view import evidence_section
    from dryneedling.assessment.modifiers import assess_modifiers, respect_screening
    from dryneedling.assessment.plan import (
        aftercare_plan,
        candidates_for,
        care_plan,
        finish_screening,
        heat_plan,
    )
    from dryneedling.assessment.screening import screen

    kb = catalog.kb
    if not isinstance(profile, PatientProfile):
        profile = load_profile(profile, catalog)
    first_pass = screen(profile, catalog)
    candidates, excluded = candidates_for(profile, first_pass, catalog)
    screening = finish_screening(first_pass, candidates, excluded, catalog)
    modifiers = respect_screening(assess_modifiers(profile, catalog), profile, candidates, excluded, catalog)
    evidence = evidence_section(profile, catalog, audience=audience)
    report = Report(
        catalog_version=catalog.version,
        profile=profile,
        screening=screening,
        candidate_muscles=candidates,
        excluded_muscles=excluded,
        evidence=evidence,
        modifiers=modifiers,
        heat_plan=heat_plan(profile, screening, candidates, catalog),
        aftercare=aftercare_plan(profile, screening, candidates, modifiers, catalog),
        care_plan=care_plan(profile, evidence, catalog),
    )
    if screening.decision == "do_not_needle":
        report = describe_no_needling(report, catalog)
    cited = report.cited_ids()
    sources = {sid: kb.sources[sid].citation for sid in sorted(cited) if sid in kb.sources}
    missing = sorted(cited - set(sources))
    if missing:
        # A cited id that does not resolve is a data bug, never silently dropped.
        raise ValueError(f"report cites unknown source ids: {missing}")
    return report.model_copy(update={"sources": sources})


def describe_no_needling(report: Report, catalog: Catalog) -> Report:
    """A report for a person who must not be needled describes no needling.

    No targets, no first-session or technique advice, no factors that shape a needling result, no soreness
    aftercare, no "needling may help": it keeps why (the screening), what else can help (the care plan
    without needling) and what would lead to screening again (``screening.rescreen``). The clinician keeps
    the evidence rows; the patient's evidence highlights are replaced by one plain sentence.
    """
    guidance = catalog.guidance
    screening = report.screening
    items = [item for item in screening.items if item.effect != "technique"]
    plan = report.care_plan
    components = [_component_without_needling(c, _component_rule(c.id, catalog)) for c in plan.components]
    needling_follow_up = {f.id for f in guidance.care_plan.follow_up if f.needling}
    heat = report.heat_plan
    return report.model_copy(
        update={
            "screening": screening.model_copy(update={"items": items}),
            "heat_plan": heat.model_copy(update={"patient_text": heat.before.patient_text}),
            "candidate_muscles": [],
            "modifiers": [],
            "aftercare": report.aftercare.model_copy(
                update={"soreness": None, "what_helps": [], "warning_signs": [], "patient_text": ""}
            ),
            "evidence": report.evidence.model_copy(
                update={
                    "patient_highlights": [],
                    "patient_text": guidance.screening.evidence_when_not_needled,
                }
            ),
            "care_plan": plan.model_copy(
                update={
                    "components": components,
                    "combined_evidence": [],
                    "follow_up": [f for f in plan.follow_up if f.id not in needling_follow_up],
                    "patient_text": guidance.care_plan.plan_without_needling_patient_text,
                }
            ),
        }
    )


def _component_without_needling(component: Any, rule: Any) -> Any:
    """The care component as worded for a person who is not needled (its rule's without-needling texts)."""
    if rule is None:
        return component
    update = {
        field: text
        for field, text in (
            ("patient_text", rule.without_needling_patient_text),
            ("clinician_text", rule.without_needling_clinician_text),
            ("sources", list(rule.without_needling_sources) if rule.without_needling_sources else None),
        )
        if text
    }
    return component.model_copy(update=update) if update else component


def _component_rule(component_id: str, catalog: Catalog) -> Any:
    return next((c for c in catalog.guidance.care_plan.components if c.id == component_id), None)
