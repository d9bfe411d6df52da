"""Source tiers: how much of the knowledge base rests on sources a clinician can trust.

Every bibliography entry has a ``tier`` (1 peer-reviewed, 2 textbook / professional body / regulator /
guideline, 3 any other web page). A *fact* is one cited entry: a muscle, condition, safety item,
anatomical region, measure or guidance entry, with its ``sources`` and ``confidence``.

Two pure functions over those facts:

- :func:`tier_problems`: a fact resting only on tier-3 sources may carry at most ``low`` confidence, and a
  safety item resting only on tier 3 must say why in ``tier_note``. The loader reports these as problems.
- :func:`tier_shares`: per kind of fact and overall, the share resting on at least one tier 1-2 source
  (``dryneedling kb check`` prints it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from dryneedling.knowledge.models import Source

TRUSTED_TIERS = (1, 2)

# the kinds of fact, in the order they are reported, with the file each lives in
KB_KINDS: dict[str, str] = {
    "muscles": "muscles.yaml",
    "conditions": "conditions.yaml",
    "safety_items": "safety.yaml",
    "anatomical_regions": "safety.yaml",
    "measures": "measures.yaml",
}


@dataclass(frozen=True)
class Fact:
    """One cited entry: where it is, the sources it rests on and its confidence."""

    kind: str
    file: str
    entry: str
    sources: tuple[str, ...]
    confidence: str | None
    tier_note: str | None = None
    field: str = "sources"


def best_tier(source_ids: Iterable[str], sources: Mapping[str, Source]) -> int | None:
    """The best (lowest) tier among the cited sources that resolve; None when none resolves."""
    tiers = [sources[sid].tier for sid in source_ids if sid in sources]
    return min(tiers) if tiers else None


def kb_facts(tables: Mapping[str, Mapping[str, Any]]) -> list[Fact]:
    """The facts of the knowledge base, from its tables keyed by kind (``muscles``, ``conditions``...)."""
    facts: list[Fact] = []
    for kind, file in KB_KINDS.items():
        for entry_id, entry in tables.get(kind, {}).items():
            facts.append(
                Fact(
                    kind=kind,
                    file=file,
                    entry=entry_id,
                    sources=tuple(entry.sources),
                    confidence=entry.confidence,
                    tier_note=getattr(entry, "tier_note", None),
                )
            )
    return facts


def _guidance_nodes(node: Any, where: str) -> Iterator[tuple[str, BaseModel]]:
    """Every pydantic model under ``node`` with its location (``modifiers[older_age]``, ``heat.before``)."""
    if isinstance(node, BaseModel):
        yield where, node
        for name in type(node).model_fields:
            yield from _guidance_nodes(getattr(node, name), f"{where}.{name}" if where else name)
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            label = getattr(value, "id", index)
            yield from _guidance_nodes(value, f"{where}[{label}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _guidance_nodes(value, f"{where}[{key}]")


def guidance_facts(guidance: BaseModel) -> list[Fact]:
    """The cited entries of the assessment guidance (modifiers, heat, aftercare, care plan, drugs...).

    An entry counts when it has both ``sources`` and ``confidence``; entries marked
    ``clinical_reasoning`` without sources are left out (they cite nothing by design). The heat
    evidence note (``evidence_sources``, no confidence of its own) counts as one fact.
    """
    facts: list[Fact] = []
    for where, node in _guidance_nodes(guidance, ""):
        fields = type(node).model_fields
        top = where.split(".")[0].split("[")[0]
        if "sources" in fields and "confidence" in fields and node.sources:  # type: ignore[attr-defined]
            facts.append(
                Fact("guidance", f"guidance/{top}.yaml", where, tuple(node.sources), node.confidence)  # type: ignore[attr-defined]
            )
        if "evidence_sources" in fields:
            facts.append(
                Fact(
                    "guidance",
                    f"guidance/{top}.yaml",
                    where,
                    tuple(node.evidence_sources),  # type: ignore[attr-defined]
                    None,
                    field="evidence_sources",
                )
            )
    return facts


def tier_problems(facts: Iterable[Fact], sources: Mapping[str, Source]) -> list[tuple[str, str, str, str]]:
    """(file, entry, field, message) for each fact that rests only on tier-3 sources but claims more.

    Such a fact may carry at most ``low`` confidence; a safety item must also say why in ``tier_note``.
    Unknown source ids are ignored here (the loader reports them separately).
    """
    problems: list[tuple[str, str, str, str]] = []
    for fact in facts:
        if best_tier(fact.sources, sources) != 3:
            continue
        if fact.confidence not in (None, "low"):
            problems.append(
                (
                    fact.file,
                    fact.entry,
                    "confidence",
                    f"rests only on tier-3 sources ({', '.join(fact.sources)}) but has confidence "
                    f"{fact.confidence!r}; at most 'low' is allowed",
                )
            )
        if fact.kind == "safety_items" and not fact.tier_note:
            problems.append(
                (fact.file, fact.entry, "tier_note", "rests only on tier-3 sources: say why in tier_note")
            )
    return problems


def _share(facts: list[Fact], sources: Mapping[str, Source]) -> dict[str, Any]:
    trusted = [f for f in facts if best_tier(f.sources, sources) in TRUSTED_TIERS]
    return {
        "facts": len(facts),
        "tier_1_2": len(trusted),
        "share": round(len(trusted) / len(facts), 4) if facts else None,
        "only_tier_3": sorted(f.entry for f in facts if f not in trusted),
    }


def tier_shares(kb: Any, guidance: BaseModel | None = None) -> dict[str, Any]:
    """Per kind of fact and overall: how many facts rest on at least one tier 1-2 source.

    ``kb`` is a loaded :class:`~dryneedling.knowledge.load.KnowledgeBase`; ``guidance`` the loaded
    assessment guidance (left out when None). Returns ``{"kinds": {kind: {...}}, "overall": {...},
    "sources": {tier: count}}``; each entry has ``facts``, ``tier_1_2``, ``share`` (0-1) and
    ``only_tier_3`` (the ids resting only on tier-3 sources).
    """
    tables = {kind: getattr(kb, kind) for kind in KB_KINDS}
    facts = kb_facts(tables) + (guidance_facts(guidance) if guidance is not None else [])
    kinds = {
        kind: _share([f for f in facts if f.kind == kind], kb.sources)
        for kind in dict.fromkeys(f.kind for f in facts)
    }
    overall = _share(facts, kb.sources)
    overall.pop("only_tier_3")
    counts = {tier: sum(1 for s in kb.sources.values() if s.tier == tier) for tier in (1, 2, 3)}
    return {"kinds": kinds, "overall": overall, "sources": counts}
