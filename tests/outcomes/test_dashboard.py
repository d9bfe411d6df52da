"""The dashboard assembled from plain inputs: rates with intervals, benchmarks from the knowledge base,
soreness quartiles, the MCID share per condition and the funnel, for the clinic and for one clinician."""

from __future__ import annotations

import csv
import io

import pytest

from dryneedling.outcomes.dashboard import (
    CSV_TABLES,
    NO_PATIENT_ANSWERS,
    ClinicianInfo,
    OutcomeChange,
    PatientAnswer,
    TreatmentCount,
    build_dashboard,
    dashboard_csv,
)
from dryneedling.outcomes.evidence_line import evidence_line
from dryneedling.outcomes.stats import clopper_pearson

COUNTS = [TreatmentCount("a", 100, 20, 0), TreatmentCount("b", 50, 5, 1)]
CLINICIANS = [ClinicianInfo("a", "Ada", 54), ClinicianInfo("b", "Ben", None)]
CHANGES = [
    OutcomeChange("neck_pain_stiff_neck", "nprs", None, -3, 4),  # neck pain: MCID 1.5 (Kovacs) -> reached
    OutcomeChange("neck_pain_stiff_neck", "nprs", None, -1, 2),  # not reached
    OutcomeChange("neck_pain_stiff_neck", "groc", "15_point", 3, 2),  # no MCID
]


def make(catalog, scope="clinic", viewer="a", answers=(), counts=COUNTS, changes=CHANGES):
    return build_dashboard(
        kb=catalog.kb,
        catalog_version=catalog.version,
        benchmarks=catalog.benchmarks,
        scope=scope,
        viewer_id=viewer,
        counts=list(counts),
        answers=list(answers),
        changes=list(changes),
        clinicians=CLINICIANS,
        evidence=lambda condition: evidence_line(catalog, condition),
    )


def test_it_gives_the_clinics_rates_with_exact_intervals(catalog):
    found = make(catalog).adverse_events
    assert found.treatments == 150
    mild = found.clinician_reported["mild"]
    assert (mild.events, mild.total) == (25, 150)
    assert (mild.ci_low, mild.ci_high) == pytest.approx(clopper_pearson(25, 150))
    assert found.clinician_reported["serious"].events == 1


def test_it_shows_both_studies_beside_the_clinic_with_their_sources(catalog):
    published = {p.id: p for p in make(catalog).adverse_events.published}
    assert published["brady_2014_mild"].percent == 19.18 and published["brady_2014_mild"].treatments == 7629
    assert published["brady_2014_significant"].events == 0
    assert published["brady_2014_significant"].ci_high == pytest.approx(0.000483, abs=1e-6)
    assert published["boyce_2020_minor"].percent == 36.7
    assert round(published["boyce_2020_major"].treatments / published["boyce_2020_major"].events) == 1025
    sources = make(catalog).sources
    assert "brady_2014" in sources and "boyce_2020" in sources and "Brady S" in sources["brady_2014"]


def test_it_says_there_are_no_patient_answers_yet(catalog):
    found = make(catalog)
    assert (
        found.adverse_events.patient_note == NO_PATIENT_ANSWERS and found.soreness.note == NO_PATIENT_ANSWERS
    )
    assert found.adverse_events.patient_reported["mild"].rate is None
    assert [s.n for s in found.soreness.course] == [0, 0]
    assert found.soreness.published and all(f.sources for f in found.soreness.published)


def test_it_computes_the_patient_reported_parts_from_answers(catalog):
    answers = [
        PatientAnswer("a", 4, 2, True, False),
        PatientAnswer("a", 2, 1, False, False),
        PatientAnswer("b", 6, None, True, True),
        PatientAnswer("b", None, 0, False, False),
    ]
    found = make(catalog, answers=answers)
    assert found.adverse_events.patient_answers == 4 and found.adverse_events.patient_note is None
    assert found.adverse_events.patient_reported["mild"].events == 2
    assert found.adverse_events.patient_reported["serious"].events == 1
    at24, at48 = found.soreness.course
    assert (at24.n, at24.median, at24.q1, at24.q3) == (3, 4, 3, 5)
    assert (at48.n, at48.median) == (3, 1)
    patient_mild = next(f for f in found.funnels if f.reported_by == "patient" and f.severity == "mild")
    assert patient_mild.clinic_mean == 0.5 and {p.name for p in patient_mild.points} == {"Ada", "Ben"}


def test_it_shows_a_clinician_only_their_own_against_the_clinic_mean(catalog):
    answers = [PatientAnswer("a", 4, 2, True, False), PatientAnswer("b", 6, 3, False, False)]
    found = make(catalog, scope="own", viewer="b", answers=answers)
    assert (
        found.adverse_events.treatments == 50 and found.adverse_events.clinician_reported["mild"].events == 5
    )
    assert found.adverse_events.patient_answers == 1 and found.soreness.course[0].median == 6
    mild = next(f for f in found.funnels if f.reported_by == "clinician" and f.severity == "mild")
    assert mild.clinic_mean == pytest.approx(25 / 150) and [p.name for p in mild.points] == ["Ben"]


def test_it_puts_each_clinician_in_the_funnel_with_training_hours(catalog):
    mild = next(f for f in make(catalog).funnels if f.reported_by == "clinician" and f.severity == "mild")
    ada = next(p for p in mild.points if p.name == "Ada")
    assert ada.training_hours == 54 and ada.rate == 0.2 and ada.position == "within"
    assert (
        mild.limits[-1]["n"] == 100
        and mild.limits[0]["low998"] <= mild.clinic_mean <= mild.limits[0]["high998"]
    )


def test_it_gives_the_share_that_reached_the_mcid_beside_the_pooled_evidence(catalog):
    rows = {(o.measure, o.variant): o for o in make(catalog).outcomes}
    nprs = rows[("nprs", None)]
    assert (nprs.episodes, nprs.reached, nprs.share) == (6, 4, pytest.approx(4 / 6))
    assert nprs.mcid.value == 1.5 and nprs.mcid.source == "kovacs_2008" and nprs.mcid.specific_to_condition
    assert nprs.evidence_strength in ("Moderate", "Emerging", "Limited") and nprs.evidence_source
    groc = rows[("groc", "15_point")]
    assert groc.mcid is None and groc.share is None and groc.reached == 0


@pytest.mark.parametrize("table", CSV_TABLES)
def test_it_gives_the_numbers_under_each_plot_as_csv(catalog, table):
    text = dashboard_csv(make(catalog), table)
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) >= 2 and all(len(row) == len(rows[0]) for row in rows)
