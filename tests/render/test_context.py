"""What a printed document says about itself: paper, time of printing, who it is for and by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from dryneedling.render.context import DocumentContext, versions


def test_it_defaults_to_a4_and_blank_fields_printed_now():
    document = DocumentContext()
    assert document.paper == "a4" and document.page_size == "A4"
    assert (document.clinic, document.clinician, document.patient_name, document.patient_id) == (
        "",
        "",
        "",
        "",
    )
    assert abs(datetime.now(UTC) - document.generated_at) < timedelta(minutes=1)


def test_it_takes_letter_paper_in_any_case():
    assert DocumentContext(paper=" Letter ").page_size == "letter"


def test_it_refuses_an_unknown_paper():
    with pytest.raises(ValidationError):
        DocumentContext(paper="a3")


def test_it_prints_the_time_with_its_zone():
    plus_one = timezone(timedelta(hours=1))
    assert DocumentContext(generated_at=datetime(2026, 1, 2, 3, 4, tzinfo=plus_one)).generated == (
        "2026-01-02 03:04 UTC+01:00"
    )
    assert (
        DocumentContext(generated_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC)).generated
        == "2026-01-02 03:04 UTC"
    )


def test_it_tidies_names_and_treats_none_as_blank():
    document = DocumentContext(clinic="  Riverside \n PT ", patient_id=None)
    assert document.clinic == "Riverside PT" and document.patient_id == ""


def test_it_names_the_catalog_version_when_the_report_has_one(example_reports):
    report = example_reports[("shoulder", "clinician")]
    assert "knowledge catalog version not recorded" in versions(
        report.model_copy(update={"catalog_version": ""})
    )
    assert versions(report.model_copy(update={"catalog_version": "kb-1a2b"})).endswith(
        "knowledge catalog kb-1a2b"
    )
