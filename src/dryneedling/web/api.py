"""The JSON API: the same answers as the CLI, as typed JSON (see ``/openapi.json``).

Bad input raises :class:`~dryneedling.errors.InputError` in the core and reaches the client as HTTP 422
in the one error shape installed by :mod:`dryneedling.web.errors`.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from dryneedling import __version__
from dryneedling.assessment.report import Report
from dryneedling.catalog import Catalog
from dryneedling.evidence.table import EvidenceTable
from dryneedling.services import evidence as evidence_service
from dryneedling.services.assess import assess as assess_service
from dryneedling.services.atlas import AtlasAnswer
from dryneedling.services.atlas import atlas as atlas_service
from dryneedling.vocabulary import Audience
from dryneedling.web import choices
from dryneedling.web.deps import get_catalog
from dryneedling.web.errors import ERROR_RESPONSES, parse_json_body

router = APIRouter(prefix="/api", tags=["api"], responses=ERROR_RESPONSES)

AudienceParam = Audience
SideParam = Literal["left", "right"]


class Health(BaseModel):
    """Liveness and what is loaded."""

    status: Literal["ok"]
    version: str
    catalog_version: str
    regions: int
    muscles: int
    conditions: int


def split_ids(text: str | None) -> list[str]:
    """Split a comma-separated query value into ids, dropping blanks."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


@router.get("/health", response_model=Health, summary="Liveness and knowledge-base size")
def health(data: Catalog = Depends(get_catalog)) -> Health:
    """Report that the app runs, which data it serves and how much of it loaded."""
    kb = data.kb
    return Health(
        status="ok",
        version=__version__,
        catalog_version=data.version,
        regions=len(kb.regions),
        muscles=len(kb.muscles),
        conditions=len(kb.conditions),
    )


@router.get("/regions", response_model=list[choices.RegionOut], summary="Body-region vocabulary")
def list_regions(data: Catalog = Depends(get_catalog)) -> list[choices.RegionOut]:
    """Every body-region id with its plain label, area and body-chart view(s)."""
    return choices.regions(data)


@router.get("/conditions", response_model=list[choices.ConditionOut], summary="Conditions")
def list_conditions(data: Catalog = Depends(get_catalog)) -> list[choices.ConditionOut]:
    """Every condition id with its label, area and evidence-table region."""
    return choices.conditions(data)


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
    data: Catalog = Depends(get_catalog),
) -> MedicationNames:
    """Generic and brand names that start with or contain ``q``; a near miss when nothing does."""
    from dryneedling.assessment.medications import lookup_names

    return MedicationNames.model_validate({"items": lookup_names(q, data.guidance)})


@router.get("/atlas", response_model=AtlasAnswer, summary="Painful regions to ranked candidate muscles")
def atlas(
    pain: str = Query(..., description="Comma-separated body-region ids, e.g. posterior_neck,temple"),
    condition: str | None = Query(None, description="Condition id (boosts muscles typical for it)"),
    side: SideParam | None = Query(None, description="Side of the pain"),
    data: Catalog = Depends(get_catalog),
) -> AtlasAnswer:
    """Rank the muscles whose trigger points refer pain to the given regions (same as `dryneedling atlas`)."""
    return atlas_service(data, split_ids(pain), condition, side)


@router.get("/evidence", response_model=EvidenceTable, summary="Graded evidence table")
def evidence(
    region: str | None = Query(None, description="Evidence region, e.g. neck"),
    comparator: str | None = Query(None, description="Comparator, e.g. sham"),
    outcome: str | None = Query(None, description="Outcome, e.g. pain"),
    condition: str | None = Query(None, description="Condition id (mapped to its evidence region)"),
    audience: AudienceParam = Query("clinician"),
    data: Catalog = Depends(get_catalog),
) -> EvidenceTable:
    """Pooled estimates with certainty and strength, filtered (same as `dryneedling evidence table`)."""
    return evidence_service.table(
        data,
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
    audience: AudienceParam = Query(
        "clinician", description="patient drops evidence rows unsafe for patients"
    ),
    data: Catalog = Depends(get_catalog),
) -> Report:
    """Assess one profile and return the Report (same object as `dryneedling assess --json`). Not stored."""
    body = parse_json_body(await request.body())
    report = assess_service(data, body, audience)
    # The Report is built and validated by the core; serialising it once here spares FastAPI a second
    # validation pass over ~100 KB (the OpenAPI document still names the Report schema).
    return Response(
        content=report.model_dump_json(), media_type="application/json", headers={"Cache-Control": "no-store"}
    )
