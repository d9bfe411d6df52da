"""Use case: the public topic pages (/learn), built from the catalog and nothing else.

:func:`topic_page` turns one page of ``learn/pages.yaml`` into a :class:`Page`: sections of cited claims,
each claim with its sources (numbered footnotes, first use first), its confidence or evidence strength and
those in words. Every sentence comes from a cited fact of the catalog (knowledge base, guidance, evidence
table) or from a cited statement of the learn data; nothing is written here. No web imports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from dryneedling.catalog import Catalog
from dryneedling.errors import InputError
from dryneedling.knowledge.learn import Item, LearnData, PageSpec
from dryneedling.services import evidence as evidence_service

SAFETY_CLASSES = ("absolute", "relative", "precaution")


@dataclass(frozen=True)
class Claim:
    """One cited sentence (or a few): text, sources, and how strong the support is (level and words)."""

    text: str
    sources: tuple[str, ...]
    strength: str  # the plain strength (Moderate, Emerging, Limited) that limits the words
    support: str  # the confidence or strength in words
    level: str  # confidence (high/moderate/low) or evidence strength, for styling
    note: str = ""
    reasoning: bool = False  # guidance marked clinical_reasoning: no source, said so in ``support``


@dataclass(frozen=True)
class Group:
    heading: str | None
    claims: tuple[Claim, ...]


@dataclass(frozen=True)
class Section:
    heading: str
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class Footnote:
    number: int
    source_id: str
    citation: str
    link: str | None
    tier_label: str


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    description: str
    sections: tuple[Section, ...]
    footnotes: tuple[Footnote, ...]
    handoff: str
    version: str
    date: dt.date
    numbers: dict[str, int] = field(default_factory=dict)  # source id -> footnote number

    def claims(self) -> list[Claim]:
        return [claim for s in self.sections for g in s.groups for claim in g.claims]


def learn_data(catalog: Catalog) -> LearnData:
    """The catalog's learn data; InputError when the catalog was built without a learn/ folder."""
    if catalog.learn is None:
        raise InputError("learn", "this catalog has no learn/ data", value=str(catalog.data_dir))
    return catalog.learn


def pages(catalog: Catalog) -> tuple[PageSpec, ...]:
    """Every topic page of the learn data, in order."""
    return learn_data(catalog).pages


def _fact(catalog: Catalog, text: str, sources: Any, confidence: str, note: str = "") -> Claim:
    learn = learn_data(catalog)
    strength = catalog.grade_rules.strength.by_certainty[confidence]
    reasoning = not sources
    return Claim(
        text=" ".join(text.split()),
        sources=tuple(sources),
        strength=strength,
        support=learn.wording.reasoning if reasoning else learn.wording.confidence[confidence],
        level=confidence,
        note=note,
        reasoning=reasoning,
    )


def _evidence_groups(catalog: Catalog, region: str) -> list[Group]:
    table = evidence_service.table(catalog, audience="patient")
    words = learn_data(catalog).wording.strength
    groups: dict[str, list[Claim]] = {}
    for row in table.rows:
        if region != "all" and row.region != region:
            continue
        note = "" if row.dn_specific else "This estimate mixes dry needling with acupuncture."
        groups.setdefault(row.region_label, []).append(
            Claim(
                text=row.plain_summary,
                sources=(row.source,),
                strength=row.strength,
                support=words[row.strength],
                level=row.strength,
                note=note,
            )
        )
    return [Group(heading, tuple(claims)) for heading, claims in groups.items()]


def _gap_groups(catalog: Catalog, region: str) -> list[Group]:
    table = evidence_service.table(catalog, audience="patient")
    out = []
    for gap in table.gaps:
        if region != "all" and gap.region != region:
            continue
        if not gap.sources:
            continue  # a gap the table derives without a source is not a cited claim
        heading = gap.region_label if region == "all" else None
        out.append(Group(heading, (_fact(catalog, gap.plain, gap.sources, gap.confidence),)))
    return out


def _item_groups(catalog: Catalog, item: Item) -> list[Group]:
    kb, guidance, learn = catalog.kb, catalog.guidance, learn_data(catalog)
    kind, item_id = item.kind, item.id
    if kind == "statement":
        s = learn.statement(item_id)
        return [Group(item.heading, (_fact(catalog, s.text, s.sources, s.confidence),))]
    if kind == "modifier":
        m = next(m for m in guidance.modifiers if m.id == item_id)
        return [Group(item.heading, (_fact(catalog, m.patient_text, m.sources, m.confidence),))]
    if kind == "heat":
        heat = guidance.heat
        if item_id == "evidence":
            strengths = [heat.before.confidence, heat.after.confidence]
            weakest = "low" if "low" in strengths else strengths[0]
            claim = _fact(catalog, heat.evidence_patient_text, heat.evidence_sources, weakest)
            return [Group(item.heading, (claim,))]
        if item_id in ("before", "after"):
            part = getattr(heat, item_id)
            return [Group(item.heading, (_fact(catalog, part.patient_text, part.sources, part.confidence),))]
        claims = tuple(
            _fact(catalog, c.patient_text, c.sources, c.confidence) for c in heat.contraindications
        )
        return [Group(item.heading, claims)]
    if kind == "aftercare":
        after = guidance.aftercare
        if item_id == "soreness":
            s = after.soreness
            return [Group(item.heading, (_fact(catalog, s.patient_text, s.sources, s.confidence),))]
        if item_id == "what_helps":
            return [
                Group(
                    item.heading,
                    tuple(_fact(catalog, t.patient_text, t.sources, t.confidence) for t in after.what_helps),
                )
            ]
        return [
            Group(
                item.heading,
                tuple(_fact(catalog, w.patient_text, w.sources, w.confidence) for w in after.warning_signs),
            )
        ]
    if kind == "safety":
        items = [s for s in kb.safety_items.values() if s.klass == item_id]
        return [
            Group(item.heading, tuple(_fact(catalog, s.patient_text, s.sources, s.confidence) for s in items))
        ]
    if kind == "anatomical_region":
        regions = kb.anatomical_regions.values() if item_id == "all" else [kb.anatomical_regions[item_id]]
        return [
            Group(
                item.heading, tuple(_fact(catalog, r.patient_text, r.sources, r.confidence) for r in regions)
            )
        ]
    if kind == "evidence":
        return _evidence_groups(catalog, item_id)
    return _gap_groups(catalog, item_id)


def number_sources(catalog: Catalog, claims: list[Claim]) -> tuple[dict[str, int], tuple[Footnote, ...]]:
    """Footnote numbers for the claims' sources (first use first) and the numbered bibliography."""
    numbers: dict[str, int] = {}
    for claim in claims:
        for sid in claim.sources:
            numbers.setdefault(sid, len(numbers) + 1)
    footnotes = []
    for sid, number in numbers.items():
        source = catalog.kb.sources[sid]
        footnotes.append(Footnote(number, sid, source.citation, source.link, source.tier_label))
    return numbers, tuple(footnotes)


def topic_page(catalog: Catalog, slug: str, today: dt.date | None = None) -> Page:
    """The topic page ``slug`` built from the catalog; InputError (field ``page``) for an unknown slug."""
    learn = learn_data(catalog)
    spec = learn.page(slug)
    if spec is None:
        raise InputError.unknown("page", slug, [p.slug for p in learn.pages])
    sections = []
    for section in spec.sections:
        groups = [g for item in section.items for g in _item_groups(catalog, item) if g.claims]
        if groups:
            sections.append(Section(section.heading, tuple(groups)))
    numbers, footnotes = number_sources(catalog, [c for s in sections for g in s.groups for c in g.claims])
    return Page(
        slug=spec.slug,
        title=spec.title,
        description=spec.description,
        sections=tuple(sections),
        footnotes=footnotes,
        handoff=" ".join(learn.wording.handoff.split()),
        version=catalog.version,
        date=today or dt.date.today(),
        numbers=numbers,
    )
