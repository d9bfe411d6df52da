"""Lists of valid choices (regions, areas, conditions, filters) for the API and the page forms."""

from __future__ import annotations

from pydantic import BaseModel

from dryneedling.catalog import Catalog
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


def regions(catalog: Catalog) -> list[RegionOut]:
    """Every body region, grouped by area in the knowledge base's order."""
    kb = catalog.kb
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


def regions_by_area(catalog: Catalog) -> list[tuple[str, list[RegionOut]]]:
    """Regions grouped under their area label (for <optgroup> lists)."""
    groups: dict[str, list[RegionOut]] = {}
    for region in regions(catalog):
        groups.setdefault(region.area_label, []).append(region)
    return list(groups.items())


def region_groups(catalog: Catalog) -> list[tuple[str, list[tuple[str, str]]]]:
    """(area label, [(region id, label), ...]) for a picker of body regions."""
    return [(area, [(r.id, r.label) for r in items]) for area, items in regions_by_area(catalog)]


def muscle_groups(catalog: Catalog) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every muscle as (id, name), sorted by name, as the one group of a picker."""
    muscles = catalog.kb.muscles.values()
    return [("", sorted(((m.id, m.name) for m in muscles), key=lambda pair: pair[1].lower()))]


def areas(catalog: Catalog) -> list[tuple[str, str]]:
    """(id, label) of every body area."""
    return [(area.id, area.label) for area in catalog.kb.areas.values()]


def conditions(catalog: Catalog) -> list[ConditionOut]:
    """Every condition, sorted by label."""
    return sorted(
        (
            ConditionOut(
                id=c.id, label=c.label, area=c.area, evidence_region=getattr(c, "evidence_region", None)
            )
            for c in catalog.kb.conditions.values()
        ),
        key=lambda c: c.label.lower(),
    )


def comorbidities(catalog: Catalog) -> list[tuple[str, str]]:
    """(id, label) of the comorbidities the screening understands, sorted by label."""
    return sorted(
        ((c.id, c.label) for c in catalog.guidance.comorbidities.values()), key=lambda pair: pair[1].lower()
    )


def evidence_filter_choices(catalog: Catalog) -> dict[str, list[str]]:
    """The distinct regions, comparators and outcomes of the published estimates."""
    rows = catalog.evidence.syntheses
    return {
        name: sorted({getattr(row, name) for row in rows if getattr(row, name)})
        for name in ("region", "comparator", "outcome")
    }


def medicine_names(catalog: Catalog) -> list[str]:
    """Every generic and brand name of the medicine vocabulary, sorted, for the form's suggestion list."""
    return sorted(
        {
            name
            for klass in catalog.guidance.medications.classes
            for drug in klass.drugs
            for name in drug.all_names()
        },
        key=str.lower,
    )
