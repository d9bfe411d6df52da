"""The SVG plots are well-formed XML, titled for screen readers, and escape every label."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from dryneedling.outcomes.dashboard import ClinicianInfo, PatientAnswer, TreatmentCount, build_dashboard
from dryneedling.outcomes.evidence_line import evidence_line
from dryneedling.outcomes.progress import Point, measure_progress
from dryneedling.render import outcome_plots as plots

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.find(f"{SVG}title").text
    return root


def test_it_draws_progress_with_the_mcid_band(catalog):
    nprs = catalog.kb.measures["nprs"]
    progress = measure_progress(
        nprs, [Point(date(2026, 1, 1), 8), Point(date(2026, 2, 1), 5)], "low_back_pain"
    )
    root = parse(plots.progress_svg(progress, 0, 10))
    assert root.find(f".//{SVG}rect") is not None and len(root.findall(f".//{SVG}circle")) == 2


def test_it_escapes_names_in_the_funnel_and_says_when_there_is_nothing_to_draw(catalog):
    board = build_dashboard(
        kb=catalog.kb,
        catalog_version=catalog.version,
        benchmarks=catalog.benchmarks,
        scope="clinic",
        viewer_id="a",
        counts=[TreatmentCount("a", 40, 8, 0), TreatmentCount("b", 10, 1, 0)],
        answers=[PatientAnswer("a", 3, 1, False, False)],
        changes=[],
        clinicians=[ClinicianInfo("a", "<b>Ann & Co</b>", 27), ClinicianInfo("b", "Ben", None)],
        evidence=lambda condition: evidence_line(catalog, condition),
    )
    mild = board.funnels[0]
    svg = plots.funnel_svg(mild, "Mild")
    assert "<b>" not in svg and "&lt;b&gt;Ann &amp; Co&lt;/b&gt;" in svg
    parse(svg)
    parse(plots.soreness_svg(board.soreness))
    empty = next(f for f in board.funnels if f.reported_by == "patient" and f.severity == "serious")
    assert "No data yet." not in plots.funnel_svg(empty, "x")  # one answer: a mean of 0 still draws
    rows = [plots.IntervalRow("Clinic", 0.2, 0.1, 0.3), plots.IntervalRow("Patients", None, None, None)]
    assert "No patient answers yet." in plots.interval_svg("Rates", rows, "No patient answers yet.")
