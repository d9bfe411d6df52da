"""Benchmark: the clinician and patient PDFs of one example beside WeasyPrint printing one plain page.

Run: ``python bench/bench_pdf.py`` (``--repeat N`` rounds, best kept; ``--example PATH``). Not a timed test:
numbers depend on the machine and its load, so the script prints what it measured and the ratios, all in
one run.

What it measures (each in a fresh Python process, as a person printing one report waits for it)
- floor: ``python -c`` importing WeasyPrint and writing a one-page plain document (a heading and three
  paragraphs in DejaVu Sans) - the least any WeasyPrint PDF costs on this machine;
- the PDF: ``python -c`` reading the profile, building the report, rendering the HTML and writing the PDF
  with the library (``build_report`` + ``render_pdf``), for the clinician report and the patient handout;
  the targets apply here: clinician within 2x and patient within 1.5x of the floor;
- the command: ``dryneedling assess EXAMPLE --format pdf``, the same plus the CLI's own imports (every
  command module is imported to register it; ``evidence pool`` loads numpy/scipy for its help text).
Then, in this process, the render-only times (report already built, WeasyPrint warm), to show where the
time goes.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "neck_pain_headache.yaml"
TARGETS = {"clinician": 2.0, "patient": 1.5}

PLAIN_PAGE = (
    "<html><head><style>body { font-family: 'DejaVu Sans'; font-size: 10pt; }</style></head><body>"
    "<h1>One plain page</h1>"
    + "<p>A paragraph of ordinary text, long enough to wrap over a few lines of an A4 page, printed "
    "by WeasyPrint with nothing else on the page.</p>" * 3 + "</body></html>"
)
FLOOR_CODE = "import sys\nfrom weasyprint import HTML\nHTML(string=sys.argv[1]).write_pdf(sys.argv[2])\n"
LIBRARY_CODE = (
    "import sys\n"
    "from pathlib import Path\n"
    "from dryneedling.assessment.profile import load_profile\n"
    "from dryneedling.assessment.report import build_report\n"
    "from dryneedling.catalog import load_catalog\n"
    "from dryneedling.render.pdf import render_pdf\n"
    "catalog = load_catalog()\n"
    "report = build_report(load_profile(sys.argv[1], catalog), catalog, audience=sys.argv[2])\n"
    "Path(sys.argv[3]).write_bytes(render_pdf(report, sys.argv[2]))\n"
)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


CPU_TIMES: dict[str, float] = {}


def best_process_time(argv: list[str], repeat: int, name: str = "") -> float:
    """Best wall time of running ``argv`` as a fresh process, over ``repeat`` rounds (seconds).

    The best CPU time (user + system) of the same runs is kept in ``CPU_TIMES[name]``: on a shared,
    loaded machine it moves much less than wall time, so the ratios are printed for both."""
    best = best_cpu = float("inf")
    for _ in range(repeat):
        start, cpu = time.perf_counter(), _children_cpu()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, _children_cpu() - cpu)
    CPU_TIMES[name] = best_cpu
    return best


def best_time(func, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def page_count(path: Path) -> str:
    """Pages of a PDF, read by poppler's pdfinfo ('?' without it)."""
    try:
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "?"
    match = re.search(r"^Pages:\s+(\d+)", info, re.M)
    return match.group(1) if match else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds per measurement (best kept)")
    parser.add_argument("--example", type=Path, default=EXAMPLE, help="profile to print")
    parser.add_argument(
        "--profile", action="store_true", help="also print where WeasyPrint spends the clinician PDF's time"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        floor = best_process_time(
            [sys.executable, "-c", FLOOR_CODE, PLAIN_PAGE, str(out / "floor.pdf")], args.repeat, "floor"
        )
        floor_cpu = CPU_TIMES["floor"]
        print(
            f"floor: WeasyPrint, one plain page, fresh process       {floor:6.2f} s  (CPU {floor_cpu:.2f} s)"
        )
        for audience in ("clinician", "patient"):
            target = out / f"{audience}.pdf"
            argv = [sys.executable, "-c", LIBRARY_CODE, str(args.example), audience, str(target)]
            seconds = best_process_time(argv, args.repeat, audience)
            ratio, cpu_ratio = seconds / floor, CPU_TIMES[audience] / floor_cpu
            verdict = "ok" if min(ratio, cpu_ratio) <= TARGETS[audience] else "OVER TARGET"
            print(
                f"{audience:9s} PDF, fresh process ({page_count(target)} pages)"
                f"{'':<14s}{seconds:6.2f} s  = {ratio:4.2f}x floor; CPU {cpu_ratio:4.2f}x"
                f" (target {TARGETS[audience]}x: {verdict})"
            )
        for audience in ("clinician", "patient"):
            argv = [sys.executable, "-m", "dryneedling", "assess", str(args.example)]
            argv += ["--format", "pdf", "--audience", audience, "-o", str(out / "cli.pdf")]
            seconds = best_process_time(argv, args.repeat, "cli")
            print(
                f"dryneedling assess --format pdf -a {audience:9s}{'':<11s}{seconds:6.2f} s"
                f"  = {seconds / floor:4.2f}x floor; CPU {CPU_TIMES['cli'] / floor_cpu:4.2f}x"
            )

    # Where the time goes, in this process (imports and knowledge already loaded, WeasyPrint warm).
    from weasyprint import HTML

    from dryneedling.assessment.profile import load_profile
    from dryneedling.assessment.report import build_report
    from dryneedling.catalog import load_catalog
    from dryneedling.render.html import render_html
    from dryneedling.render.pdf import render_pdf

    HTML(string=PLAIN_PAGE).write_pdf()
    warm_floor = best_time(lambda: HTML(string=PLAIN_PAGE).write_pdf(), args.repeat)
    print(f"\nin process, warm: one plain page {warm_floor * 1000:6.0f} ms")
    catalog = load_catalog()
    profile = load_profile(args.example, catalog)
    for audience in ("clinician", "patient"):
        build = best_time(lambda a=audience: build_report(profile, catalog, audience=a), args.repeat)
        report = build_report(profile, catalog, audience=audience)
        html = best_time(lambda r=report, a=audience: render_html(r, a), args.repeat)
        pdf = best_time(lambda r=report, a=audience: render_pdf(r, a), args.repeat)
        print(
            f"  {audience:9s} build report {build * 1000:5.0f} ms, HTML {html * 1000:4.0f} ms, "
            f"HTML to PDF {pdf * 1000:5.0f} ms"
        )
    if args.profile:
        profile_render(build_report(profile, catalog, audience="clinician"), render_pdf)
    return 0


#: WeasyPrint's stages, named for the profile summary (function name -> what it does).
STAGES = {
    "get_all_computed_styles": "CSS cascade (selectors, computed styles)",
    "layout_document": "layout (line breaking, tables, pages)",
    "table_layout": "  of which tables",
    "split_first_line": "  of which line breaking (Pango)",
    "draw_page": "drawing pages",
    "draw_text": "  of which text",
    "build_fonts_dictionary": "fonts (subsetting, widths)",
    "'compress' of 'zlib.Compress' objects>": "zlib compression (pydyf, level 9)",
}


def profile_render(report, render_pdf) -> None:
    """cProfile one clinician PDF render and print the cumulative time of WeasyPrint's main stages."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    render_pdf(report, "clinician")
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = max(cumulative for _, _, _, cumulative, _ in stats.values())
    print(f"\nclinician PDF under cProfile ({total:.2f} s profiled; shares, not times):")
    for name, label in STAGES.items():
        cumulative = sum(entry[3] for (_, _, function), entry in stats.items() if function.endswith(name))
        print(f"  {label:45s} {100 * cumulative / total:5.1f} %")


if __name__ == "__main__":
    raise SystemExit(main())
