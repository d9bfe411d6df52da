"""Source tiers: every source has one, the knowledge base rests on trusted sources, and the rule holds."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from dryneedling.knowledge.guidance import GuidanceError, load_guidance
from dryneedling.knowledge.load import KnowledgeError, load_knowledge
from dryneedling.knowledge.models import Source
from dryneedling.knowledge.tiers import guidance_facts, kb_facts, tier_problems, tier_shares
from shipped import shipped_catalog

from .helpers import entry

# Download, document-sharing, flashcard and mirror hosts: a source must cite the original instead.
SHARING_HOSTS = (
    "studylib",
    "scribd.com",
    "docplayer",
    "pdfcoffee",
    "dokumen.pub",
    "academia.edu",
    "slideshare",
    "brainscape",
    "coursehero",
    "quizlet",
    "cricut",
    "coek.info",
    "pdfslide",
    "vdocuments",
    "docslib",
    "21docs",
    "pubhtml5",
    "doczz",
    "docsity",
    "fdocuments",
    "healthdocbox",
    "getfittglobal",
    "dorfenfashion",
    "bndtmqurk",
    "proxy.weglot",
    "researchgate.net",
    "musculoskeletalkey",
    "aneskey",
    "zlibrary",
    "123docz",
    "studenta",
)


def problems_of(data_dir) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(data_dir)
    return [str(p) for p in caught.value.problems]


@pytest.fixture(scope="module")
def kb():
    return shipped_catalog().kb


@pytest.fixture(scope="module")
def shares(kb):
    return tier_shares(kb, shipped_catalog().guidance)


def test_every_source_has_a_tier_and_a_link_unless_it_is_a_printed_book(kb):
    for source in kb.sources.values():
        assert source.tier in (1, 2, 3)
        assert source.link or (source.print_only and source.tier == 2), source.id


def test_a_doi_gives_the_link_when_there_is_no_url():
    source = Source(id="x", citation="X", tier=1, doi="10.1000/182")
    assert source.link == "https://doi.org/10.1000/182"


def test_a_source_without_any_link_does_not_validate():
    with pytest.raises(ValueError, match="needs a url or a doi"):
        Source(id="x", citation="X", tier=3)


@pytest.mark.parametrize("host", SHARING_HOSTS)
def test_no_source_points_to_a_download_or_sharing_copy(kb, host):
    offenders = [s.id for s in kb.sources.values() if s.url and host in (urlparse(s.url).hostname or "")]
    assert offenders == []


def test_no_flashcard_deck_is_cited(kb):
    assert not [s.id for s in kb.sources.values() if "flashcard" in s.citation.lower()]


def test_at_least_80_percent_of_all_facts_rest_on_a_tier_1_or_2_source(shares):
    assert shares["overall"]["share"] >= 0.80, shares["overall"]


def test_every_kind_of_fact_is_counted(shares):
    assert set(shares["kinds"]) == {
        "muscles",
        "conditions",
        "safety_items",
        "anatomical_regions",
        "measures",
        "guidance",
    }
    assert shares["overall"]["facts"] == sum(k["facts"] for k in shares["kinds"].values())


def test_every_safety_item_rests_on_a_tier_1_or_2_source_or_says_why_not(kb, shares):
    for item_id in shares["kinds"]["safety_items"]["only_tier_3"]:
        item = kb.safety_item(item_id)
        assert item.tier_note and item.confidence == "low", item_id


def test_every_fact_resting_only_on_tier_3_is_low(kb):
    facts = kb_facts({k: getattr(kb, k) for k in ("muscles", "conditions", "safety_items")})
    facts += kb_facts({"anatomical_regions": kb.anatomical_regions, "measures": kb.measures})
    facts += guidance_facts(shipped_catalog().guidance)
    for fact in facts:
        if all(kb.sources[s].tier == 3 for s in fact.sources):
            assert fact.confidence in (None, "low"), (fact.kind, fact.entry)


def test_the_loader_reports_a_tier_3_only_fact_that_claims_more_than_low(data_copy, edit):
    def claim_high(d):
        muscle = entry(d, "muscles", "deltoid")
        muscle["confidence"] = "high"

    edit("muscles.yaml", claim_high)
    expected = "muscles.yaml: deltoid.confidence: rests only on tier-3 sources (ab_deltoid)"
    assert any(p.startswith(expected) for p in problems_of(data_copy))


def test_the_loader_asks_a_tier_3_only_safety_item_for_a_tier_note(data_copy, edit):
    edit("safety.yaml", lambda d: entry(d, "items", "frail_patient").pop("tier_note"))
    expected = "safety.yaml: frail_patient.tier_note: rests only on tier-3 sources: say why in tier_note"
    assert expected in problems_of(data_copy)


def test_the_guidance_loader_applies_the_same_rule(data_copy):
    heat = data_copy / "guidance" / "heat.yaml"
    text = heat.read_text(encoding="utf-8")
    heat.write_text(
        text.replace(
            "sources: [houghton_2010_epa, utah_burn_center, kornhaber_2020]",
            "sources: [utah_burn_center]",
        ),
        encoding="utf-8",
    )
    kb = shipped_catalog().kb
    pattern = r"heat\.contraindications\[impaired_sensation\]\.confidence: rests only on tier-3 sources"
    with pytest.raises(GuidanceError, match=pattern):
        load_guidance(data_copy / "guidance", kb)


def test_tier_problems_ignores_facts_with_a_trusted_source(kb):
    facts = kb_facts({"muscles": kb.muscles})
    assert tier_problems(facts, kb.sources) == []
