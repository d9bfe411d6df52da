"""The PDF renderings print every example for both audiences, on A4, with numbered pages."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dryneedling.render.pdf import render_pdf

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))
STEMS = [path.stem for path in EXAMPLES]
A4_POINTS = (595.28, 841.89)
POPPLER = all(shutil.which(tool) for tool in ("pdfinfo", "pdftotext", "pdffonts"))


def _pdfinfo(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {
        key.strip(): value.strip() for key, _, value in (line.partition(":") for line in out.splitlines())
    }


@pytest.mark.parametrize("stem", STEMS)
@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_it_prints_every_example_as_an_a4_pdf(example_reports, stem, audience, tmp_path):
    pdf = render_pdf(example_reports[(stem, audience)], audience)
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    if not POPPLER:
        pytest.skip("pdfinfo/pdftotext/pdffonts (poppler-utils) not installed: page checks skipped")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    info = _pdfinfo(path)
    pages = int(info["Pages"])
    assert pages >= 1
    width, height = (float(v) for v in info["Page size"].split()[0:3:2])
    assert abs(width - A4_POINTS[0]) < 1 and abs(height - A4_POINTS[1]) < 1
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    words = text.split()
    assert "None" not in words and "nan" not in words
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "DejaVu" in fonts and "Sans" in fonts
    heading = "Dry needling assessment" if audience == "clinician" else "Your dry needling handout"
    assert heading in text
