"""The /evidence page, its htmx partial and GET /api/evidence read in words (issue 9): no "n/r" or
internal labels, "not assessable" instead of "at most high", no SMD/k/I² for patients, and every
source linked out with its tier for the clinician."""

from __future__ import annotations

import re
from html import unescape

import pytest

from evidence.wording import patient_jargon, unreadable

HTML = {"accept": "text/html"}


def _text(html: str) -> str:
    """What a person reads: the page without tags, scripts and attribute values."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.mark.parametrize("path", ["/evidence", "/evidence/table"])
def test_the_clinician_evidence_table_reads_in_words_and_links_every_source(client, path):
    html = client.get(path, headers=HTML).text
    text = _text(html)
    assert not unreadable(text), unreadable(text)
    assert "not assessable" in text
    assert "on a scale the review does not name" in text and "points on the NPRS, 0-10" in text
    rows = html.count('class="evidence-row"')
    assert rows > 50
    links = re.findall(r'<a class="source-link" href="(https?://[^"]+)"', html)
    assert len(links) == rows
    assert any(link.startswith("https://doi.org/") for link in links)
    assert len(re.findall(r'class="tier tier--\d"', html)) == rows


@pytest.mark.parametrize("path", ["/evidence?audience=patient", "/evidence/table?audience=patient"])
def test_the_patient_evidence_table_has_no_effect_sizes_study_counts_or_i2(client, path):
    html = client.get(path, headers=HTML).text
    text = _text(html)
    table = _text(html[html.index('id="evidence-rows"') :])
    assert not unreadable(text), unreadable(text)
    assert not patient_jargon(table), patient_jargon(table)
    assert "not shown to patients" not in text and "tier " not in table
    assert html.count('class="evidence-row"') == html.count("Read the source") > 20


def test_the_patient_table_is_written_at_grade_8_or_below(client, reading_grade):
    html = client.get("/evidence/table?audience=patient", headers=HTML).text
    sentences = re.findall(r"<td>([^<]*\.)</td>", html)
    assert sentences
    assert reading_grade(" ".join(unescape(s) for s in sentences)) <= 8


def test_an_unknown_audience_is_refused_naming_the_field(client):
    response = client.get("/evidence/table?audience=robot", headers=HTML)
    assert response.status_code == 422
    assert "audience" in response.text


@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_the_api_rows_carry_the_words_the_link_and_the_tier(client, audience):
    data = client.get(f"/api/evidence?audience={audience}").json()
    assert data["rows"]
    for row in data["rows"]:
        assert not unreadable(row["clinician_summary"]) and not unreadable(row["our_check"]["summary"])
        assert not unreadable(row["effect_text"])
        assert not patient_jargon(row["plain_summary"])
        assert row["source_link"].startswith("http") and row["source_tier"] in (1, 2, 3)
    if audience == "patient":
        assert all(row["patient_safe"] for row in data["rows"])
