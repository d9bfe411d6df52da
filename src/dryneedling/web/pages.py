"""HTML pages: home, atlas, evidence and assess, with htmx partials for the live parts.

Each page works without JavaScript (plain GET/POST forms); htmx swaps in the partials when it runs.
Bad input is shown in the page with the same fields as the JSON error shape, with HTTP 422.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from dryneedling.assessment.profile import REGION_LIST_FIELDS
from dryneedling.catalog import Catalog
from dryneedling.errors import InputError
from dryneedling.render.body_chart import charted_region_ids, highlight_for
from dryneedling.render.context import DocumentContext
from dryneedling.render.html import condition_label, render_report_fragment, report_stylesheet
from dryneedling.render.pdf import render_pdf
from dryneedling.services import evidence as evidence_service
from dryneedling.services.assess import assess as assess_service
from dryneedling.services.atlas import atlas as atlas_service
from dryneedling.web import choices
from dryneedling.web.chart import tap_chart
from dryneedling.web.forms import profile_from_form

router = APIRouter(include_in_schema=False)

# How many of the best-ranked muscles have their referral zones shaded on the atlas chart.
CHART_TOP_MUSCLES = 5
NO_STORE = {"Cache-Control": "no-store"}
# Medicine rows on the assess form; most people name a handful.
MEDICINE_ROWS = 5
# Form labels of the profile's regional lists; a list the profile adds later still appears, humanised.
REGION_LIST_LABELS = {
    "lymphedema_regions": "Lymphoedema",
    "lymphedema_risk_regions": "At risk of lymphoedema (e.g. after lymph node removal)",
    "skin_lesion_regions": "Skin lesion or infection",
    "implant_regions": "Implant",
    "recent_surgery_regions": "Recent surgery",
    "local_inflammation_regions": "Local inflammation",
    "tumour_regions": "Tumour",
}


# The assess form's words for the profile's fields, and the form control that holds each (when its name
# differs): an error is shown as "Age is required" next to the age box, not as "age: is required".
FIELD_LABELS = {
    "age": "Age",
    "sex": "Sex",
    "activity": "Activity",
    "condition": "Condition",
    "side": "Side",
    "duration_weeks": "Duration (weeks)",
    "pain_nprs": "Pain now (0-10)",
    "central_sensitization_inventory": "Central Sensitization Inventory",
    "pain_regions": "Painful regions",
    "trigger_points": "Trigger points found",
    "comorbidities": "Comorbidities",
    "medications": "Medicines",
    "prior_injuries": "Prior injuries",
    "pregnancy": "Pregnancy",
    "pregnancy.trimester": "Trimester",
    "needle_fear": "Needle fear",
    "previous_dry_needling": "Previous dry needling",
    "previous_dry_needling.sessions": "Previous dry needling sessions",
    "previous_dry_needling.vasovagal_reaction": "Fainted or nearly fainted with needles before",
    "practitioner": "Practitioner",
    "practitioner.training_hours": "Practitioner's dry needling training (hours)",
    "practitioner.ultrasound_guidance": "Ultrasound guidance",
    "consent": "Informed consent",
    "consent_by": "Consent given by",
    **REGION_LIST_LABELS,
}
FORM_NAMES = {
    "trigger_points": "active_trigger_points",
    "pregnancy": "pregnant",
    "pregnancy.trimester": "trimester",
    "previous_dry_needling": "previous_sessions",
    "previous_dry_needling.sessions": "previous_sessions",
    "previous_dry_needling.vasovagal_reaction": "vasovagal_reaction",
    "practitioner": "training_hours",
    "practitioner.training_hours": "training_hours",
    "practitioner.ultrasound_guidance": "ultrasound_guidance",
}


def field_words(field: str | None) -> tuple[str | None, str | None]:
    """(the assess form's control name, its label) for a profile field id such as ``pain_regions`` or
    ``lymphedema_regions.0.side``: the longest known prefix decides; an unknown field gets its id in words."""
    if not field:
        return None, None
    parts = field.split(".")
    for end in range(len(parts), 0, -1):
        key = ".".join(parts[:end])
        if key in FIELD_LABELS:
            return FORM_NAMES.get(key, key), FIELD_LABELS[key]
    return None, field.replace("_", " ").replace(".", " ").strip().capitalize()


def sentence(label: str | None, message: str) -> str:
    """ "Age" + "is required" -> "Age is required"; a message that is a sentence of its own keeps a colon."""
    if not label:
        return message
    return f"{label} {message}" if message[:1].islower() else f"{label}: {message}"


def _worded(error: dict[str, Any]) -> dict[str, Any]:
    form_name, label = field_words(error.get("field"))
    return {**error, "form_field": form_name, "label": label, "words": sentence(label, error["message"])}


# Optional fields of the assess form printed on the documents (not part of the profile).
DOCUMENT_FIELDS = ("clinic", "clinician", "patient_name", "patient_id")


def document_from_form(form: Any, paper: str) -> DocumentContext:
    """Who the printed document is for and by (blank when the form leaves them empty), on ``paper``."""
    return DocumentContext(**{name: str(form.get(name) or "")[:200] for name in DOCUMENT_FIELDS}, paper=paper)


def _render(
    request: Request, template: str, status_code: int = 200, headers: dict | None = None, **context: Any
):
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, context, status_code=status_code, headers=headers)


def _data(request: Request) -> Catalog:
    """The catalog the app was started with."""
    return request.app.state.catalog


def _error_context(error: InputError) -> dict[str, Any]:
    return {"error": error.to_dict()}


def _atlas_chart(data: Catalog, pain: list[str], candidates: list[Any]) -> Markup:
    kb = data.kb
    referral: list[str] = []
    for candidate in candidates[:CHART_TOP_MUSCLES]:
        muscle = kb.muscles.get(candidate.muscle)
        referral.extend(muscle.referral_zones if muscle else candidate.matched_regions)
    drawable = charted_region_ids()
    highlight = highlight_for([r for r in pain if r in drawable], [r for r in referral if r in drawable])
    return tap_chart(data, highlight)


def _region_lists(data: Catalog) -> dict[str, Any]:
    return {"pain_groups": choices.region_groups(data), "conditions": choices.conditions(data)}


@router.get("/", response_class=HTMLResponse)
def home(request: Request):
    """Home page: what the tool does and where to start."""
    kb = _data(request).kb
    return _render(
        request,
        "home.html",
        counts={
            "regions": len(kb.regions),
            "muscles": len(kb.muscles),
            "conditions": len(kb.conditions),
            "sources": len(kb.sources),
        },
    )


def _atlas_context(data: Catalog, pain: list[str], condition: str | None, side: str | None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "pain": pain,
        "condition": condition or "",
        "side": side or "",
        "answer": None,
        "error": None,
        "top": CHART_TOP_MUSCLES,
    }
    candidates: list[Any] = []
    if pain:
        try:
            answer = atlas_service(data, pain, condition, side)
            context["answer"] = answer
            candidates = answer.candidates
        except InputError as error:
            context.update(_error_context(error))
    drawable_pain = [r for r in pain if r in charted_region_ids()]
    context["chart"] = _atlas_chart(data, drawable_pain, candidates)
    return context


@router.get("/atlas", response_class=HTMLResponse)
def atlas_page(request: Request, condition: str | None = None, side: str | None = None):
    """Pick painful regions on the chart (or in the list) and see the ranked candidate muscles."""
    pain = request.query_params.getlist("pain")
    context = _atlas_context(_data(request), pain, condition, side)
    return _render(
        request, "atlas.html", 422 if context["error"] else 200, **context, **_region_lists(_data(request))
    )


@router.get("/atlas/results", response_class=HTMLResponse)
def atlas_results(request: Request, condition: str | None = None, side: str | None = None):
    """htmx partial: ranked muscles, plus the re-shaded chart swapped out of band."""
    pain = request.query_params.getlist("pain")
    context = _atlas_context(_data(request), pain, condition, side)
    return _render(request, "_atlas_results.html", 422 if context["error"] else 200, oob=True, **context)


def _evidence_context(request: Request) -> dict[str, Any]:
    filters = {name: request.query_params.get(name) or "" for name in ("region", "comparator", "outcome")}
    audience = request.query_params.get("audience") or "clinician"
    context: dict[str, Any] = {
        "filters": filters,
        "audience": audience,
        "table": None,
        "error": None,
        "choices": choices.evidence_filter_choices(_data(request)),
    }
    try:
        context["table"] = evidence_service.table(
            _data(request), audience=audience, **{k: v or None for k, v in filters.items()}
        )
    except InputError as error:
        context.update(_error_context(error))
    return context


@router.get("/evidence", response_class=HTMLResponse)
def evidence_page(request: Request):
    """The evidence table with filters by region, comparator and outcome, for clinicians or patients."""
    context = _evidence_context(request)
    return _render(request, "evidence.html", 422 if context["error"] else 200, **context)


@router.get("/evidence/table", response_class=HTMLResponse)
def evidence_partial(request: Request):
    """htmx partial: the filtered evidence table."""
    context = _evidence_context(request)
    return _render(request, "_evidence_table.html", 422 if context["error"] else 200, **context)


def _assess_form_context(request: Request, form: dict[str, Any] | None = None) -> dict[str, Any]:
    data = _data(request)
    return {
        "paper_label": PAPER_LABELS[request.app.state.settings.paper],
        **_region_lists(data),
        "areas": choices.areas(data),
        "region_lists": [
            (name, REGION_LIST_LABELS.get(name, name.removesuffix("_regions").replace("_", " ").capitalize()))
            for name in REGION_LIST_FIELDS
        ],
        "comorbidities": choices.comorbidities(data),
        "comorbidity_groups": [("", choices.comorbidities(data))],
        "finding_groups": [("Whole areas", choices.areas(data)), *choices.region_groups(data)],
        "medicine_names": choices.medicine_names(data),
        "medicine_rows": MEDICINE_ROWS,
        "muscle_groups": choices.muscle_groups(data),
        "form": form or {},
        "chart": tap_chart(data),
    }


async def _report_context(request: Request) -> dict[str, Any]:
    form = await request.form()
    profile = profile_from_form(form)
    try:
        clinician = await run_in_threadpool(assess_service, _data(request), profile, "clinician")
        patient = await run_in_threadpool(assess_service, _data(request), profile, "patient")
    except InputError as error:
        worded = _worded(error.to_dict())
        if worded.get("errors"):
            worded["errors"] = [_worded(item) for item in worded["errors"]]
        return {"profile_data": profile, "error": worded}
    document = document_from_form(form, request.app.state.settings.paper)
    data = _data(request)
    return {
        "profile_data": profile,
        "error": None,
        "condition_label": condition_label(clinician.profile.condition, data.kb),
        "clinician_html": Markup(render_report_fragment(clinician, "clinician", document, catalog=data)),
        "patient_html": Markup(render_report_fragment(patient, "patient", document, catalog=data)),
    }


PAPER_LABELS = {"a4": "A4", "letter": "US letter"}


@router.get("/report.css")
def report_css() -> Response:
    """The report's stylesheet, served as a file: the Content-Security-Policy allows no inline <style>."""
    return Response(report_stylesheet(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/assess", response_class=HTMLResponse)
def assess_page(request: Request):
    """The assessment form."""
    return _render(request, "assess.html", report=None, **_assess_form_context(request))


@router.post("/assess", response_class=HTMLResponse)
async def assess_submit(request: Request):
    """No-JavaScript fallback: the form page again with the report below it."""
    report = await _report_context(request)
    status = 422 if report.get("error") else 200
    return _render(request, "assess.html", status, NO_STORE, report=report, **_assess_form_context(request))


@router.post("/assess/report", response_class=HTMLResponse)
async def assess_report(request: Request):
    """htmx partial: the report in both renderings (tabs), or the input error."""
    report = await _report_context(request)
    status = 422 if report.get("error") else 200
    return _render(request, "_assess_report.html", status, NO_STORE, report=report)


@router.post("/assess/pdf")
async def assess_pdf(request: Request):
    """The report as a PDF download; ``audience`` (clinician or patient) comes from the pressed button."""
    form = await request.form()
    audience = str(form.get("audience") or "clinician")
    profile = profile_from_form(form)
    try:
        report = await run_in_threadpool(assess_service, _data(request), profile, audience)
    except InputError as error:
        return _render(request, "error.html", 422, NO_STORE, status=422, **_error_context(error))
    document = document_from_form(form, request.app.state.settings.paper)
    pdf = await run_in_threadpool(partial(render_pdf, catalog=_data(request)), report, audience, document)
    filename = f"dryneedling-{audience}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )
