"""CLI: ``dryneedling assess PROFILE`` - the personal assessment of one patient profile."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer

from dryneedling.cli import app
from dryneedling.cli.files import check_output_file, read_input_text, write_output
from dryneedling.cli.output import console, fail
from dryneedling.errors import InputError


class Format(StrEnum):
    json = "json"
    text = "text"
    html = "html"
    pdf = "pdf"


class Audience(StrEnum):
    clinician = "clinician"
    patient = "patient"


class Paper(StrEnum):
    a4 = "a4"
    letter = "letter"


def _write(data: str | bytes, output: Path | None) -> None:
    if output is None:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data if data.endswith("\n") else data + "\n")
        return
    try:
        write_output(output, data, "--output")
    except InputError as error:
        fail(error)
    console.print(f"wrote {output}", highlight=False)


@app.command("assess")
def assess(
    profile: str = typer.Argument(
        None, metavar="PROFILE", help="Patient profile, YAML or JSON ('-' reads standard input)."
    ),
    output_format: Format = typer.Option(Format.text, "--format", "-f", help="json, text, html or pdf."),
    audience: Audience = typer.Option(Audience.clinician, "--audience", "-a", help="clinician or patient."),
    output: Path = typer.Option(
        None, "--output", "-o", help="Write to this file instead of standard output."
    ),
    schema: bool = typer.Option(False, "--schema", help="Print the JSON Schema of the profile and exit."),
    paper: Paper = typer.Option(Paper.a4, "--paper", help="Paper size of HTML/PDF output: a4 or letter."),
    clinic: str = typer.Option(
        "", "--clinic", help="Clinic name printed on HTML/PDF (blank line if not given)."
    ),
    clinician: str = typer.Option(
        "", "--clinician", help="Clinician printed on HTML/PDF (blank line if not given)."
    ),
    patient_name: str = typer.Option("", "--patient-name", help="Patient's name printed on HTML/PDF."),
    patient_id: str = typer.Option("", "--patient-id", help="Patient's id printed on HTML/PDF."),
) -> None:
    """Assess one person: screening, candidate muscles, evidence, modifiers, heat, aftercare, care plan."""
    from dryneedling.assessment.profile import parse_profile_text, profile_schema
    from dryneedling.catalog import default_cache_dir, load_catalog
    from dryneedling.services.assess import assess as assess_service

    catalog = load_catalog(cache_dir=default_cache_dir())

    if output is not None:
        try:  # before anything is read or rendered
            check_output_file(output, "--output", others={"PROFILE": profile})
        except InputError as error:
            fail(error)
    if schema:
        _write(json.dumps(profile_schema(catalog), indent=2), output)
        return
    try:
        if profile is None:
            raise InputError("PROFILE", "a profile file is required (or '-' for standard input, or --schema)")
        text, suffix = read_input_text(profile, "PROFILE")
        report = assess_service(catalog, parse_profile_text(text, suffix), audience=audience.value)
        from dryneedling.render.context import DocumentContext

        document = DocumentContext(
            clinic=clinic,
            clinician=clinician,
            patient_name=patient_name,
            patient_id=patient_id,
            paper=paper.value,
        )
        if output_format is Format.json:
            data: str | bytes = json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False)
        elif output_format is Format.text:
            from dryneedling.render.text import render_text

            color = output is None and sys.stdout.isatty()
            data = render_text(report, audience.value, color=color, catalog=catalog)
        elif output_format is Format.html:
            from dryneedling.render.html import render_html

            data = render_html(report, audience.value, document, catalog=catalog)
        else:
            if output is None and sys.stdout.isatty():
                raise InputError("--output", "PDF is binary: give -o FILE.pdf or redirect standard output")
            from dryneedling.render.pdf import render_pdf

            data = render_pdf(report, audience.value, document, catalog=catalog)
    except InputError as error:
        fail(error)
    _write(data, output)
