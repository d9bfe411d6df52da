"""CLI: ``dryneedling evidence pool`` - meta-analysis of a researcher's own study-level CSV file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from dryneedling.cli.evidence import evidence_app
from dryneedling.cli.files import check_input_file, check_output_file, write_output
from dryneedling.cli.output import emit, fail
from dryneedling.errors import InputError
from dryneedling.evidence.names import MEASURES, METHODS


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _interval(low: float | None, high: float | None, digits: int = 3) -> str:
    return f"[{_num(low, digits)}, {_num(high, digits)}]"


def _p(value: float | None) -> str:
    """``p = 0.0123`` or ``p < 0.0001``."""
    if value is None:
        return "p n/a"
    return "p < 0.0001" if value < 1e-4 else f"p = {value:.4f}"


def _render(analysis: dict, console: Console) -> None:
    pooled = analysis["pooled"]
    level = f"{analysis['level']:g}%"
    model = "common-effect" if analysis["method"] == "EE" else f"random-effects ({analysis['method']})"
    test = "Knapp-Hartung t" if analysis["test"] == "knha" else "z"
    console.print(
        f"[bold]{analysis['measure']}[/] meta-analysis of {analysis['k']} studies from {analysis['file']}: "
        f"{model} model, {test} test",
        highlight=False,
    )
    summary = Table(show_header=False, box=None)
    summary.add_column(style="bold")
    summary.add_column()
    summary.add_row(
        "Pooled estimate",
        f"{_num(pooled['estimate'])}  {level} CI {_interval(pooled['ci_low'], pooled['ci_high'])}",
    )
    back = analysis["back_transformed"]
    if back:
        summary.add_row(
            "  exponentiated",
            f"{_num(back['estimate'])}  {level} CI {_interval(back['ci_low'], back['ci_high'])}",
        )
    stat_name = f"t({pooled['df']})" if pooled["df"] is not None else "z"
    summary.add_row(
        "Test of the estimate", f"{stat_name} = {_num(pooled['stat'], 2)}, {_p(pooled['pvalue'])}"
    )
    summary.add_row("Prediction interval", _interval(pooled["pi_low"], pooled["pi_high"]))
    if back:
        summary.add_row("  exponentiated", _interval(back["pi_low"], back["pi_high"]))
    summary.add_row(
        "Heterogeneity",
        f"tau² = {_num(pooled['tau2'], 4)}, I² = {_num(pooled['i2'], 1)}%, H² = {_num(pooled['h2'], 2)}",
    )
    summary.add_row("Q test", f"Q({pooled['q_df']}) = {_num(pooled['q'], 2)}, {_p(pooled['q_pvalue'])}")
    console.print(summary)

    studies = Table(title="Studies")
    scale = f"log {analysis['measure']}" if back else analysis["measure"]
    for name in ("Study", scale, f"{level} CI", "Weight"):
        studies.add_column(name)
    if back:
        studies.add_column(f"{analysis['measure']} [{level} CI]")
    for row in analysis["studies"]:
        cells = [
            row["study"],
            _num(row["yi"]),
            _interval(row["ci_low"], row["ci_high"]),
            f"{row['weight']:.1f}%",
        ]
        if back:
            cells.append(
                f"{_num(row['exp']['estimate'], 2)} {_interval(row['exp']['ci_low'], row['exp']['ci_high'], 2)}"
            )
        studies.add_row(*cells)
    console.print(studies)

    bias = analysis["small_study_effects"]
    console.print("[bold]Small-study effects[/]")
    if bias["skipped"]:
        console.print(f"  {bias['skipped']}", highlight=False)
    else:
        if bias["egger"]:
            egger = bias["egger"]
            console.print(
                f"  Egger's test (meta-regression on SE): {'t' if egger['df'] else 'z'} = {_num(egger['stat'], 2)}, "
                f"{_p(egger['pvalue'])}; limit estimate {_num(egger['limit_estimate'])} "
                f"{_interval(egger['limit_ci_low'], egger['limit_ci_high'])}",
                highlight=False,
            )
        classic = bias["egger_classic"]
        console.print(
            f"  Egger's test (classic weighted regression): t({classic['df']}) = {_num(classic['stat'], 2)}, "
            f"{_p(classic['pvalue'])}",
            highlight=False,
        )
        rank = bias["rank"]
        console.print(
            f"  Begg's rank test: Kendall's tau = {_num(rank['tau'])}, {_p(rank['pvalue'])}", highlight=False
        )

    subgroups = analysis["subgroups"]
    if subgroups:
        table = Table(title=f"Subgroups by {subgroups['by']}")
        for name in ("Group", "k", "Estimate", f"{level} CI", "tau²", "I²"):
            table.add_column(name)
        for group in subgroups["groups"]:
            estimate = _num(group["estimate"])
            interval = _interval(group["ci_low"], group["ci_high"])
            if back:
                estimate += f" (exp {_num(group['exp']['estimate'], 2)})"
                interval += f" (exp {_interval(group['exp']['ci_low'], group['exp']['ci_high'], 2)})"
            table.add_row(
                group["group"],
                str(group["k"]),
                estimate,
                interval,
                _num(group["tau2"], 4),
                f"{_num(group['i2'], 1)}%",
            )
        console.print(table)
        separate = subgroups["test_separate_tau2"]
        console.print(
            f"  Test for subgroup differences (separate tau² per group, as RevMan): "
            f"Q({separate['df']}) = {_num(separate['q'], 2)}, {_p(separate['pvalue'])}",
            highlight=False,
        )
        common = subgroups["test_common_tau2"]
        if common:
            stat = (
                f"F({common['df']}, {common['df_denominator']})"
                if common["df_denominator"]
                else f"Q({common['df']})"
            )
            console.print(
                f"  Test for subgroup differences (meta-regression, common tau²): "
                f"{stat} = {_num(common['q'], 2)}, {_p(common['pvalue'])}",
                highlight=False,
            )
    for note in analysis["notes"]:
        console.print(f"[dim]Note: {note}[/]", highlight=False)
    for kind, path in (analysis.get("plots") or {}).items():
        console.print(f"{kind.capitalize()} plot written to {path}", highlight=False)


@evidence_app.command("pool")
def pool_command(
    file: Path = typer.Argument(..., help="CSV with one row per study (metafor column names, or yi and vi)."),
    measure: str | None = typer.Option(
        None,
        "--measure",
        help=f"Effect measure: {', '.join(MEASURES)}. Optional when the file has yi and vi.",
    ),
    method: str = typer.Option("REML", "--method", help=f"tau² estimator: {', '.join(METHODS)} (FE = EE)."),
    test: str = typer.Option("z", "--test", help="z, or knha for Knapp-Hartung."),
    by: str | None = typer.Option(None, "--by", help="Column whose values define subgroups."),
    level: float = typer.Option(95, "--level", help="Confidence level in percent."),
    forest: Path | None = typer.Option(
        None, "--forest", help="Write a forest plot to this path (.svg, .png or .pdf, by its suffix)."
    ),
    funnel: Path | None = typer.Option(
        None, "--funnel", help="Write a funnel plot to this path (.svg, .png or .pdf, by its suffix)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Meta-analyse your own studies: pooled estimate, heterogeneity, per-study weights, bias tests, subgroups."""
    # The numerics (numpy, scipy) load only when a pooling command runs.
    from dryneedling.catalog import default_cache_dir, load_catalog
    from dryneedling.evidence.bias import trim_and_fill
    from dryneedling.evidence.meta_regression import REGRESSION_METHODS
    from dryneedling.evidence.pooling import normalise_method, normalise_test, pool
    from dryneedling.services.evidence import pool_studies

    try:
        # Every path is checked before any work, so a bad output name never costs a finished analysis.
        check_input_file(file, "FILE")
        formats: dict[str, str] = {}
        if forest is not None or funnel is not None:
            # matplotlib takes about a second to import; only plotting runs pay for it.
            from dryneedling.evidence.plots import PLOT_FORMATS, forest_plot, funnel_plot, plot_format

            for option, path in (("--forest", forest), ("--funnel", funnel)):
                if path is not None:
                    formats[option] = plot_format(path, option)
                    others = {"FILE": file, "--forest": forest if option == "--funnel" else None}
                    check_output_file(path, option, [f".{fmt}" for fmt in PLOT_FORMATS], others)
        method = normalise_method(method)
        test = normalise_test(test)
        if not 0 < level < 100:
            raise InputError("level", "must be a percentage between 0 and 100", value=level)
        catalog = load_catalog(cache_dir=default_cache_dir())
        data, analysis = pool_studies(catalog, file, measure, method=method, test=test, level=level, by=by)
        plots = {}
        exponentiate = data.is_ratio
        xlabel = f"{data.measure}" + (" (log scale)" if exponentiate else "")
        if forest is not None or funnel is not None:
            result = pool(data.yi, data.vi, method=method, test=test, level=level)
        if forest is not None:
            write_output(
                forest,
                forest_plot(
                    data.labels,
                    data.yi,
                    data.vi,
                    result,
                    exponentiate=exponentiate,
                    xlabel=xlabel,
                    fmt=formats["--forest"],
                ),
                "--forest",
            )
            plots["forest"] = str(forest)
        if funnel is not None:
            # Trim-and-fill needs a few studies; its imputed studies show as open circles.
            # (metafor picks its side with a meta-regression, which here supports EE/DL/HE/ML/REML.)
            fill = data.k >= 3 and method in REGRESSION_METHODS
            filled = trim_and_fill(data.yi, data.vi, method=method) if fill else None
            plot = funnel_plot(
                data.yi,
                data.vi,
                result,
                labels=data.labels,
                filled_yi=None if filled is None else filled.filled_yi,
                filled_vi=None if filled is None else filled.filled_vi,
                exponentiate=exponentiate,
                xlabel=xlabel,
                fmt=formats["--funnel"],
            )
            write_output(funnel, plot, "--funnel")
            plots["funnel"] = str(funnel)
        analysis["plots"] = plots or None
    except InputError as error:
        fail(error, as_json)
    emit(analysis, as_json, lambda console: _render(analysis, console))
