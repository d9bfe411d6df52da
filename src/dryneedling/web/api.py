"""The JSON API: the same answers as the CLI, as typed JSON (see ``/openapi.json``).

Bad input raises :class:`~dryneedling.errors.InputError` in the core and reaches the client as HTTP 422
in the one error shape installed by :mod:`dryneedling.web.errors`.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from dryneedling import __version__
from dryneedling.assessment.atlas import Candidate, rank_muscles
from dryneedling.assessment.profile import load_profile
from dryneedling.assessment.report import Report, build_report
from dryneedling.errors import InputError
from dryneedling.evidence.table import EvidenceTable, evidence_table
from dryneedling.render.html import AUDIENCES
from dryneedling.web import catalog
from dryneedling.web.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api", tags=["api"], responses=ERROR_RESPONSES)

AudienceParam = Literal["clinician", "patient"]
SideParam = Literal["left", "right"]


class Health(BaseModel):
    """Liveness and what is loaded."""

    status: Literal["ok"]
    version: str
    regions: int
    muscles: int
    conditions: int


class AtlasAnswer(BaseModel):
    """Candidate muscles for painful regions, best first."""

    pain: list[str]
    condition: str | None
    side: str | None
    candidates: list[Candidate]


def split_ids(text: str | None) -> list[str]:
    """Split a comma-separated query value into ids, dropping blanks."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def atlas_answer(pain: list[str], condition: str | None, side: str | None) -> AtlasAnswer:
    """Rank candidate muscles (shared by the API and the atlas page)."""
    kb = catalog.knowledge()
    if not pain:
        raise InputError("pain", "name at least one painful body region", choices=list(kb.regions))
    candidates = rank_muscles(pain, condition=condition or None, side=side or None, kb=kb)
    return AtlasAnswer(pain=pain, condition=condition or None, side=side or None, candidates=candidates)


def assess_profile(data: Any, audience: str = "clinician") -> Report:
    """Build the Report for a profile mapping, exactly as the CLI does (``load_profile`` + ``build_report``)."""
    if audience not in AUDIENCES:
        raise InputError.unknown("audience", audience, AUDIENCES, kind="audience")
    if not isinstance(data, dict):
        raise InputError("body", "must be a JSON object of profile fields", value=type(data).__name__)
    kb = catalog.knowledge()
    profile = load_profile(data, kb=kb)
    return build_report(profile, kb=kb, audience=audience)


@router.get("/health", response_model=Health, summary="Liveness and knowledge-base size")
def health() -> Health:
    """Report that the app runs and the knowledge base loaded."""
    kb = catalog.knowledge()
    return Health(
        status="ok",
        version=__version__,
        regions=len(kb.regions),
        muscles=len(kb.muscles),
        conditions=len(kb.conditions),
    )


@router.get("/regions", response_model=list[catalog.RegionOut], summary="Body-region vocabulary")
def list_regions() -> list[catalog.RegionOut]:
    """Every body-region id with its plain label, area and body-chart view(s)."""
    return catalog.regions()


@router.get("/conditions", response_model=list[catalog.ConditionOut], summary="Conditions")
def list_conditions() -> list[catalog.ConditionOut]:
    """Every condition id with its label, area and evidence-table region."""
    return catalog.conditions()


class MedicationName(BaseModel):
    """A known medicine name with the drug, class and WHO ATC code it stands for."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    name: str
    drug: str
    klass: str = Field(alias="class")
    atc: str


class MedicationNames(BaseModel):
    """Known medicine names for a typed fragment, best first (for a form's suggestion list)."""

    items: list[MedicationName]


@router.get("/medications", response_model=MedicationNames, summary="Known medicine names for a fragment")
def medication_names(
    q: str = Query("", max_length=100, description="What has been typed so far, e.g. 'clex'"),
) -> MedicationNames:
    """Generic and brand names that start with or contain ``q``; a near miss when nothing does."""
    from dryneedling.assessment.medications import lookup_names
    from dryneedling.knowledge.guidance import load_guidance

    return MedicationNames.model_validate({"items": lookup_names(q, load_guidance())})


@router.get("/atlas", response_model=AtlasAnswer, summary="Painful regions to ranked candidate muscles")
def atlas(
    pain: str = Query(..., description="Comma-separated body-region ids, e.g. posterior_neck,temple"),
    condition: str | None = Query(None, description="Condition id (boosts muscles typical for it)"),
    side: SideParam | None = Query(None, description="Side of the pain"),
) -> AtlasAnswer:
    """Rank the muscles whose trigger points refer pain to the given regions (same as `dryneedling atlas`)."""
    return atlas_answer(split_ids(pain), condition, side)


@router.get("/evidence", response_model=EvidenceTable, summary="Graded evidence table")
def evidence(
    region: str | None = Query(None, description="Evidence region, e.g. neck"),
    comparator: str | None = Query(None, description="Comparator, e.g. sham"),
    outcome: str | None = Query(None, description="Outcome, e.g. pain"),
    condition: str | None = Query(None, description="Condition id (mapped to its evidence region)"),
    audience: AudienceParam = Query("clinician"),
) -> EvidenceTable:
    """Pooled estimates with certainty and strength, filtered (same as `dryneedling evidence table`)."""
    return evidence_table(
        region=region or None,
        comparator=comparator or None,
        outcome=outcome or None,
        condition=condition or None,
        audience=audience,
    )


PROFILE_BODY = {
    "requestBody": {
        "required": True,
        "description": "A patient profile (the same fields as a YAML profile for `dryneedling assess`).",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PatientProfile"}}},
    }
}


@router.post(
    "/assess",
    response_model=Report,
    summary="Profile to Report",
    openapi_extra=PROFILE_BODY,
)
async def assess(
    request: Request,
    response: Response,
    audience: AudienceParam = Query(
        "clinician", description="patient drops evidence rows unsafe for patients"
    ),
) -> Report:
    """Assess one profile and return the Report (same object as `dryneedling assess --json`). Not stored."""
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError("body", f"malformed JSON: {exc}") from None
    response.headers["Cache-Control"] = "no-store"
    return await run_in_threadpool(assess_profile, data, audience)
