"""The public pages: every topic of issue 13 has a page built from the catalog, every claim is cited with
its strength, pages read at grade 8 or below, use no word their evidence forbids, state no number the data
does not hold, carry the catalog version and date, and are listed in the sitemap."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from dryneedling.catalog import data_files, load_catalog
from dryneedling.services.learn import pages, topic_page
from dryneedling.web.app import create_app
from learn.text import forbidden_in, numbers, visible
from shipped import shipped_catalog

CATALOG = shipped_catalog()
SLUGS = [p.slug for p in pages(CATALOG)]
PATHS = ["/learn", *(f"/learn/{slug}" for slug in SLUGS), "/learn/self-check"]
MAX_GRADE = 8
# The subjects of the consumer articles (issue 13) and the page that answers each.
ISSUE_TOPICS = {
    "what dry needling is, vs heat therapy and acupuncture": "what-is-dry-needling",
    "how it works": "how-it-works",
    "what the research shows by body region": "research-by-body-region",
    "what shapes one person's result": "what-shapes-results",
    "heat before and after": "heat",
    "post-needling soreness": "soreness-after-needling",
    "athletic recovery": "athletic-recovery",
    "chronic pain: fibromyalgia and CRPS": "chronic-pain",
    "safety": "safety",
}


def _data_numbers() -> set[str]:
    text = "\n".join(path.read_text(encoding="utf-8") for path in data_files(CATALOG.data_dir))
    return numbers(text)


DATA_NUMBERS = _data_numbers()


def test_it_has_a_page_for_every_topic_of_the_issue():
    assert set(ISSUE_TOPICS.values()) <= set(SLUGS)


@pytest.mark.parametrize("path", PATHS)
def test_it_serves_each_learn_page_without_a_cookie(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert '<html lang="en">' in response.text
    assert 'href="#content"' in response.text  # skip link
    assert "<h1>" in response.text


@pytest.mark.parametrize("slug", SLUGS)
def test_it_cites_every_claim_with_a_source_in_the_bibliography_and_its_strength_in_words(slug):
    page = topic_page(CATALOG, slug)
    assert page.claims()
    wording = CATALOG.learn.wording
    for claim in page.claims():
        # Guidance marked clinical_reasoning has no source: the page says so instead of a footnote.
        assert claim.sources or (claim.reasoning and claim.support == wording.reasoning), claim.text
        assert all(sid in CATALOG.kb.sources for sid in claim.sources)
        assert claim.support in {*wording.confidence.values(), *wording.strength.values(), wording.reasoning}
    assert {n.source_id for n in page.footnotes} == {s for c in page.claims() for s in c.sources}


@pytest.mark.parametrize("slug", SLUGS)
def test_it_links_each_footnote_out_to_its_source(client, slug):
    html = client.get(f"/learn/{slug}").text
    page = topic_page(CATALOG, slug)
    for note in page.footnotes:
        assert f'id="fn-{note.number}"' in html
        assert f'href="#fn-{note.number}"' in html
        if note.link:
            assert f'href="{note.link}"' in html.replace("&amp;", "&")


@pytest.mark.parametrize("path", PATHS)
def test_it_reads_at_grade_8_or_below(client, path, reading_grade):
    body, _ = visible(client.get(path).text)
    assert reading_grade(body) <= MAX_GRADE, body[:300]


@pytest.mark.parametrize("slug", SLUGS)
def test_it_uses_no_word_the_evidence_strength_forbids(slug):
    from evidence.overclaim import FORBIDDEN

    strength = CATALOG.grade_rules.strength
    for claim in topic_page(CATALOG, slug).claims():
        forbidden = [
            *strength.forbidden_always,
            *strength.forbidden_by_strength.get(claim.strength, []),
            *FORBIDDEN.get(claim.strength, []),
        ]
        assert not forbidden_in(claim.text, forbidden), (claim.strength, claim.text)


@pytest.mark.parametrize("path", PATHS)
def test_it_uses_no_always_forbidden_word_anywhere_on_the_page(client, path):
    body, _ = visible(client.get(path).text)
    assert not forbidden_in(body, list(CATALOG.grade_rules.strength.forbidden_always))
    assert "you should" not in body.lower()


@pytest.mark.parametrize("slug", SLUGS)
def test_it_states_no_number_that_is_not_in_the_data(client, slug):
    html = client.get(f"/learn/{slug}").text
    body, sources = visible(html)
    today = dt.date.today()
    allowed = DATA_NUMBERS | {str(today.day), str(today.year)}
    text = f"{body} {sources}".replace(CATALOG.version, "")
    invented = numbers(text) - allowed
    assert not invented, f"numbers on /learn/{slug} not found in the data: {sorted(invented)}"


def test_it_finds_a_number_that_is_not_in_the_data():
    # The check itself: a made-up figure on a page is caught.
    assert numbers("About 42.5 in 1,000 people") - {"1000"} == {"42.5"}


@pytest.mark.parametrize("path", PATHS)
def test_it_shows_the_catalog_version_and_the_date(client, path):
    html = client.get(path).text
    assert CATALOG.version in html
    assert dt.date.today().isoformat() in html


def test_it_changes_when_the_knowledge_base_changes(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(CATALOG.data_dir, data)
    pages_yaml = data / "learn" / "pages.yaml"
    pages_yaml.write_text(
        pages_yaml.read_text().replace("That is why it is called dry.", "That is why people call it dry."),
        encoding="utf-8",
    )
    changed = load_catalog(data)
    assert changed.version != CATALOG.version
    client = TestClient(create_app(changed))
    html = client.get("/learn/what-is-dry-needling").text
    assert "That is why people call it dry." in html and changed.version in html


def test_it_refuses_learn_data_that_cites_an_unknown_source(tmp_path):
    from dryneedling.errors import DataError

    data = tmp_path / "data"
    shutil.copytree(CATALOG.data_dir, data)
    pages_yaml = data / "learn" / "pages.yaml"
    pages_yaml.write_text(
        pages_yaml.read_text().replace("sources: [fdlp_nijs_2019]", "sources: [no_such_source]", 1),
        encoding="utf-8",
    )
    with pytest.raises(DataError, match="no_such_source"):
        load_catalog(data)


def test_it_answers_404_with_the_topic_list_for_an_unknown_page(client):
    response = client.get("/learn/does-it-cure-everything")
    assert response.status_code == 404
    assert all(f'href="/learn/{slug}"' in response.text for slug in SLUGS)


def test_it_lists_every_learn_page_in_the_sitemap(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in ET.fromstring(response.content).findall("s:url/s:loc", namespace)]
    assert sorted(re.sub(r"^https?://[^/]+", "", loc) for loc in locs) == sorted(PATHS)


def test_it_links_the_learn_pages_from_the_home_page(client):
    assert 'href="/learn"' in client.get("/").text


def test_it_prints_well(client):
    css = client.get("/static/learn.css").text
    assert "@media print" in css and ":focus-visible" in css


def test_it_refuses_a_statement_on_tier_3_sources_only_that_claims_more_than_low(tmp_path):
    from dryneedling.errors import DataError

    data = tmp_path / "data"
    shutil.copytree(CATALOG.data_dir, data)
    pages_yaml = data / "learn" / "pages.yaml"
    pages_yaml.write_text(
        pages_yaml.read_text().replace(
            "sources: [fdlp_nijs_2019]\n  confidence: moderate",
            "sources: [rcmguide_m791]\n  confidence: moderate",
            1,
        ),
        encoding="utf-8",
    )
    with pytest.raises(DataError, match="tier-3"):
        load_catalog(data)
