"""CLI commands over the knowledge base: ``kb check``, ``atlas``, ``muscle``, ``condition``, ``safety``,
``measure`` and ``regions``. Each prints Rich tables for people and the same data as JSON with ``--json``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dryneedling.cli import app
from dryneedling.cli.files import check_input_dir
from dryneedling.cli.output import emit, err_console, fail, split_ids
from dryneedling.errors import DataError, InputError

if TYPE_CHECKING:  # the data layer (pydantic, YAML) is imported only when a command runs
    from dryneedling.catalog import Catalog
    from dryneedling.knowledge import KnowledgeBase

EXIT_INVALID_KB = 1

kb_app = typer.Typer(
    help="The knowledge base itself: validate it and count what it holds.", no_args_is_help=True
)
app.add_typer(kb_app, name="kb")

JsonOption = typer.Option(False, "--json", help="Print JSON instead of tables.")


def _load(data_dir: Path | None = None, as_json: bool = False, cached: bool = True) -> Catalog:
    """Build the catalog; broken data is reported as a list of problems and exit code 1.

    ``cached``: use the validated-catalog cache (``kb check`` does not: it validates every file).
    """
    from dryneedling.catalog import default_cache_dir, load_catalog

    try:
        return load_catalog(data_dir, cache_dir=default_cache_dir() if cached else None)
    except DataError as exc:
        _report_invalid(
            [
                {"file": p.file, "entry": p.entry, "field": p.field, "message": p.message}
                for p in exc.problems
            ],
            as_json,
        )


def _report_invalid(problems: list[dict[str, Any]], as_json: bool) -> NoReturn:
    """Print every problem (file, entry, field, message) and exit with code 1."""
    if as_json:
        emit({"ok": False, "problems": problems}, True, lambda _: None)
    else:
        err_console.print(f"[bold red]knowledge base invalid:[/] {len(problems)} problem(s)", highlight=False)
        for p in problems:
            location = ".".join(str(p[key]) for key in ("entry", "field") if p.get(key))
            where = f"{p['file']}: {location}" if location else p["file"]
            err_console.print(f"  - {where}: {p['message']}", highlight=False, soft_wrap=True, markup=False)
    raise typer.Exit(EXIT_INVALID_KB)


def _citations(kb: KnowledgeBase, source_ids: list[str] | tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {
            "id": sid,
            "citation": kb.sources[sid].citation,
            "url": kb.sources[sid].link,
            "tier": kb.sources[sid].tier,
        }
        for sid in dict.fromkeys(source_ids)
    ]


def _print_sources(console: Console, kb: KnowledgeBase, source_ids: list[str] | tuple[str, ...]) -> None:
    console.print("[bold]Sources[/]", highlight=False)
    for item in _citations(kb, source_ids):
        url = f" <{item['url']}>" if item["url"] else ""
        console.print(
            f"  [{item['id']}] (tier {item['tier']}) {item['citation']}{url}", highlight=False, markup=False
        )


@kb_app.command("check")
def kb_check(
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Check this data directory instead."),
    as_json: bool = JsonOption,
) -> None:
    """Validate all curated data (knowledge base, guidance, evidence) and count it (exit 1 if invalid).

    The guidance and the evidence data cite the knowledge base's sources, regions and measures, so a
    knowledge base that loads but breaks either of them is reported here rather than on a patient's report.
    """
    if data_dir is not None:
        try:  # a missing directory is a wrong option (exit 2), not a knowledge base with every file missing
            check_input_dir(data_dir, "--data-dir")
        except InputError as error:
            fail(error, as_json)
    catalog = _load(data_dir, as_json, cached=False)
    kb = catalog.kb
    counts = {
        **kb.counts(),
        "guidance_modifiers": len(catalog.guidance.modifiers),
        "published_estimates": len(catalog.evidence.syntheses),
        "evidence_gaps": len(catalog.evidence.gaps),
    }
    from dryneedling.knowledge.tiers import tier_shares

    tiers = tier_shares(kb, catalog.guidance)

    def render(console: Console) -> None:
        console.print(f"Knowledge base OK: {kb.data_dir}", highlight=False, soft_wrap=True)
        console.print(f"catalog_version: {catalog.version}", highlight=False)
        table = Table()
        table.add_column("kind")
        table.add_column("entries", justify="right")
        for kind, count in counts.items():
            table.add_row(kind.replace("_", " "), str(count))
        console.print(table)
        _print_tiers(console, tiers)

    emit(
        {
            "ok": True,
            "data_dir": str(kb.data_dir),
            "catalog_version": catalog.version,
            "counts": counts,
            "tiers": tiers,
        },
        as_json,
        render,
    )


def _print_tiers(console: Console, tiers: dict[str, Any]) -> None:
    """Per kind of fact, the share resting on at least one tier 1-2 source (peer-reviewed, textbook...)."""
    table = Table(title="Facts resting on at least one tier 1-2 source")
    for column, justify in (("kind", "left"), ("facts", "right"), ("tier 1-2", "right"), ("share", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    rows = [*tiers["kinds"].items(), ("overall", tiers["overall"])]
    for kind, row in rows:
        share = "-" if row["share"] is None else f"{row['share']:.0%}"
        table.add_row(kind.replace("_", " "), str(row["facts"]), str(row["tier_1_2"]), share)
    console.print(table)
    by_tier = ", ".join(f"tier {tier}: {count}" for tier, count in tiers["sources"].items())
    console.print(f"Sources by tier: {by_tier}", highlight=False)


@app.command("atlas")
def atlas(
    pain: str = typer.Option("", "--pain", help="Painful body regions, comma-separated (see `regions`)."),
    condition: str | None = typer.Option(None, "--condition", help="Condition id; a bounded score bonus."),
    side: str | None = typer.Option(None, "--side", help="left or right (recorded on paired muscles)."),
    limit: int = typer.Option(10, "--limit", help="Show at most this many muscles."),
    as_json: bool = JsonOption,
) -> None:
    """Rank the muscles whose trigger point referral zones best explain the painful regions."""
    from dryneedling.services.atlas import atlas as atlas_service

    catalog = _load(as_json=as_json)
    kb = catalog.kb
    regions = split_ids(pain)
    try:
        if limit < 1:
            raise InputError("limit", "must be 1 or more", value=limit)
        candidates = atlas_service(catalog, regions, condition=condition, side=side).candidates[:limit]
    except InputError as error:
        fail(error, as_json)
    source_ids = [sid for c in candidates for sid in c.sources]
    data = {
        "query": {"pain": regions, "condition": condition, "side": side, "limit": limit},
        "candidates": [c.model_dump(mode="json") for c in candidates],
        "sources": {item["id"]: item["citation"] for item in _citations(kb, source_ids)},
    }

    def render(console: Console) -> None:
        title = f"Muscles that may explain pain at {', '.join(regions)}"
        if condition:
            title += f" ({kb.conditions[condition].label})"
        table = Table(title=title)
        for column in ("#", "muscle", "score", "explains", "does not explain", "confidence", "risk region"):
            table.add_column(column)
        for rank, c in enumerate(candidates, 1):
            name = escape(c.name + (f" [{c.side}]" if c.side else "")) + (" *" if c.condition_match else "")
            risk = ", ".join(h.anatomical_region or "general" for h in c.safety)
            table.add_row(
                str(rank),
                name,
                f"{c.score:.2f}",
                ", ".join(c.matched_regions),
                ", ".join(c.unmatched_regions) or "-",
                c.confidence,
                risk,
            )
        console.print(table)
        if condition:
            console.print("* listed for this condition in the atlas", highlight=False)
        if not candidates:
            console.print("No muscle in the atlas refers pain to these regions.", highlight=False)
        if candidates:
            console.print("[bold]Needling safety[/]", highlight=False)
        for rank, c in enumerate(candidates, 1):
            for h in c.safety:
                flag = "" if h.anatomy_sourced else " (general anatomy, not from a source: verify)"
                console.print(
                    f"  {rank}. {c.muscle} [{h.anatomical_region or 'general'}]: {h.note}{flag}",
                    highlight=False,
                    markup=False,
                )
        console.print("Decision support only: confirm trigger points by examination.", highlight=False)
        _print_sources(console, kb, source_ids)

    emit(data, as_json, render)


@app.command("muscle")
def muscle(muscle_id: str = typer.Argument(..., metavar="ID"), as_json: bool = JsonOption) -> None:
    """One muscle of the atlas: referral zones, conditions, needling safety, sources."""
    catalog = _load(as_json=as_json)
    kb = catalog.kb
    try:
        entry = kb.muscle(muscle_id)
    except InputError as error:
        fail(error, as_json)
    data = entry.model_dump(mode="json") | {"citations": _citations(kb, entry.sources)}

    def render(console: Console) -> None:
        console.print(f"[bold]{entry.name}[/] ({entry.id}) - {kb.areas[entry.area].label}")
        console.print(
            f"Confidence: {entry.confidence}; paired (record side): {'yes' if entry.side_specific else 'no'}"
        )
        zones = ", ".join(f"{kb.regions[z].label} ({z})" for z in entry.referral_zones)
        console.print(f"Refers pain to: {zones}", highlight=False)
        if entry.doubtful_referral_zones:
            console.print(
                f"Doubtful zones (not used for ranking): {', '.join(entry.doubtful_referral_zones)}"
            )
        console.print(f"Conditions: {', '.join(entry.conditions) or '-'}")
        console.print(f"Notes: {entry.notes}", highlight=False)
        if entry.evidence_notes:
            console.print(f"Evidence: {entry.evidence_notes}", highlight=False)
        for hazard in entry.needling_safety:
            flag = "" if hazard.anatomy_sourced else " (general anatomy, not from a source: verify)"
            region = hazard.anatomical_region or "general"
            console.print(f"Needling safety [{region}]: {hazard.note}{flag}", highlight=False, markup=False)
        if entry.audit:
            console.print(f"Source audit: {entry.audit}", highlight=False)
        _print_sources(console, kb, entry.sources)

    emit(data, as_json, render)


@app.command("condition")
def condition(condition_id: str = typer.Argument(..., metavar="ID"), as_json: bool = JsonOption) -> None:
    """One condition: ICD-10 codes, outcome measures, evidence region, typical painful regions, muscles."""
    catalog = _load(as_json=as_json)
    kb = catalog.kb
    try:
        entry = kb.condition(condition_id)
    except InputError as error:
        fail(error, as_json)
    muscles = [m.id for m in kb.muscles.values() if entry.id in m.conditions]
    data = entry.model_dump(mode="json") | {"muscles": muscles, "citations": _citations(kb, entry.sources)}

    def render(console: Console) -> None:
        area = kb.areas[entry.area].label if entry.area else "whole body"
        console.print(f"[bold]{entry.label}[/] ({entry.id}) - {area}; confidence {entry.confidence}")
        console.print(entry.description, highlight=False)
        for code in entry.icd10:
            note = f" - {code.note}" if code.note else ""
            console.print(
                f"ICD-10-CM {code.code} {code.label} [{code.source}]{note}", highlight=False, markup=False
            )
        if entry.icd10_note:
            console.print(f"ICD-10: {entry.icd10_note}", highlight=False)
        measures = ", ".join(f"{kb.measures[m].name} ({m})" for m in entry.measures) or "-"
        console.print(f"Outcome measures: {measures}", highlight=False)
        console.print(f"Evidence region: {entry.evidence_region or 'none (no pooled dry needling evidence)'}")
        if entry.evidence_note:
            console.print(f"Evidence note: {entry.evidence_note}", highlight=False)
        painful = ", ".join(kb.regions[r].label for r in entry.painful_regions) or "-"
        console.print(f"Typical painful regions: {painful}", highlight=False)
        console.print(f"Muscles listed for it in the atlas: {', '.join(muscles) or '-'}")
        _print_sources(console, kb, entry.sources)

    emit(data, as_json, render)


@app.command("safety")
def safety(
    item_id: str | None = typer.Argument(None, metavar="[ID]", help="A safety item or anatomical region id."),
    as_json: bool = JsonOption,
) -> None:
    """Contraindications, precautions and anatomical high-risk regions (all of them, or one by id)."""
    catalog = _load(as_json=as_json)
    kb = catalog.kb
    if item_id is None:
        _safety_list(kb, as_json)
    elif item_id in kb.anatomical_regions:
        _anatomical_region(kb, item_id, as_json)
    elif item_id in kb.safety_items:
        _safety_item(kb, item_id, as_json)
    else:
        choices = [*kb.safety_items.keys(), *kb.anatomical_regions.keys()]
        fail(InputError.unknown("safety", item_id, choices, kind="safety item"), as_json)


def _safety_list(kb: KnowledgeBase, as_json: bool) -> None:
    items = list(kb.safety_items.values())
    regions = list(kb.anatomical_regions.values())
    data = {
        "items": [i.model_dump(mode="json") for i in items],
        "anatomical_regions": [r.model_dump(mode="json") for r in regions],
    }

    def render(console: Console) -> None:
        table = Table(title="Contraindications and precautions", show_lines=False)
        for column in ("id", "class", "scope", "label", "confidence"):
            table.add_column(column)
        for klass in ("absolute", "relative", "precaution"):
            for item in (i for i in items if i.klass == klass):
                table.add_row(item.id, item.klass, item.scope, item.label, item.confidence)
        console.print(table)
        table = Table(title="Anatomical high-risk regions")
        for column in ("id", "label", "lies under", "confidence"):
            table.add_column(column)
        for region in regions:
            table.add_row(region.id, region.label, ", ".join(region.body_regions), region.confidence)
        console.print(table)
        console.print("Details and sources: dryneedling safety ID")

    emit(data, as_json, render)


def _safety_item(kb: KnowledgeBase, item_id: str, as_json: bool) -> None:
    item = kb.safety_item(item_id)
    data = item.model_dump(mode="json") | {"citations": _citations(kb, item.sources)}

    def render(console: Console) -> None:
        console.print(f"[bold]{item.label}[/] ({item.id})")
        console.print(f"Class: {item.klass}; scope: {item.scope}; confidence: {item.confidence}")
        console.print(f"Why: {item.rationale}", highlight=False)
        console.print(f"Clinician action: {item.clinician_action}", highlight=False)
        console.print(f"For the patient: {item.patient_text}", highlight=False)
        if item.audit:
            console.print(f"Source audit: {item.audit}", highlight=False)
        _print_sources(console, kb, item.sources)

    emit(data, as_json, render)


def _anatomical_region(kb: KnowledgeBase, region_id: str, as_json: bool) -> None:
    region = kb.anatomical_region(region_id)
    data = region.model_dump(mode="json") | {"citations": _citations(kb, region.sources)}

    def render(console: Console) -> None:
        console.print(f"[bold]{region.label}[/] ({region.id}); confidence {region.confidence}")
        console.print(f"Hazard: {region.hazard}", highlight=False)
        console.print(f"Lies under: {', '.join(region.body_regions) or '-'}")
        console.print(f"Muscles at risk: {', '.join(region.muscles_at_risk) or '-'}")
        console.print("[bold]Facts[/]")
        for fact in region.facts:
            console.print(f"  - {fact}", highlight=False)
        console.print("[bold]Precautions[/]")
        for step in region.precautions:
            console.print(f"  - {step}", highlight=False)
        console.print(f"For the patient: {region.patient_text}", highlight=False)
        _print_sources(console, kb, region.sources)

    emit(data, as_json, render)


@app.command("measure")
def measure(measure_id: str = typer.Argument(..., metavar="ID"), as_json: bool = JsonOption) -> None:
    """One outcome measure: range, direction, MCIDs with their population, MDC, bands, licensing."""
    catalog = _load(as_json=as_json)
    kb = catalog.kb
    try:
        entry = kb.measure(measure_id)
    except InputError as error:
        fail(error, as_json)
    data = entry.model_dump(mode="json") | {"citations": _citations(kb, entry.sources)}

    def render(console: Console) -> None:
        console.print(f"[bold]{entry.name}[/] ({entry.id}); confidence {entry.confidence}")
        if entry.range:
            units = f" {entry.units}" if entry.units else ""
            console.print(f"Range: {entry.range[0]:g} to {entry.range[1]:g}{units}")
        for variant in entry.variants:
            console.print(f"Range ({variant.label}): {variant.range[0]:g} to {variant.range[1]:g}")
        if entry.range_note:
            console.print(entry.range_note, highlight=False)
        console.print(f"Direction: {entry.direction.replace('_', ' ')}")
        if entry.scoring:
            console.print(f"Scoring: {entry.scoring}", highlight=False)
        if entry.mcid:
            table = Table(title="Minimal clinically important change")
            for column in ("value", "population / context", "source", "usable"):
                table.add_column(column)
            for m in entry.mcid:
                table.add_row(m.text, m.context, m.source, "yes" if m.usable else "no")
            console.print(table)
        if entry.mcid_note:
            console.print(f"MCID: {entry.mcid_note}", highlight=False)
        for d in entry.mdc:
            console.print(f"MDC {d.text}: {d.context} [{d.source}]", highlight=False, markup=False)
        if entry.bands:
            bands = "; ".join(f"{b.low:g}-{b.high:g} {b.label.replace('_', ' ')}" for b in entry.bands)
            console.print(f"Bands [{entry.bands_source}]: {bands}", highlight=False, markup=False)
        if entry.cutoff:
            console.print(
                f"Cut-off {entry.cutoff.value:g} [{entry.cutoff.source}]: {entry.cutoff.context}",
                highlight=False,
            )
            if entry.cutoff.caveats:
                console.print(f"Caveats: {entry.cutoff.caveats}", highlight=False)
        console.print(f"Licensing: {entry.licensing}", highlight=False)
        if entry.notes:
            console.print(f"Notes: {entry.notes}", highlight=False)
        _print_sources(console, kb, entry.sources)

    emit(data, as_json, render)


@app.command("regions")
def regions(as_json: bool = JsonOption) -> None:
    """The controlled vocabulary of body regions, grouped by area (ids to use with --pain)."""
    catalog = _load(as_json=as_json)
    kb = catalog.kb
    areas = [
        {
            "id": area.id,
            "label": area.label,
            "regions": [{"id": r.id, "label": r.label} for r in kb.regions.values() if r.area == area.id],
        }
        for area in kb.areas.values()
    ]

    def render(console: Console) -> None:
        table = Table(title=f"Body regions ({len(kb.regions)} in {len(kb.areas)} areas)")
        for column in ("area", "region id", "label"):
            table.add_column(column)
        for area in areas:
            for i, region in enumerate(area["regions"]):
                table.add_row(area["label"] if i == 0 else "", region["id"], region["label"])
        console.print(table)

    emit({"areas": areas}, as_json, render)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
