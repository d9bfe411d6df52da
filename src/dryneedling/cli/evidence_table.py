"""CLI: ``dryneedling evidence table`` - the graded evidence table per region, comparator, outcome, time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from dryneedling.cli.evidence import evidence_app
from dryneedling.cli.output import emit, fail
from dryneedling.errors import InputError

if TYPE_CHECKING:  # imported when the command runs, so that `dryneedling --help` starts at once
    from dryneedling.evidence.table import EvidenceRow, EvidenceTable


def _effect(row: EvidenceRow) -> str:
    estimate = "n/r" if row.estimate is None else f"{row.estimate:g}"
    if row.ci_low is None:
        return estimate
    return f"{estimate} [{row.ci_low:g}, {row.ci_high:g}]"


def _certainty(row: EvidenceRow) -> str:
    reported = (row.certainty or "not rated").replace("_", " ")
    basis = " (review)" if row.certainty else ""
    bound = "" if row.our_check.complete else "<= "
    return f"{reported}{basis}; our check {bound}{row.our_check.level.replace('_', ' ')}"


def _render(table: EvidenceTable, console: Console) -> None:
    patient = table.audience == "patient"
    grid = Table(title=f"Dry needling evidence ({table.audience})", show_lines=True)
    columns = ["Region", "Comparator", "Outcome", "Time", "Estimate [95% CI]", "k"]
    columns += ["Strength", "What it means"] if patient else ["Certainty", "Strength", "Favours", "Source"]
    for name in columns:
        grid.add_column(name, overflow="fold")
    if not table.rows:
        console.print("No pooled estimate matches these filters.")
    for row in table.rows:
        cells = [
            row.region_label,
            row.comparator_label,
            row.outcome_label,
            row.timepoint_label,
            f"{row.effect_measure} {_effect(row)}",
            "n/r" if row.k is None else str(row.k),
        ]
        if patient:
            cells += [row.strength, row.plain_summary]
        else:
            source = f"{row.id} {row.source}" + ("" if row.best else f" (superseded by {row.superseded_by})")
            cells += [_certainty(row), row.strength, row.favours_label, source]
        grid.add_row(*cells)
    if table.rows:
        console.print(grid)
    if table.rows and not patient:
        console.print("\n[bold]Sources[/]")
        for source, citation in sorted({(row.source, row.citation) for row in table.rows}):
            console.print(f"- {source}: {citation}", highlight=False)
    if table.gaps:
        console.print("\n[bold]Where no pooled dry-needling evidence exists[/]")
        for gap in table.gaps:
            text = gap.plain if patient else gap.statement
            cited = "" if patient or not gap.sources else f" [{', '.join(gap.sources)}]"
            console.print(f"- {gap.region_label or gap.scope}: {text}{cited}", highlight=False)
    console.print(f"\n[bold]How one estimate is chosen per cell:[/] {table.rule}", highlight=False)
    console.print(f"[bold]Strength rule:[/] {table.strength_rule}", highlight=False)
    if patient:
        console.print(f"[bold]Shown to patients:[/] {table.patient_rule}", highlight=False)


@evidence_app.command("table")
def table_command(
    region: str | None = typer.Option(
        None, "--region", help="Body region id or alias, e.g. neck, low_back, hip."
    ),
    comparator: str | None = typer.Option(
        None, "--comparator", help="Comparator id, e.g. sham, manual_therapy."
    ),
    outcome: str | None = typer.Option(None, "--outcome", help="Outcome id, e.g. pain, disability."),
    timepoint: str | None = typer.Option(
        None, "--timepoint", help="immediate, short_term, mid_term, long_term."
    ),
    condition: str | None = typer.Option(None, "--condition", help="Knowledge-base condition id."),
    audience: str = typer.Option("clinician", "--audience", help="clinician or patient."),
    all_estimates: bool = typer.Option(False, "--all", help="Also list superseded estimates of each cell."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: {rule, rows, gaps}."),
) -> None:
    """The graded evidence table: best published estimate per region, comparator, outcome and time."""
    from dryneedling.catalog import default_cache_dir, load_catalog
    from dryneedling.services.evidence import table as evidence_table

    try:
        table = evidence_table(
            load_catalog(cache_dir=default_cache_dir()),
            region=region,
            comparator=comparator,
            outcome=outcome,
            condition=condition,
            audience=audience,
            timepoint=timepoint,
            all_estimates=all_estimates,
        )
    except InputError as error:
        fail(error, as_json)
    dumped = table.model_dump(mode="json")
    data = {
        "rule": table.rule,
        "strength_rule": table.strength_rule,
        "patient_rule": table.patient_rule,
        "audience": table.audience,
        "rows": dumped["rows"],
        "gaps": dumped["gaps"],
    }
    emit(data, as_json, lambda console: _render(table, console))
