"""An episode's progress on one measure: baseline, latest, change, the MCID that applies, reached or not.

Which MCID: the first usable one (numeric, on a verified scale) of the measure's variant whose population
names the episode's condition (``conditions`` in measures.yaml); without such a value, the first usable one
listed, and the answer says it is not specific to the condition. Change is latest minus baseline; the
improvement is that change signed by the measure's direction (a fall is better when higher is worse).
The change reaches the MCID when the improvement is at least the MCID.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from dryneedling.knowledge.models import Mcid, Measure


@dataclass(frozen=True)
class ChosenMcid:
    """The MCID applied to a change, with where it comes from and whether it fits the condition."""

    value: float
    context: str
    source: str
    specific: bool

    def describe(self) -> str:
        fit = "" if self.specific else "; not specific to this condition"
        return f"{self.value:g} points ({self.context}; {self.source}{fit})"


def choose_mcid(measure: Measure, condition: str | None, variant: str | None = None) -> ChosenMcid | None:
    """The MCID that applies to an episode of ``condition`` (see the module docstring); None when none does."""
    # Measure.usable_mcids, spelled out: the computed field costs a model round trip per access.
    usable: list[Mcid] = [
        m for m in measure.mcid if m.value is not None and m.scale_verified and m.variant in (None, variant)
    ]
    if variant is not None and any(m.variant == variant for m in usable):
        usable = [m for m in usable if m.variant == variant]
    if not usable:
        return None
    matching = [m for m in usable if condition is not None and condition in m.conditions]
    chosen = (matching or usable)[0]
    assert chosen.value is not None  # usable means numeric
    return ChosenMcid(chosen.value, chosen.context, chosen.source, specific=bool(matching))


def improvement(measure: Measure, change: float) -> float:
    """``change`` (latest - baseline) turned so that a positive number is always better."""
    return -change if measure.direction == "higher_worse" else change


def reached(measure: Measure, change: float, mcid: float | None) -> bool | None:
    """True when the improvement is at least the MCID; None when no MCID applies."""
    if mcid is None:
        return None
    return improvement(measure, change) >= mcid - 1e-9  # scores are stored rounded to 4 places


@dataclass(frozen=True)
class Point:
    day: date
    score: float


@dataclass(frozen=True)
class MeasureProgress:
    measure: str
    name: str
    variant: str | None
    direction: str
    points: tuple[Point, ...]
    baseline: float
    latest: float
    change: float
    mcid: ChosenMcid | None
    reached: bool | None
    mcid_note: str | None
    sentence: str

    def as_dict(self) -> dict:
        return {
            "measure": self.measure,
            "variant": self.variant,
            "name": self.name,
            "direction": self.direction,
            "baseline": self.baseline,
            "latest": self.latest,
            "change": self.change,
            "mcid": None
            if self.mcid is None
            else {
                "value": self.mcid.value,
                "population": self.mcid.context,
                "source": self.mcid.source,
                "specific_to_condition": self.mcid.specific,
            },
            "reached": self.reached,
            "sentence": self.sentence,
            "points": [{"date": p.day.isoformat(), "score": p.score} for p in self.points],
        }


def _sentence(measure: Measure, change: float, mcid: ChosenMcid | None, reached_it: bool | None) -> str:
    better = improvement(measure, change)
    way = "better" if better > 0 else "worse" if better < 0 else "no change"
    size = f"{abs(change):g} point{'' if abs(change) == 1 else 's'}"
    if mcid is None:
        return f"The change of {size} ({way}) has no minimal important change to be held against."
    verb = "reached" if reached_it else "did not reach"
    population = mcid.context.split(";")[0].split(" (")[0]
    return (
        f"The change of {size} ({way}) {verb} the minimal important change of {mcid.value:g} "
        f"({mcid.source}: {population})."
    )


def measure_progress(
    measure: Measure, points: Sequence[Point], condition: str | None, variant: str | None = None
) -> MeasureProgress:
    """Progress over ``points`` (any order; the earliest is the baseline, the latest the last one)."""
    ordered = tuple(sorted(points, key=lambda p: p.day))
    if not ordered:
        raise ValueError("no scores")
    baseline, latest = ordered[0].score, ordered[-1].score
    change = round(latest - baseline, 4)
    mcid = choose_mcid(measure, condition, variant)
    reached_it = reached(measure, change, mcid.value if mcid else None) if len(ordered) > 1 else None
    sentence = (
        _sentence(measure, change, mcid, reached_it)
        if len(ordered) > 1
        else "Only the baseline is recorded so far; record another score to see the change."
    )
    return MeasureProgress(
        measure=measure.id,
        name=measure.name,
        variant=variant,
        direction=measure.direction,
        points=ordered,
        baseline=baseline,
        latest=latest,
        change=change,
        mcid=mcid,
        reached=reached_it,
        mcid_note=measure.mcid_note,
        sentence=sentence,
    )
