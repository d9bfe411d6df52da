"""Outcome measures and the clinic dashboard in the web app: the JSON API and the records pages.

A thin shell over :mod:`dryneedling.services.outcomes`:

- ``POST /api/episodes/{id}/outcomes`` ``{"measure", "score" | "items", "date", "variant"}`` keeps one score;
- ``GET /api/episodes/{id}/progress`` -> ``{"measures": [{"measure", "baseline", "latest", "change", "mcid",
  "reached", ...}]}``;
- ``GET /api/clinic/dashboard`` -> rates with exact intervals, the published benchmarks and their sources;
  ``GET /api/clinic/dashboard/{table}.csv`` the numbers of one table as CSV;
- pages: ``/records/episodes/{id}/progress`` (plots, sentences and a form to add a score) and
  ``/records/dashboard`` (SVG plots with their numbers and CSV links).

Refusals reach the client in the one error shape (401/403/404/422); answers are ``no-store``.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from dryneedling.catalog import Catalog
from dryneedling.errors import InputError
from dryneedling.outcomes.dashboard import CSV_TABLES, Dashboard, dashboard_csv
from dryneedling.outcomes.scoring import recordable, scale
from dryneedling.records.entities import User
from dryneedling.records.outcomes import OutcomeScore
from dryneedling.records.repository import Store
from dryneedling.render import outcome_plots as plots
from dryneedling.services import outcomes as service
from dryneedling.web.deps import get_catalog
from dryneedling.web.records import RESPONSES, current_user, get_store, no_store
from dryneedling.web.records_pages import _form, _render, _validate, page_user

router = APIRouter(prefix="/api", tags=["outcomes"], responses=RESPONSES, dependencies=[Depends(no_store)])
pages = APIRouter(prefix="/records", include_in_schema=False)


class McidOut(BaseModel):
    value: float
    population: str = Field(description="The population and context the value was published for")
    source: str = Field(description="Source id in the bibliography")
    specific_to_condition: bool = Field(
        description="False: no value for this condition, the first listed is used"
    )


class MeasureProgressOut(BaseModel):
    measure: str
    variant: str | None
    name: str
    direction: str
    baseline: float
    latest: float
    change: float = Field(description="latest - baseline")
    mcid: McidOut | None
    reached: bool | None = Field(
        description="The improvement reached the MCID; None: no MCID or one score only"
    )
    sentence: str
    points: list[dict[str, Any]]


class ProgressOut(BaseModel):
    measures: list[MeasureProgressOut]


def _check_table(table: str) -> str:
    if table not in CSV_TABLES:
        raise InputError.unknown("table", table, CSV_TABLES, kind="table")
    return table


def _csv_response(dashboard: Dashboard, table: str) -> Response:
    return Response(
        dashboard_csv(dashboard, table),
        media_type="text/csv; charset=utf-8",
        headers={"Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="{table}.csv"'},
    )


# -- JSON API --------------------------------------------------------------------------------------------
@router.post(
    "/episodes/{episode_id}/outcomes",
    status_code=201,
    response_model=OutcomeScore,
    summary="Record an outcome measure (total, or items where the licence allows)",
)
def record_outcome(
    episode_id: uuid.UUID,
    body: service.OutcomeIn,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> OutcomeScore:
    return service.record_outcome(store, catalog, user, episode_id, body)  # type: ignore[arg-type]


@router.get(
    "/episodes/{episode_id}/progress",
    response_model=ProgressOut,
    summary="Each measure against its baseline and MCID",
)
def get_progress(
    episode_id: uuid.UUID,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> ProgressOut:
    found = service.progress(store, catalog, user, episode_id)  # type: ignore[arg-type]
    return ProgressOut.model_validate(found.as_dict())


@router.get(
    "/clinic/dashboard", response_model=Dashboard, summary="The clinic dashboard (rates, intervals, sources)"
)
def get_dashboard(
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Dashboard:
    return service.dashboard(store, catalog, user)  # type: ignore[arg-type]


@router.get(
    "/clinic/dashboard/{table}.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One table of the dashboard"}},
    summary="One table of the dashboard as CSV (adverse_events, soreness, outcomes, funnel)",
)
def get_dashboard_csv(
    table: str,
    user: User = Depends(current_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    _check_table(table)
    return _csv_response(service.dashboard(store, catalog, user), table)  # type: ignore[arg-type]


# -- pages -----------------------------------------------------------------------------------------------
def _measure_choices(catalog: Catalog, condition: str | None) -> list[dict[str, Any]]:
    """Recordable measures, the condition's recommended ones first, with what the form needs to know."""
    kb = catalog.kb
    preferred = list(kb.conditions[condition].measures) if condition in kb.conditions else []
    ordered = [*preferred, *sorted(m for m in kb.measures if m not in preferred)]
    choices = []
    for measure_id in ordered:
        measure = kb.measures.get(measure_id)
        if measure is None or not recordable(measure):
            continue
        low, high = scale(measure)
        if measure.variants:
            span = ", ".join(f"{v.label} {v.range[0]:g}-{v.range[1]:g}" for v in measure.variants)
        elif low is not None and high is not None:
            span = f"{low:g}-{high:g}"
        else:
            span = f"at least {low:g}" if low is not None else "no fixed range"
        entry = measure.entry
        choices.append(
            {
                "id": measure.id,
                "name": measure.name,
                "recommended": measure.id in preferred,
                "range": span,
                "unit": entry.unit if entry else None,
                "items": bool(entry and entry.items_shown),
                "item_count": entry.items.count if entry and entry.items else None,
                "variants": [(v.id, v.label) for v in measure.variants],
                "note": entry.note if entry else "",
            }
        )
    return choices


def _progress_context(catalog: Catalog, found: service.Progress) -> dict[str, Any]:
    kb = catalog.kb
    charts = []
    for measure in found.measures:
        low, high = scale(kb.measures[measure.measure], measure.variant)
        charts.append({"progress": measure, "svg": plots.progress_svg(measure, low, high)})
    return {
        "episode": found.episode,
        "charts": charts,
        "choices": _measure_choices(catalog, found.episode.condition),
        "sources": kb.sources,
        "today": date.today().isoformat(),
    }


def _items_from_form(raw: str) -> list[float] | None:
    text = raw.replace(";", ",").strip()
    if not text:
        return None
    try:
        return [float(part) for part in text.replace(" ", ",").split(",") if part.strip()]
    except ValueError:
        raise InputError("items", "must be numbers separated by commas", value=raw) from None


@pages.get("/episodes/{episode_id}/progress", response_class=HTMLResponse)
def progress_page(
    request: Request,
    episode_id: uuid.UUID,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    found = service.progress(store, catalog, user, episode_id)  # type: ignore[arg-type]
    return _render(request, "progress.html", user=user, form={}, **_progress_context(catalog, found))


@pages.post("/episodes/{episode_id}/outcomes", response_class=HTMLResponse)
async def outcome_submit(
    request: Request,
    episode_id: uuid.UUID,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    form = await _form(request)
    values = {
        key: str(form.get(key) or "").strip() for key in ("measure", "score", "items", "variant", "date")
    }
    try:
        score: float | None = None
        if values["score"]:
            try:
                score = float(values["score"])
            except ValueError:
                raise InputError("score", "must be a number", value=values["score"]) from None
        body = {
            "measure": values["measure"],
            "score": score,
            "items": _items_from_form(values["items"]),
            "variant": values["variant"] or None,
            "date": values["date"] or None,
        }
        service.record_outcome(store, catalog, user, episode_id, _validate(service.OutcomeIn, body))  # type: ignore[arg-type]
    except InputError as error:
        found = service.progress(store, catalog, user, episode_id)  # type: ignore[arg-type]
        return _render(
            request,
            "progress.html",
            422,
            user=user,
            form=values,
            error=error.to_dict(),
            **_progress_context(catalog, found),
        )
    return RedirectResponse(f"/records/episodes/{episode_id}/progress", status_code=303)


def _dashboard_context(catalog: Catalog, dashboard: Dashboard) -> dict[str, Any]:
    ae = dashboard.adverse_events
    who = "This clinic" if dashboard.scope == "clinic" else "My patients"
    rate_plots = []
    for severity, heading in (("mild", "Mild"), ("serious", "Significant or major")):
        rows = [
            plots.IntervalRow(
                f"{who}, clinician-reported",
                ae.clinician_reported[severity].rate,
                ae.clinician_reported[severity].ci_low,
                ae.clinician_reported[severity].ci_high,
            ),
            plots.IntervalRow(
                f"{who}, patient-reported",
                ae.patient_reported[severity].rate,
                ae.patient_reported[severity].ci_low,
                ae.patient_reported[severity].ci_high,
            ),
        ]
        rows += [
            plots.IntervalRow(p.study, p.percent / 100, p.ci_low, p.ci_high, published=True)
            for p in ae.published
            if p.severity == severity
        ]
        title = f"{heading} adverse events per treatment with exact 95 % intervals, beside published rates"
        rate_plots.append(
            {
                "heading": heading,
                "severity": severity,
                "svg": plots.interval_svg(title, rows, "No patient answers yet."),
            }
        )
    outcome_rows = [
        plots.IntervalRow(
            f"{o.condition_label[:28]} · {o.measure}{' ' + o.variant if o.variant else ''}",
            o.share,
            o.ci_low,
            o.ci_high,
        )
        for o in dashboard.outcomes
        if o.share is not None
    ]
    funnels = [
        {
            "funnel": f,
            "svg": plots.funnel_svg(
                f,
                f"{'Mild' if f.severity == 'mild' else 'Significant or major'} events, {f.reported_by}-reported: "
                "each clinician's rate against the clinic's mean",
            ),
        }
        for f in dashboard.funnels
    ]
    return {
        "dashboard": dashboard,
        "who": who,
        "rate_plots": rate_plots,
        "soreness_svg": plots.soreness_svg(dashboard.soreness),
        "outcomes_svg": plots.interval_svg(
            "Share of episodes whose change reached the MCID, with exact 95 % intervals", outcome_rows
        )
        if outcome_rows
        else None,
        "funnels": funnels,
        "tables": CSV_TABLES,
    }


@pages.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    found = service.dashboard(store, catalog, user)  # type: ignore[arg-type]
    return _render(request, "dashboard.html", user=user, **_dashboard_context(catalog, found))


@pages.get("/dashboard/{table}.csv")
def dashboard_csv_page(
    table: str,
    user: User = Depends(page_user),
    store: Store = Depends(get_store),
    catalog: Catalog = Depends(get_catalog),
) -> Response:
    _check_table(table)
    return _csv_response(service.dashboard(store, catalog, user), table)  # type: ignore[arg-type]
