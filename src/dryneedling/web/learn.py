"""Public pages for patients: topic pages at /learn/..., the self-check and /sitemap.xml.

A thin shell over :mod:`dryneedling.services.learn` and :mod:`dryneedling.services.self_check`: it reads the
request, calls the service and renders. Nothing is stored and no cookie is set; the self-check is POSTed (so
answers about pregnancy or medicines never sit in a URL or a server log) and answered ``no-store``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from dryneedling.catalog import Catalog
from dryneedling.errors import InputError
from dryneedling.services import learn as learn_service
from dryneedling.services import self_check as self_check_service
from dryneedling.web.deps import get_catalog

router = APIRouter(include_in_schema=False)

SELF_CHECK = "self-check"
NO_STORE = {"Cache-Control": "no-store"}


def _render(
    request: Request, template: str, status_code: int = 200, headers: dict | None = None, **context: Any
):
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, context, status_code=status_code, headers=headers)


def _catalog_or_404(catalog: Catalog) -> Catalog:
    if catalog.learn is None:
        raise InputError("learn", "this catalog has no learn/ data")
    return catalog


def _common(catalog: Catalog) -> dict[str, Any]:
    return {"version": catalog.version, "date": dt.date.today(), "topics": learn_service.pages(catalog)}


@router.get("/learn", response_class=HTMLResponse)
def learn_index(request: Request, catalog: Catalog = Depends(get_catalog)):
    """The list of topic pages and the self-check."""
    _catalog_or_404(catalog)
    return _render(request, "learn/index.html", **_common(catalog))


def _self_check_context(catalog: Catalog, form: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        **_common(catalog),
        "wording": catalog.learn.self_check,  # type: ignore[union-attr]
        "choices": self_check_service.choices(catalog),
        "defaults": self_check_service.defaults(),
        "form": form or {},
        "result": None,
        "error": None,
    }


@router.get(f"/learn/{SELF_CHECK}", response_class=HTMLResponse)
def self_check_form(request: Request, catalog: Catalog = Depends(get_catalog)):
    """The self-check's questions."""
    _catalog_or_404(catalog)
    return _render(request, "learn/self_check.html", **_self_check_context(catalog))


@router.post(f"/learn/{SELF_CHECK}", response_class=HTMLResponse)
async def self_check_answer(request: Request, catalog: Catalog = Depends(get_catalog)):
    """The self-check's answer, below the questions (answered no-store; nothing is kept)."""
    _catalog_or_404(catalog)
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    context = _self_check_context(catalog, form)
    try:
        context["result"] = self_check_service.self_check(catalog, form)
    except InputError as error:
        context["error"] = error.to_dict()
    status = 422 if context["error"] else 200
    return _render(request, "learn/self_check.html", status, headers=NO_STORE, **context)


@router.get("/learn/{slug}", response_class=HTMLResponse)
def topic(request: Request, slug: str, catalog: Catalog = Depends(get_catalog)):
    """One topic page, built from the catalog (unknown slugs: 404 with the list of pages)."""
    _catalog_or_404(catalog)
    try:
        page = learn_service.topic_page(catalog, slug)
    except InputError as error:
        return _render(request, "learn/index.html", 404, error=error.to_dict(), **_common(catalog))
    from dryneedling.web.questions import questions_context

    context = questions_context(request, slug, thanks=request.query_params.get("asked") == "1")
    return _render(request, "learn/topic.html", page=page, **_common(catalog), **context)


def learn_paths(catalog: Catalog) -> list[str]:
    """Every public learn page's path (index, topics, self-check), as listed in the sitemap."""
    return ["/learn", *(f"/learn/{p.slug}" for p in learn_service.pages(catalog)), f"/learn/{SELF_CHECK}"]


@router.get("/sitemap.xml")
def sitemap(request: Request, catalog: Catalog = Depends(get_catalog)):
    """The learn pages for search engines (absolute URLs on the host the request came to)."""
    base = str(request.base_url).rstrip("/")
    today = dt.date.today().isoformat()
    urls = "".join(
        f"<url><loc>{escape(base + path)}</loc><lastmod>{today}</lastmod></url>"
        for path in learn_paths(catalog)
    )
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n'
    return Response(body, media_type="application/xml")
