"""Load the knowledge base once, validate every entry and every cross-reference, then freeze it.

The YAML files under ``data/`` are the single source of truth. Loading checks, all at once:
the shape of each entry (pydantic), duplicate ids, unknown ids in cross-references (areas, body regions,
conditions, measures, muscles, anatomical regions, evidence regions), citations that do not resolve in
the bibliography, and numbers outside the range of their measure. Every problem names the file, the
entry and the field; all of them are raised together in one :class:`KnowledgeError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from dryneedling.errors import DataError, InputError, Problem
from dryneedling.knowledge.models import (
    AnatomicalRegion,
    Area,
    BodyRegion,
    Condition,
    Measure,
    Muscle,
    SafetyItem,
    Source,
)
from dryneedling.knowledge.tiers import kb_facts, tier_problems

DATA_DIR = Path(__file__).resolve().parent / "data"

M = TypeVar("M", bound=BaseModel)


#: The knowledge base's name for the one data-error type (kept for readers of older code).
KnowledgeError = DataError


@dataclass(frozen=True)
class KnowledgeBase:
    """The validated, read-only knowledge base. Mappings are read-only views keyed by id."""

    data_dir: Path
    areas: Mapping[str, Area]
    regions: Mapping[str, BodyRegion]
    muscles: Mapping[str, Muscle]
    conditions: Mapping[str, Condition]
    safety_items: Mapping[str, SafetyItem]
    anatomical_regions: Mapping[str, AnatomicalRegion]
    measures: Mapping[str, Measure]
    sources: Mapping[str, Source]
    evidence_regions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def _get(self, table: Mapping[str, Any], kind: str, entry_id: str) -> Any:
        try:
            return table[entry_id]
        except (KeyError, TypeError):
            field_name = kind.replace(" ", "_")
            raise InputError.unknown(field_name, entry_id, table.keys(), kind=kind) from None

    def muscle(self, muscle_id: str) -> Muscle:
        """The muscle with this id, or InputError naming the closest ids."""
        return self._get(self.muscles, "muscle", muscle_id)

    def condition(self, condition_id: str) -> Condition:
        """The condition with this id, or InputError naming the closest ids."""
        return self._get(self.conditions, "condition", condition_id)

    def region(self, region_id: str) -> BodyRegion:
        """The body region with this id, or InputError naming the closest ids."""
        return self._get(self.regions, "region", region_id)

    def measure(self, measure_id: str) -> Measure:
        """The outcome measure with this id, or InputError naming the closest ids."""
        return self._get(self.measures, "measure", measure_id)

    def safety_item(self, item_id: str) -> SafetyItem:
        """The contraindication/precaution with this id, or InputError naming the closest ids."""
        return self._get(self.safety_items, "safety item", item_id)

    def anatomical_region(self, region_id: str) -> AnatomicalRegion:
        """The anatomical high-risk region with this id, or InputError naming the closest ids."""
        return self._get(self.anatomical_regions, "anatomical region", region_id)

    def source(self, source_id: str) -> Source:
        """The bibliography entry with this id, or InputError naming the closest ids."""
        return self._get(self.sources, "source", source_id)

    def citations(self, source_ids: Iterable[str]) -> dict[str, str]:
        """Full citation text for each source id, in the given order (ids are unique)."""
        return {sid: self.sources[sid].citation for sid in dict.fromkeys(source_ids)}

    def counts(self) -> dict[str, int]:
        """How many entries of each kind were loaded."""
        return {
            "areas": len(self.areas),
            "regions": len(self.regions),
            "muscles": len(self.muscles),
            "conditions": len(self.conditions),
            "safety_items": len(self.safety_items),
            "anatomical_regions": len(self.anatomical_regions),
            "measures": len(self.measures),
            "sources": len(self.sources),
        }


class _Collector:
    """Accumulates problems while the files are parsed and cross-checked."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.problems: list[Problem] = []

    def add(self, file: Path | str, entry: str, field_name: str, message: str) -> None:
        name = file.relative_to(self.data_dir).as_posix() if isinstance(file, Path) else file
        self.problems.append(Problem(name, entry, field_name, message))

    def read(self, path: Path, top_keys: tuple[str, ...]) -> dict[str, list]:
        """Read one YAML file and return its top-level lists (missing or malformed ones become [])."""
        import yaml  # here, not at the top: a catalog read from the cache needs no YAML parser

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # safe loaders only; the C one is faster
        if not path.is_file():
            self.add(path.name if not path.is_relative_to(self.data_dir) else path, "-", "", "file missing")
            return {key: [] for key in top_keys}
        try:
            with path.open(encoding="utf-8") as handle:
                raw = yaml.load(handle, Loader=loader)
        except yaml.YAMLError as exc:
            self.add(path, "-", "", f"not valid YAML: {exc}")
            return {key: [] for key in top_keys}
        except UnicodeDecodeError:
            self.add(path, "-", "", "not a text file (UTF-8)")
            return {key: [] for key in top_keys}
        except OSError as exc:
            self.add(path, "-", "", f"cannot read: {exc.strerror or exc}")
            return {key: [] for key in top_keys}
        if not isinstance(raw, dict):
            self.add(path, "-", "", "top level must be a mapping")
            return {key: [] for key in top_keys}
        out: dict[str, list] = {}
        for key in top_keys:
            value = raw.get(key)
            if not isinstance(value, list):
                self.add(path, "-", key, "missing or not a list")
                value = []
            out[key] = value
        for key in raw:
            if key not in top_keys:
                self.add(path, "-", str(key), f"unknown top-level key (expected {', '.join(top_keys)})")
        return out

    def build(self, path: Path, model: type[M], entries: list, kind: str) -> dict[str, M]:
        """Validate each entry with ``model``; report shape errors and duplicate ids."""
        table: dict[str, M] = {}
        for index, entry in enumerate(entries):
            label = _entry_label(entry, index)
            if not isinstance(entry, dict):
                self.add(path, label, "", f"each {kind} must be a mapping")
                continue
            try:
                item = model.model_validate(entry)
            except ValidationError as exc:
                for err in exc.errors():
                    loc = ".".join(str(part) for part in err["loc"])
                    message = "missing required field" if err["type"] == "missing" else err["msg"]
                    self.add(path, label, loc, message)
                continue
            if item.id in table:
                self.add(path, label, "id", f"duplicate {kind} id {item.id!r}")
                continue
            table[item.id] = item
        return table


def _entry_label(entry: Any, index: int) -> str:
    if isinstance(entry, dict) and isinstance(entry.get("id"), str):
        return entry["id"]
    return f"#{index + 1}"


def _missing(ids: Iterable[str], known: Mapping[str, Any]) -> Iterator[str]:
    return (i for i in ids if i not in known)


def _check_refs(
    c: _Collector, path: Path, entry: str, field_name: str, ids: Iterable[str], known: Mapping, kind: str
) -> None:
    for bad in _missing(ids, known):
        c.add(path, entry, field_name, f"unknown {kind} id {bad!r}")


def _load_sources(c: _Collector, sources_dir: Path) -> dict[str, Source]:
    merged: dict[str, Source] = {}
    origin: dict[str, str] = {}
    files = sorted(sources_dir.glob("*.yaml")) if sources_dir.is_dir() else []
    if not files:
        c.add("sources/", "-", "", "no bibliography files (*.yaml) found")
    for path in files:
        entries = c.read(path, ("sources",))["sources"]
        for source_id, source in c.build(path, Source, entries, "source").items():
            if source_id in merged:
                c.add(
                    path, source_id, "id", f"duplicate source id {source_id!r} (also in {origin[source_id]})"
                )
                continue
            merged[source_id] = source
            origin[source_id] = path.name
    return merged


def _within(value: float | None, span: tuple[float, float] | None) -> bool:
    """Change values (MCID/MDC) must be positive and no larger than the width of the scale."""
    if value is None or span is None:
        return True
    return 0 < value <= span[1] - span[0]


def _check_measure(c: _Collector, path: Path, m: Measure, sources: Mapping[str, Source]) -> None:
    scales = [m.range] if m.range else [v.range for v in m.variants]
    if m.range and m.range[0] >= m.range[1]:
        c.add(path, m.id, "range", f"low {m.range[0]} must be below high {m.range[1]}")
    for v in m.variants:
        if v.range[0] >= v.range[1]:
            c.add(path, m.id, f"variants.{v.id}.range", "low must be below high")
    widest = max(scales, key=lambda r: r[1] - r[0]) if scales else None
    for kind, values in (("mcid", m.mcid), ("mdc", m.mdc)):
        for i, value in enumerate(values):
            if not _within(value.value, widest):
                c.add(path, m.id, f"{kind}.{i}.value", f"{value.value} is outside the scale {widest}")
            _check_refs(c, path, m.id, f"{kind}.{i}.source", [value.source], sources, "source")
    for i, band in enumerate(m.bands):
        if band.low > band.high or (m.range and not (m.range[0] <= band.low and band.high <= m.range[1])):
            c.add(path, m.id, f"bands.{i}", f"band {band.low}-{band.high} is outside the range {m.range}")
    if m.bands and not m.bands_source:
        c.add(path, m.id, "bands_source", "bands need a source")
    if m.cutoff:
        if m.range and not (m.range[0] <= m.cutoff.value <= m.range[1]):
            c.add(path, m.id, "cutoff.value", f"{m.cutoff.value} is outside the range {m.range}")
        cited = [m.cutoff.source, *m.cutoff.caveat_sources]
        _check_refs(c, path, m.id, "cutoff.source", cited, sources, "source")
    extra = [*m.sources, *m.licensing_sources, *([m.bands_source] if m.bands_source else [])]
    _check_refs(c, path, m.id, "sources", extra, sources, "source")
    variant_ids = {v.id for v in m.variants}
    for i, value in enumerate(m.mcid):
        if value.variant is not None and value.variant not in variant_ids:
            c.add(
                path,
                m.id,
                f"mcid.{i}.variant",
                f"unknown variant {value.variant!r}; choices: {sorted(variant_ids)}",
            )
    _check_entry(c, path, m, sources)


def _check_entry(c: _Collector, path: Path, m: Measure, sources: Mapping[str, Source]) -> None:
    """An entry rule must agree with the measure: items only where shown and summing to the range."""
    entry = m.entry
    if entry is None:
        c.add(path, m.id, "entry", "every measure needs an entry rule (items or totals, and why)")
        return
    if entry.recordable and not (m.range or m.variants or entry.lowest is not None):
        c.add(path, m.id, "entry.recordable", "a score cannot be checked without a range or a lowest value")
    if entry.items_shown and entry.items is None:
        c.add(path, m.id, "entry.items", "items_shown needs the item scoring")
    items = entry.items
    if items is None:
        return
    _check_refs(c, path, m.id, "entry.items.source", [items.source], sources, "source")
    if items.min >= items.max:
        c.add(path, m.id, "entry.items", f"item min {items.min} must be below max {items.max}")
    if m.range is not None:
        if items.total == "sum" and items.count is not None:
            span = (items.count * items.min, items.count * items.max)
        else:
            span = (items.min, items.max)
        if tuple(span) != tuple(m.range):
            c.add(path, m.id, "entry.items", f"items give {span[0]:g}-{span[1]:g}, not the range {m.range}")


def _freeze(table: dict) -> Mapping:
    return MappingProxyType(dict(table))


def _load(data_dir: Path) -> KnowledgeBase:
    c = _Collector(data_dir)
    sources = _load_sources(c, data_dir / "sources")

    regions_path = data_dir / "regions.yaml"
    raw_regions = c.read(regions_path, ("areas", "regions", "evidence_regions"))
    areas = c.build(regions_path, Area, raw_regions["areas"], "area")
    regions = c.build(regions_path, BodyRegion, raw_regions["regions"], "region")
    evidence = c.build(regions_path, Area, raw_regions["evidence_regions"], "evidence region")
    for region in regions.values():
        _check_refs(c, regions_path, region.id, "area", [region.area], areas, "area")

    muscles_path = data_dir / "muscles.yaml"
    muscles = c.build(muscles_path, Muscle, c.read(muscles_path, ("muscles",))["muscles"], "muscle")
    conditions_path = data_dir / "conditions.yaml"
    raw_conditions = c.read(conditions_path, ("conditions",))["conditions"]
    conditions = c.build(conditions_path, Condition, raw_conditions, "condition")
    safety_path = data_dir / "safety.yaml"
    raw_safety = c.read(safety_path, ("items", "anatomical_regions"))
    items = c.build(safety_path, SafetyItem, raw_safety["items"], "safety item")
    anatomical = c.build(safety_path, AnatomicalRegion, raw_safety["anatomical_regions"], "anatomical region")
    measures_path = data_dir / "measures.yaml"
    measures = c.build(measures_path, Measure, c.read(measures_path, ("measures",))["measures"], "measure")

    for m in muscles.values():
        _check_refs(c, muscles_path, m.id, "area", [m.area], areas, "area")
        _check_refs(c, muscles_path, m.id, "referral_zones", m.referral_zones, regions, "body region")
        _check_refs(
            c,
            muscles_path,
            m.id,
            "doubtful_referral_zones",
            m.doubtful_referral_zones,
            regions,
            "body region",
        )
        _check_refs(c, muscles_path, m.id, "conditions", m.conditions, conditions, "condition")
        for i, hazard in enumerate(m.needling_safety):
            if hazard.anatomical_region is not None:
                _check_refs(
                    c,
                    muscles_path,
                    m.id,
                    f"needling_safety.{i}.anatomical_region",
                    [hazard.anatomical_region],
                    anatomical,
                    "anatomical region",
                )
        _check_refs(c, muscles_path, m.id, "sources", m.sources, sources, "source")

    for cond in conditions.values():
        if cond.area is not None:
            _check_refs(c, conditions_path, cond.id, "area", [cond.area], areas, "area")
        _check_refs(c, conditions_path, cond.id, "measures", cond.measures, measures, "measure")
        _check_refs(
            c, conditions_path, cond.id, "painful_regions", cond.painful_regions, regions, "body region"
        )
        if cond.evidence_region is not None:
            _check_refs(
                c,
                conditions_path,
                cond.id,
                "evidence_region",
                [cond.evidence_region],
                evidence,
                "evidence region",
            )
        for i, code in enumerate(cond.icd10):
            _check_refs(c, conditions_path, cond.id, f"icd10.{i}.source", [code.source], sources, "source")
        _check_refs(c, conditions_path, cond.id, "sources", cond.sources, sources, "source")
    for measure in measures.values():
        for i, value in enumerate(measure.mcid):
            _check_refs(
                c,
                measures_path,
                measure.id,
                f"mcid.{i}.conditions",
                value.conditions,
                conditions,
                "condition",
            )

    for item in items.values():
        _check_refs(c, safety_path, item.id, "sources", item.sources, sources, "source")
    for region in anatomical.values():
        _check_refs(c, safety_path, region.id, "body_regions", region.body_regions, regions, "body region")
        if region.muscles_at_risk:  # an empty list means "applies everywhere" (neurovascular rule)
            named = sorted(
                m.id
                for m in muscles.values()
                if any(h.anatomical_region == region.id for h in m.needling_safety)
                and m.id not in region.muscles_at_risk
            )
            for muscle_id in named:
                c.add(
                    safety_path,
                    region.id,
                    "muscles_at_risk",
                    f"muscle {muscle_id!r} names this region in its needling_safety but is not listed",
                )
        _check_refs(c, safety_path, region.id, "muscles_at_risk", region.muscles_at_risk, muscles, "muscle")
        _check_refs(c, safety_path, region.id, "sources", region.sources, sources, "source")

    for measure in measures.values():
        _check_measure(c, measures_path, measure, sources)

    tables = {"muscles": muscles, "conditions": conditions, "safety_items": items}
    tables |= {"anatomical_regions": anatomical, "measures": measures}
    for problem in tier_problems(kb_facts(tables), sources):  # tier-3-only facts: at most low confidence
        c.add(*problem)

    if c.problems:
        raise DataError(c.problems)
    return KnowledgeBase(
        data_dir=data_dir,
        areas=_freeze(areas),
        regions=_freeze(regions),
        muscles=_freeze(muscles),
        conditions=_freeze(conditions),
        safety_items=_freeze(items),
        anatomical_regions=_freeze(anatomical),
        measures=_freeze(measures),
        sources=_freeze(sources),
        evidence_regions=_freeze({e.id: e.label for e in evidence.values()}),
    )


def load_knowledge(data_dir: Path | str | None = None) -> KnowledgeBase:
    """Load and validate the knowledge base in ``data_dir`` (default: the packaged ``knowledge/data``).

    Nothing is cached here: the application builds one :class:`~dryneedling.catalog.Catalog` and passes it
    on. Raises :class:`~dryneedling.errors.DataError` listing every problem when anything is invalid.
    """
    return _load(Path(data_dir).resolve() if data_dir is not None else DATA_DIR)
