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


def _certainty(row: EvidenceRow) -> str:
    reported = (row.certainty or "not rated").replace("_", " ")
    basis = " (review)" if row.certainty else ""
    return f"{reported}{basis}; our check: {row.our_check.summary}"


def _render(table: EvidenceTable, console: Console) -> None:
    """Clinicians see every number in words; patients see the strength and the plain sentence only
    (no effect sizes, no study counts, no I²: the plain sentence already says how sure we are)."""
    patient = table.audience == "patient"
    grid = Table(title=f"Dry needling evidence ({table.audience})", show_lines=True)
    columns = ["Region", "Outcome", "Time"] if patient else ["Region", "Compared with", "Outcome", "Time"]
    if patient:
        columns += ["Strength", "What it means"]
    else:
        columns += [
            "Effect (95% CI)",
            "Studies, participants, I²",
            "Certainty",
            "Strength",
            "Favours",
            "Source",
        ]
    for name in columns:
        grid.add_column(name, overflow="fold")
    if not table.rows:
        console.print("No pooled estimate matches these filters.")
    for row in table.rows:
        if patient:
            cells = [
                row.region_label,
                row.outcome_label,
                row.timepoint_label,
                row.strength,
                row.plain_summary,
            ]
        else:
            cells = [row.region_label, row.comparator_label, row.outcome_label, row.timepoint_label]
            source = f"{row.id} {row.source}" + ("" if row.best else f" (superseded by {row.superseded_by})")
            if row.source_tier is not None:
                source += f" (tier {row.source_tier})"
            cells += [
                row.effect_text,
                row.study_counts,
                _certainty(row),
                row.strength,
                row.favours_label,
                source,
            ]
            if not row.patient_safe:
                cells[4] += f" - not shown to patients: {row.exclusion_reason}"
        grid.add_row(*cells)
    if table.rows:
        console.print(grid)
    if table.rows and not patient:
        console.print("\n[bold]Sources[/]")
        seen = sorted({(row.source, row.citation, row.source_tier, row.source_link) for row in table.rows})
        for source, citation, tier, link in seen:
            tier_text = f" [tier {tier}]" if tier is not None else ""
            link_text = f" {link}" if link else ""
            console.print(f"- {source}{tier_text}: {citation}{link_text}", highlight=False, markup=False)
    if table.gaps:
        console.print("\n[bold]Where no pooled dry-needling evidence exists[/]")
        for gap in table.gaps:
            text = gap.plain if patient else gap.statement
            cited = "" if patient or not gap.sources else f" [{', '.join(gap.sources)}]"
            console.print(f"- {gap.region_label or gap.scope}: {text}{cited}", highlight=False, markup=False)
    if patient:
        console.print(f"\n{table.plain_rule}", highlight=False, markup=False)
        return
    console.print(f"\n[bold]How one estimate is chosen per cell:[/] {table.rule}", highlight=False)
    console.print(f"[bold]Strength rule:[/] {table.strength_rule}", highlight=False)
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
