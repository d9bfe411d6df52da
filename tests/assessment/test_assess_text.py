"""Terminal rendering: the clinician sees reasons, actions and sources; the patient sees plain sentences."""

from __future__ import annotations

import pytest
from assess_helpers import example_report

from dryneedling.errors import InputError
from dryneedling.render.text import render_text
from shipped import shipped_catalog


def test_it_shows_the_clinician_every_finding_with_its_action_and_unrecognised_medicines():
    text = render_text(example_report("low_back_sciatica"), "clinician", width=160, catalog=shipped_catalog())
    assert "Needle with precautions" in text
    assert "not recognised - check manually: metformin" in text
    assert "Plavix (antiplatelet)" in text
    assert "WARNING (urgent)" in text  # bleeding warning for someone on an antiplatelet


def test_it_shows_the_patient_plain_sentences_without_citation_ids():
    report = example_report("low_back_sciatica")
    text = render_text(report, "patient", width=160, catalog=shipped_catalog())
    assert report.aftercare.soreness.patient_text.split(".")[0] in text
    assert not any(source_id in text for source_id in report.sources)


def test_it_lists_excluded_muscles_with_the_reason():
    text = render_text(
        example_report("lymphedema_shoulder"), "clinician", width=200, catalog=shipped_catalog()
    )
    assert "Excluded:" in text and "lymphedema" in text.lower()


def test_it_refuses_an_unknown_audience():
    with pytest.raises(InputError) as caught:
        render_text(example_report("plantar_heel"), "family", catalog=shipped_catalog())
    assert caught.value.field == "audience"
