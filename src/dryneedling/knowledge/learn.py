"""The public pages' data (``data/learn/pages.yaml``): which cited facts each /learn page shows.

A page holds no clinical fact of its own. Each item points at a fact the catalog already holds (a safety
item, a guidance rule, an evidence row or gap, an anatomical region) or at a *statement* of this file, which
carries its own sources and confidence like every other fact. :func:`load_learn` validates the file (extra
keys forbidden) and checks every source id against the bibliography and every item id against the knowledge
base, the guidance and the evidence data; :func:`dryneedling.catalog.load_catalog` calls it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dryneedling.errors import DataError, Problem
from dryneedling.vocabulary import Confidence

FILE = "learn/pages.yaml"

ItemKind = Literal[
    "statement", "modifier", "heat", "aftercare", "safety", "anatomical_region", "evidence", "gaps"
]
#: Fixed ids of the item kinds that name a part rather than an entry.
PART_IDS: dict[str, tuple[str, ...]] = {
    "heat": ("evidence", "before", "after", "contraindications"),
    "aftercare": ("soreness", "what_helps", "warning_signs"),
    "safety": ("absolute", "relative", "precaution"),
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Wording(_Frozen):
    """How confidence and strength read on a page, and the hand-off line every page ends with."""

    confidence: dict[Confidence, str]
    strength: dict[Literal["Moderate", "Emerging", "Limited"], str]
    reasoning: str
    handoff: str


class Statement(_Frozen):
    """A cited fact shown on the public pages that no other part of the knowledge base holds."""

    id: str
    text: str = Field(min_length=20)
    sources: tuple[str, ...] = Field(min_length=1)
    confidence: Confidence


class Item(_Frozen):
    """One reference from a page to a fact: its kind, its id (``all`` for every entry) and a plain heading."""

    kind: ItemKind
    id: str
    heading: str | None = None


class Section(_Frozen):
    heading: str
    items: tuple[Item, ...] = Field(min_length=1)


class PageSpec(_Frozen):
    slug: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str
    description: str
    sections: tuple[Section, ...] = Field(min_length=1)


class SelfCheckWording(_Frozen):
    """Wording of the self-check; ``ask`` names statements (cited questions to ask a clinician)."""

    intro: str
    labels: dict[
        Literal[
            "area",
            "duration",
            "pregnancy",
            "blood_thinner",
            "blood_thinner_name",
            "implant",
            "needle_fear",
            "reactions",
            "age",
        ],
        str,
    ]
    choice_labels: dict[
        Literal["pregnancy", "blood_thinner", "implant", "needle_fear", "reactions"], dict[str, str]
    ]
    decision_headings: dict[Literal["suitable", "needle_with_precautions", "do_not_needle"], str]
    rephrase: dict[str, str] = {}
    reasons_heading: str
    no_region_evidence: str
    ask: tuple[str, ...] = Field(min_length=1)
    handoff: str


class LearnData(_Frozen):
    """The whole file: wording, statements, the self-check's wording and pages."""

    wording: Wording
    statements: tuple[Statement, ...]
    self_check: SelfCheckWording
    pages: tuple[PageSpec, ...] = Field(min_length=1)

    def statement(self, statement_id: str) -> Statement:
        return next(s for s in self.statements if s.id == statement_id)

    def page(self, slug: str) -> PageSpec | None:
        return next((p for p in self.pages if p.slug == slug), None)


def _item_problems(
    item: Item, where: str, data: LearnData, kb: Any, guidance: Any, evidence: Any
) -> list[str]:
    kind, item_id = item.kind, item.id
    if kind in PART_IDS:
        known: Any = PART_IDS[kind]
    elif kind == "statement":
        known = {s.id for s in data.statements}
    elif kind == "modifier":
        known = {m.id for m in guidance.modifiers}
    elif kind == "anatomical_region":
        known = {"all", *kb.anatomical_regions}
    else:  # evidence rows and gaps: by evidence region
        known = {"all", *(g.region for g in evidence.gaps), *(row.region for row in evidence.syntheses)}
    return [] if item_id in known else [f"{where}: unknown {kind} id {item_id!r}"]


def check_learn(data: LearnData, kb: Any, guidance: Any, evidence: Any) -> list[Problem]:
    """Every unknown source, duplicate id or dangling item of ``data``, as data problems."""
    problems: list[Problem] = []
    ids = [s.id for s in data.statements]
    for statement in data.statements:
        if ids.count(statement.id) > 1:
            problems.append(Problem(FILE, statement.id, "id", "statement id used twice"))
        for sid in statement.sources:
            if sid not in kb.sources:
                problems.append(Problem(FILE, statement.id, "sources", f"unknown source id {sid!r}"))
    from dryneedling.knowledge.tiers import Fact, tier_problems

    facts = [Fact("learn", FILE, s.id, s.sources, s.confidence) for s in data.statements]
    problems.extend(Problem(*problem) for problem in tier_problems(facts, kb.sources))
    for statement_id in data.self_check.ask:
        if statement_id not in ids:
            problems.append(Problem(FILE, "self_check", "ask", f"unknown statement id {statement_id!r}"))
    slugs = [p.slug for p in data.pages]
    for page in data.pages:
        if slugs.count(page.slug) > 1:
            problems.append(Problem(FILE, page.slug, "slug", "page slug used twice"))
        for section in page.sections:
            for item in section.items:
                for message in _item_problems(item, section.heading, data, kb, guidance, evidence):
                    problems.append(Problem(FILE, page.slug, "items", message))
    return problems


def load_learn(directory: Path, kb: Any, guidance: Any, evidence: Any) -> LearnData:
    """Load ``directory/pages.yaml`` and check it against the catalog's parts; DataError lists every problem."""
    path = directory / "pages.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DataError([Problem(FILE, "-", "", f"not readable as YAML: {exc}")]) from None
    try:
        data = LearnData.model_validate(raw)
    except ValidationError as exc:
        raise DataError(
            [
                Problem(
                    FILE, ".".join(str(p) for p in err["loc"][:-1]) or "-", str(err["loc"][-1]), err["msg"]
                )
                for err in exc.errors()
            ]
        ) from None
    problems = check_learn(data, kb, guidance, evidence)
    if problems:
        raise DataError(problems)
    return data
