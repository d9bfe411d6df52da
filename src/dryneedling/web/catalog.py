"""Lists of valid choices (regions, areas, conditions, filters) for the API and the page forms."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from dryneedling.render.body_chart import region_views


class RegionOut(BaseModel):
    """A body region of the vocabulary, where it sits and on which chart view(s) it is drawn."""

    id: str
    label: str
    area: str
    area_label: str
    views: list[str]


class ConditionOut(BaseModel):
    """A condition of the knowledge base and the evidence-table region it maps to."""

    id: str
    label: str
    area: str | None = None
    evidence_region: str | None = None


def knowledge() -> Any:
    """The (cached) knowledge base."""
    from dryneedling.knowledge import load_knowledge

    return load_knowledge()


def regions() -> list[RegionOut]:
    """Every body region, grouped by area in the knowledge base's order."""
    kb = knowledge()
    return [
        RegionOut(
            id=region.id,
            label=region.label,
            area=region.area,
            area_label=kb.areas[region.area].label if region.area in kb.areas else region.area,
            views=list(region_views(region.id)),
        )
        for region in kb.regions.values()
    ]


def regions_by_area() -> list[tuple[str, list[RegionOut]]]:
    """Regions grouped under their area label (for <optgroup> lists)."""
    groups: dict[str, list[RegionOut]] = {}
    for region in regions():
        groups.setdefault(region.area_label, []).append(region)
    return list(groups.items())


def areas() -> list[tuple[str, str]]:
    """(id, label) of every body area."""
    return [(area.id, area.label) for area in knowledge().areas.values()]


def conditions() -> list[ConditionOut]:
    """Every condition, sorted by label."""
    return sorted(
        (
            ConditionOut(
                id=c.id, label=c.label, area=c.area, evidence_region=getattr(c, "evidence_region", None)
            )
            for c in knowledge().conditions.values()
        ),
        key=lambda c: c.label.lower(),
    )


def comorbidities() -> list[tuple[str, str]]:
    """(id, label) of the comorbidities the screening understands."""
    from dryneedling.knowledge.guidance import load_guidance

    items = load_guidance().comorbidities
    result = []
    for key, value in items.items() if hasattr(items, "items") else ((k, k) for k in items):
        label = getattr(value, "label", None) or (value if isinstance(value, str) else key)
        result.append((key, str(label).replace("_", " ")))
    return sorted(result, key=lambda pair: pair[1].lower())


@cache
def evidence_filter_choices() -> dict[str, list[str]]:
    """The distinct regions, comparators and outcomes of the whole evidence table."""
    from dryneedling.evidence.table import evidence_table

    rows = evidence_table().rows
    return {
        name: sorted({getattr(row, name) for row in rows if getattr(row, name)})
        for name in ("region", "comparator", "outcome")
    }
