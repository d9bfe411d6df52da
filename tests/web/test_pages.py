"""The HTML pages render from the core, swap htmx partials, and show bad input in the page (HTTP 422)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from starlette.datastructures import FormData

from dryneedling.assessment.atlas import rank_muscles
from dryneedling.assessment.profile import REGION_LIST_FIELDS, load_profile
from dryneedling.assessment.report import build_report
from dryneedling.render.html import render_report_fragment
from dryneedling.web.forms import profile_from_form
from shipped import shipped_catalog

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))
HTML = {"accept": "text/html"}


def form_data(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Repeated form fields as the mapping of lists the HTTP client posts."""
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return data


def form_fields(profile: dict) -> list[tuple[str, str]]:
    """The assess form's fields for a profile mapping, as a person would fill them in."""
    fields: list[tuple[str, str]] = []
    for name in (
        "age",
        "sex",
        "condition",
        "side",
        "duration_weeks",
        "pain_nprs",
        "central_sensitization_inventory",
        "needle_fear",
        "activity",
    ):
        if profile.get(name) is not None:
            fields.append((name, str(profile[name])))
    for name in ("pain_regions", "comorbidities"):
        fields += [(name, str(v)) for v in profile.get(name, [])]
    for name in REGION_LIST_FIELDS:
        for mark in profile.get(name, []):
            side, _, region = (
                mark.rpartition(":") if isinstance(mark, str) else (mark.get("side"), "", mark["region"])
            )
            fields.append((name, region))
            if side:
                fields.append((f"{name}_side.{region}", side))
    for finding in profile.get("trigger_points", []):
        fields.append((f"{finding['kind']}_trigger_points", finding["muscle"]))
    for medicine in profile.get("medications", []):
        entry = medicine if isinstance(medicine, dict) else {"name": medicine}
        fields += [("medications", entry["name"]), ("medication_status", entry.get("status", "current"))]
    fields += [("prior_injuries", "\n".join(profile.get("prior_injuries", [])))]
    if profile.get("consent"):
        fields.append(("consent", "on"))
    fields.append(("consent_by", profile.get("consent_by", "self")))
    pregnancy = profile.get("pregnancy") or {}
    if pregnancy.get("pregnant"):
        fields.append(("pregnant", "on"))
        if pregnancy.get("trimester"):
            fields.append(("trimester", str(pregnancy["trimester"])))
    previous = profile.get("previous_dry_needling") or {}
    if previous.get("sessions"):
        fields.append(("previous_sessions", str(previous["sessions"])))
    if previous.get("vasovagal_reaction"):
        fields.append(("vasovagal_reaction", "on"))
    practitioner = profile.get("practitioner") or {}
    if practitioner.get("training_hours") is not None:
        fields.append(("training_hours", str(practitioner["training_hours"])))
    if practitioner.get("ultrasound_guidance"):
        fields.append(("ultrasound_guidance", "on"))
    return fields


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_it_reads_the_same_profile_from_the_form_as_from_the_yaml_file(example):
    form = FormData(form_fields(yaml.safe_load(example.read_text())))
    assert load_profile(profile_from_form(form), shipped_catalog()) == load_profile(
        example, shipped_catalog()
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_it_shows_the_same_report_for_a_pasted_profile_as_the_core_builds(client, example):
    response = client.post("/assess/report", data={"profile_text": example.read_text()}, headers=HTML)
    assert response.status_code == 200, response.text[:300]
    clinician = render_report_fragment(
        build_report(load_profile(example, shipped_catalog()), shipped_catalog()),
        "clinician",
        catalog=shipped_catalog(),
    )
    patient = render_report_fragment(
        build_report(load_profile(example, shipped_catalog()), shipped_catalog(), audience="patient"),
        "patient",
        catalog=shipped_catalog(),
    )
    # The page and the core each stamp their own time of printing: a minute may turn between the two.
    page = _without_print_time(response.text)
    assert _without_print_time(clinician) in page and _without_print_time(patient) in page


_PRINT_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?: UTC(?:[+-]\d{2}:\d{2})?)?")


def _without_print_time(html: str) -> str:
    """``html`` with its time of printing (DocumentContext.generated) blanked out."""
    return _PRINT_TIME.sub("(time of printing)", html)


def test_it_links_every_page_from_home(client):
    html = client.get("/", headers=HTML).text
    for href in ('href="/atlas"', 'href="/evidence"', 'href="/assess"', "/static/htmx.min.js"):
        assert href in html


def test_it_serves_the_vendored_htmx_from_its_own_origin(client):
    response = client.get("/static/htmx.min.js")
    assert response.status_code == 200 and "htmx" in response.text[:2000]
    assert client.get("/static/htmx.LICENSE.txt").text.startswith("Zero-Clause BSD")


def test_it_draws_a_clickable_chart_with_every_region_on_the_atlas_page(client):
    html = client.get("/atlas", headers=HTML).text
    for region_id in shipped_catalog().kb.regions:
        assert f'data-region="{region_id}"' in html
    assert 'hx-get="/atlas/results"' in html


def test_it_ranks_muscles_on_the_atlas_page_without_javascript(client):
    html = client.get("/atlas?pain=posterior_neck&pain=temple", headers=HTML).text
    top = rank_muscles(shipped_catalog(), ["posterior_neck", "temple"])[0]
    assert f'data-muscle="{top.muscle}"' in html


def test_it_swaps_the_reshaded_chart_out_of_band_with_the_atlas_results(client):
    html = client.get("/atlas/results?pain=low_back", headers=HTML).text
    assert 'hx-swap-oob="true"' in html
    assert re.search(r'data-region="low_back" data-view="back" data-kind="(pain|both)"', html)
    assert 'data-kind="referral"' in html


def test_it_shows_a_bad_region_in_the_atlas_page_with_422(client):
    response = client.get("/atlas/results?pain=elbw", headers=HTML)
    assert response.status_code == 422
    assert 'role="alert"' in response.text and "pain" in response.text


def test_it_filters_the_evidence_table_partial(client):
    everything = client.get("/evidence", headers=HTML).text
    neck = client.get("/evidence/table?region=neck", headers=HTML).text
    assert neck.count('class="evidence-row"') < everything.count('class="evidence-row"')
    assert neck.count('data-region="neck"') == neck.count('class="evidence-row"') > 0


def test_it_offers_every_profile_field_on_the_assess_form(client):
    html = client.get("/assess", headers=HTML).text
    for name in (
        "age",
        "sex",
        "condition",
        "pain_regions",
        "side",
        "duration_weeks",
        "pain_nprs",
        "central_sensitization_inventory",
        "comorbidities",
        "medications",
        "pregnant",
        "trimester",
        "needle_fear",
        "consent",
        "lymphedema_regions",
        "skin_lesion_regions",
        "implant_regions",
        "recent_surgery_regions",
        "local_inflammation_regions",
        "tumour_regions",
        "previous_sessions",
        "vasovagal_reaction",
        "activity",
        "training_hours",
    ):
        assert f'name="{name}"' in html, name


def test_it_shows_both_renderings_of_the_report_from_the_form(client):
    profile = yaml.safe_load(EXAMPLES[0].read_text())
    response = client.post("/assess/report", data=form_data(form_fields(profile)), headers=HTML)
    assert response.status_code == 200, response.text[:500]
    assert 'data-audience="clinician"' in response.text and 'data-audience="patient"' in response.text
    assert response.headers["cache-control"] == "no-store"


def test_it_shows_form_errors_with_the_field_name(client):
    response = client.post("/assess/report", data={"age": "40", "condition": "low_back_pain"}, headers=HTML)
    assert response.status_code == 422
    assert 'data-field="pain_regions"' in response.text or 'data-field="consent"' in response.text


def test_it_downloads_the_report_as_pdf(client):
    profile = yaml.safe_load(EXAMPLES[0].read_text())
    response = client.post("/assess/pdf", data=form_data([*form_fields(profile), ("audience", "patient")]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "dryneedling-patient.pdf" in response.headers["content-disposition"]


def test_it_prints_the_pdf_on_the_configured_paper_with_the_names_given(client, tmp_path):
    import shutil
    import subprocess

    from dryneedling.web.settings import load_settings

    profile = yaml.safe_load(EXAMPLES[0].read_text())
    fields = [*form_fields(profile), ("audience", "patient"), ("patient_name", "Jo Example")]
    settings = client.app.state.settings
    client.app.state.settings = load_settings({"DRYNEEDLING_PAPER": "letter"})
    try:
        response = client.post("/assess/pdf", data=form_data(fields))
    finally:
        client.app.state.settings = settings
    assert response.status_code == 200
    if not shutil.which("pdfinfo"):
        pytest.skip("pdfinfo (poppler-utils) not installed")
    path = tmp_path / "handout.pdf"
    path.write_bytes(response.content)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "(letter)" in info
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Jo Example" in text


def test_it_shows_a_friendly_404_page_to_browsers(client):
    response = client.get("/no-such-page", headers=HTML)
    assert response.status_code == 404
    assert "<html" in response.text and "not found" in response.text


def test_it_says_which_arm_each_estimate_favours_on_the_evidence_page(client):
    # A positive SMD favours the injection arm in this review; without the column it reads as a DN win.
    html = client.get("/evidence/table?region=neck", headers=HTML).text
    header = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    assert "Favours" in header
    assert "wet needling" in html and "dry needling" in html


def test_it_reads_a_side_per_regional_finding_from_the_form():
    form = FormData(
        [
            ("lymphedema_regions", "shoulder_arm"),
            ("lymphedema_regions_side.shoulder_arm", "right"),
            ("lymphedema_regions", "neck"),
            ("lymphedema_regions_side.neck", ""),
            ("skin_lesion_regions", "low_back"),
            ("skin_lesion_regions_side.low_back", "left"),
            # a side chosen for a region that is not ticked is not a finding
            ("tumour_regions_side.chest", "left"),
        ]
    )
    data = profile_from_form(form)
    assert data["lymphedema_regions"] == [{"region": "shoulder_arm", "side": "right"}, "neck"]
    assert data["skin_lesion_regions"] == [{"region": "low_back", "side": "left"}]
    assert "tumour_regions" not in data


def test_it_offers_searchable_checkbox_pickers_instead_of_ctrl_click_lists(client):
    page = client.get("/assess").text
    assert "<select" in page and "multiple" not in page
    for name in ("pain_regions", "active_trigger_points", "latent_trigger_points", "comorbidities"):
        assert f'data-field="{name}"' in page and f'name="{name}" value=' in page
    assert page.count("data-picker-filter") >= 4
    assert 'name="lymphedema_regions_side.shoulder_arm"' in page


@pytest.mark.parametrize(
    ("field", "message", "form_name", "words"),
    [
        ("age", "is required", "age", "Age is required"),
        ("pain_regions", "is required", "pain_regions", "Painful regions is required"),
        ("practitioner.training_hours", "must be a number", "training_hours", None),
        ("lymphedema_regions.0.side", "is not a side", "lymphedema_regions", "Lymphoedema is not a side"),
        (
            "pregnancy.trimester",
            "Input should be 1, 2 or 3",
            "trimester",
            "Trimester: Input should be 1, 2 or 3",
        ),
    ],
)
def test_it_words_an_error_with_the_fields_label(field, message, form_name, words):
    from dryneedling.web.pages import field_words, sentence

    name, label = field_words(field)
    assert name == form_name
    if words:
        assert sentence(label, message) == words
    assert "_" not in label


def test_it_shows_a_form_error_in_words_with_a_link_to_the_field(client):
    response = client.post("/assess/report", data={"age": "46", "consent": "on"}, headers=HTML)
    assert response.status_code == 422
    assert 'data-form-field="' in response.text and 'href="#field-' in response.text
    assert ": is required" not in response.text
