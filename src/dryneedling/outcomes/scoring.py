"""A score of an outcome measure from what the clinician enters: a total, or item answers where allowed.

The rules come from the knowledge base (``measures.yaml``: range, variants and the ``entry`` rule). Items are
taken only where the entry rule shows them (the licence allows it and the item scoring is sourced); the
answers are numbers by position, never item text. Every refusal is an InputError naming the field and, where
there is a choice, the valid choices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dryneedling.errors import InputError
from dryneedling.knowledge.models import Measure

#: The most activities a patient-specific measure takes (an input limit, not a clinical rule).
MAX_NAMED_ITEMS = 20


@dataclass(frozen=True)
class Scored:
    """A checked score: ``score`` on the measure's scale, the item answers it came from (or None)."""

    measure: str
    variant: str | None
    score: float
    items: tuple[float, ...] | None


def recordable(measure: Measure) -> bool:
    """True when the records can take and check a score of ``measure``."""
    return measure.entry is not None and measure.entry.recordable


def scale(measure: Measure, variant: str | None = None) -> tuple[float | None, float | None]:
    """The lowest and highest valid score (None: open), for ``variant`` when the measure has variants."""
    if variant is not None:
        for option in measure.variants:
            if option.id == variant:
                return option.range
    if measure.range is not None:
        return measure.range
    entry = measure.entry
    return (entry.lowest, entry.highest) if entry else (None, None)


def check_variant(measure: Measure, variant: str | None) -> str | None:
    """The variant to record: required (and one of the measure's) when it has variants, else None."""
    choices = [option.id for option in measure.variants]
    if not choices:
        if variant is not None:
            raise InputError("variant", f"{measure.id} has no variants", value=variant)
        return None
    if variant is None:
        raise InputError("variant", f"{measure.id} needs one of its variants", choices=choices)
    if variant not in choices:
        raise InputError.unknown("variant", variant, choices, kind="variant")
    return variant


def _number(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(field, "must be a number", value=value)
    return float(value)


def _within(field: str, value: float, low: float | None, high: float | None, what: str) -> None:
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"{low:g} to {high:g}" if low is not None and high is not None else f"at least {low:g}"
        raise InputError(field, f"must be {span} ({what})", value=value)


def score_items(measure: Measure, items: list[float] | tuple[float, ...]) -> float:
    """The score from item answers by the measure's item rule (sum or mean); InputError when not allowed."""
    entry = measure.entry
    if entry is None or not entry.items_shown or entry.items is None:
        raise InputError(
            "items",
            f"{measure.id} is recorded as a total only: {entry.note if entry else 'no entry rule'}",
        )
    rule = entry.items
    answers = [_number(f"items.{i}", value) for i, value in enumerate(items)]
    if rule.count is not None and len(answers) != rule.count:
        raise InputError("items", f"{measure.id} has {rule.count} items; {len(answers)} were given")
    if rule.count is None and not 1 <= len(answers) <= MAX_NAMED_ITEMS:
        raise InputError("items", f"give 1 to {MAX_NAMED_ITEMS} activity ratings", value=len(answers))
    for i, value in enumerate(answers):
        _within(f"items.{i}", value, rule.min, rule.max, f"each {measure.id} item")
    total = sum(answers)
    return total / len(answers) if rule.total == "mean" else total


def score(
    measure: Measure,
    total: float | None = None,
    items: list[float] | tuple[float, ...] | None = None,
    variant: str | None = None,
) -> Scored:
    """Check a total or score the items of ``measure`` (exactly one of them); InputError naming the field."""
    if not recordable(measure):
        raise InputError(
            "measure", f"{measure.id} cannot be recorded: {measure.entry.note if measure.entry else ''}"
        )
    variant = check_variant(measure, variant)
    if (total is None) == (items is None):
        raise InputError("score", "give either score (a total) or items (the answers), not both or neither")
    low, high = scale(measure, variant)
    if items is not None:
        value = score_items(measure, items)
        kept: tuple[float, ...] | None = tuple(float(v) for v in items)
    else:
        value = _number("score", total)
        kept = None
    _within("score", value, low, high, f"the {measure.id} range")
    return Scored(measure=measure.id, variant=variant, score=round(value, 4), items=kept)
