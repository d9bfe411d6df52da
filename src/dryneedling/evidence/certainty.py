"""GRADE-style certainty of a pooled estimate, the plain strength word, and the patient wording it allows.

Three ideas, each in one place:

* ``rate_certainty`` - our own check. Randomised evidence starts high and is rated down per GRADE domain
  (risk of bias, inconsistency, imprecision, indirectness, publication bias). Every step down is a
  structured ``Downgrade`` (domain, levels, reason); a domain we cannot judge because an input is
  missing is listed in ``not_assessed`` instead of being guessed. Thresholds come from
  ``data/grade_rules.yaml`` with their sources.
* ``reported_certainty`` - what we show: the review's own published GRADE rating where there is one
  ("as rated by the review"); otherwise "not rated". Our check is shown beside it, never instead of it.
* ``strength_for`` / ``patient_sentence`` - the single rule from certainty to Moderate / Emerging /
  Limited, and the patient wording allowed at each strength (also in grade_rules.yaml).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from dryneedling.evidence.readable import Readable
from dryneedling.evidence.rules import GradeRules, Strength, WordingKind

Level = Literal["high", "moderate", "low", "very_low"]
Domain = Literal["risk_of_bias", "inconsistency", "imprecision", "indirectness", "publication_bias"]


class Downgrade(BaseModel):
    """One step down in certainty: which GRADE domain, by how many levels, and why."""

    model_config = ConfigDict(frozen=True)

    domain: Domain
    levels: int = Field(ge=1, le=2)
    reason: str


class CertaintyInputs(BaseModel):
    """What our check needs about one pooled estimate. Leave a field None when it was not reported."""

    model_config = ConfigDict(frozen=True)

    design: Literal["rct"] = "rct"
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    null_value: float = 0.0
    outcome_type: Literal["continuous", "binary"] = "continuous"
    k: int | None = None
    n: int | None = None
    i2: float | None = None
    pi_low: float | None = None
    pi_high: float | None = None
    mcid: float | None = Field(
        default=None, gt=0, description="smallest important difference, same units as CI"
    )
    mcid_label: str | None = None
    dn_specific: bool = True
    # Judgements the review itself stated (not_serious / serious / very_serious), by GRADE domain.
    review_judgements: dict[str, str] = Field(default_factory=dict)


#: The domains our check can only judge from what a review reports (indirectness is a property of the
#: question - does it pool acupuncture? - and is always judged).
REPORTED_DOMAINS: tuple[Domain, ...] = ("risk_of_bias", "inconsistency", "imprecision", "publication_bias")


class CertaintyCheck(Readable):
    """Our own GRADE-style rating: start level, each downgrade, and the domains we could not judge.

    ``unassessed_domains`` lists each GRADE domain with at least one check we could not make. When no
    domain that needs reported inputs could be judged and nothing was rated down, the check found nothing:
    it is *not assessable*, and its ``level`` (the start level) must not be read as a rating.
    """

    start: Level
    level: Level
    downgrades: list[Downgrade]
    not_assessed: list[str]
    unassessed_domains: list[Domain] = Field(default_factory=list)

    @computed_field
    @property
    def complete(self) -> bool:
        """True when every domain could be judged; otherwise ``level`` is only an upper bound."""
        return not self.not_assessed

    @computed_field
    @property
    def assessable(self) -> bool:
        """False when nothing could be checked: no downgrade, and no domain needing reported data judged."""
        if self.downgrades or self.complete:
            return True
        return not set(REPORTED_DOMAINS) <= set(self.unassessed_domains)

    def describe(self) -> str:
        """The level in words: 'not assessable' when nothing could be checked, 'at most' when some could."""
        level = self.level.replace("_", " ")
        if self.complete:
            return level
        count = len(self.not_assessed)
        checks = "check" if count == 1 else "checks"
        if not self.assessable:
            return "not assessable (inputs not reported)"
        return f"at most {level} ({count} {checks} not possible: inputs not reported)"

    @computed_field
    @property
    def summary(self) -> str:
        """``describe()`` as a field, so JSON consumers get the same words."""
        return self.describe()

    @computed_field
    @property
    def reasons(self) -> list[str]:
        """Human-readable lines, downgrades first, then what could not be assessed."""
        lines = [f"{d.domain.replace('_', ' ')} -{d.levels}: {d.reason}" for d in self.downgrades]
        return lines + [f"not assessed - {item}" for item in self.not_assessed]


def _levels(rules: GradeRules) -> list[str]:
    return list(rules.certainty.levels)


def _judged(inputs: CertaintyInputs, domain: str, rules: GradeRules) -> int:
    level = inputs.review_judgements.get(domain)
    return int(rules.certainty.judgement_levels[level]) if level else 0


def _risk_of_bias(
    inputs: CertaintyInputs, rules: GradeRules, down: list[Downgrade], missing: list[str]
) -> None:
    judged = _judged(inputs, "risk_of_bias", rules)
    if "risk_of_bias" not in inputs.review_judgements:
        missing.append("risk of bias: not reported for this estimate")
    elif judged:
        level = inputs.review_judgements["risk_of_bias"].replace("_", " ")
        down.append(Downgrade(domain="risk_of_bias", levels=judged, reason=f"the review judged it {level}"))


def _inconsistency(
    inputs: CertaintyInputs, rules: GradeRules, down: list[Downgrade], missing: list[str]
) -> None:
    cfg = rules.certainty.inconsistency
    if inputs.k == 1:
        missing.append("inconsistency: a single study, so there is nothing to be inconsistent with")
        return
    levels, why = 0, []
    if inputs.i2 is not None:
        if inputs.i2 >= cfg.i2_very_serious:
            levels, why = 2, [f"I2 {inputs.i2:g}% >= {cfg.i2_very_serious}%"]
        elif inputs.i2 >= cfg.i2_serious:
            levels, why = 1, [f"I2 {inputs.i2:g}% >= {cfg.i2_serious}%"]
    if inputs.pi_low is not None and inputs.pi_high is not None:
        pi_crosses = inputs.pi_low <= inputs.null_value <= inputs.pi_high
        ci_crosses = (
            inputs.ci_low is not None
            and inputs.ci_high is not None
            and inputs.ci_low <= inputs.null_value <= inputs.ci_high
        )
        if pi_crosses and not ci_crosses:
            levels = max(levels, int(cfg.prediction_interval_crossing_null))
            why.append(f"prediction interval [{inputs.pi_low:g}, {inputs.pi_high:g}] includes no effect")
    judged = _judged(inputs, "inconsistency", rules)
    if judged > levels:
        levels = judged
        why.append("the review rated down for heterogeneity")
    if inputs.i2 is None and inputs.pi_low is None and "inconsistency" not in inputs.review_judgements:
        missing.append("inconsistency: I2 and prediction interval not reported")
        return
    levels = min(levels, int(cfg.max_levels))
    if levels:
        down.append(Downgrade(domain="inconsistency", levels=levels, reason="; ".join(why)))


def _crosses(low: float, high: float, point: float) -> bool:
    return low < point < high


def _imprecision(
    inputs: CertaintyInputs, rules: GradeRules, down: list[Downgrade], missing: list[str]
) -> None:
    cfg = rules.certainty.imprecision
    levels, why = 0, []
    if inputs.ci_low is None or inputs.ci_high is None:
        missing.append("imprecision: no confidence interval")
    else:
        low, high, null = inputs.ci_low, inputs.ci_high, inputs.null_value
        if low <= null <= high:
            levels += int(cfg.ci_crossing_null)
            why.append(f"95% CI [{low:g}, {high:g}] includes no effect ({null:g})")
        if inputs.mcid is None:
            missing.append("imprecision against an important difference: no MCID on this scale")
        else:
            centre = inputs.estimate if inputs.estimate is not None else (low + high) / 2
            side = -1.0 if centre < null else 1.0
            threshold = null + side * inputs.mcid
            if _crosses(low, high, threshold):
                levels += int(cfg.ci_crossing_mcid)
                label = inputs.mcid_label or f"MCID {inputs.mcid:g}"
                why.append(f"95% CI [{low:g}, {high:g}] spans the smallest important difference ({label})")
    if inputs.outcome_type != "continuous":
        missing.append("optimal information size: needs event counts for a binary outcome")
    elif inputs.n is None:
        missing.append("optimal information size: total participants not reported")
    elif inputs.n < cfg.ois_continuous:
        levels += 1
        why.append(f"{inputs.n} participants, below the optimal information size of {cfg.ois_continuous}")
    judged = _judged(inputs, "imprecision", rules)
    if judged > levels:
        levels = judged
        why.append("the review rated down for imprecision")
    levels = min(levels, int(cfg.max_levels))
    if levels:
        down.append(Downgrade(domain="imprecision", levels=levels, reason="; ".join(why)))


def _indirectness(inputs: CertaintyInputs, rules: GradeRules, down: list[Downgrade]) -> None:
    levels, why = 0, []
    if not inputs.dn_specific:
        levels = int(rules.certainty.indirectness.not_dn_specific)
        why.append("pools acupuncture with dry needling, so it does not answer the dry needling question")
    judged = _judged(inputs, "indirectness", rules)
    if judged > levels:
        levels = judged
        why.append("the review rated down for indirectness")
    if levels:
        cap = int(rules.certainty.indirectness.max_levels)
        down.append(Downgrade(domain="indirectness", levels=min(levels, cap), reason="; ".join(why)))


def _publication_bias(
    inputs: CertaintyInputs, rules: GradeRules, down: list[Downgrade], missing: list[str]
) -> None:
    judged = _judged(inputs, "publication_bias", rules)
    if "publication_bias" in inputs.review_judgements:
        if judged:
            down.append(Downgrade(domain="publication_bias", levels=judged, reason="the review suspected it"))
        return
    minimum = rules.certainty.publication_bias.min_studies_for_test
    if inputs.k is not None and inputs.k < minimum:
        missing.append(f"publication bias: {inputs.k} studies, fewer than the {minimum} a funnel test needs")
    else:
        missing.append("publication bias: not reported for this estimate")


def rate_certainty(inputs: CertaintyInputs, rules: GradeRules) -> CertaintyCheck:
    """Our GRADE-style check of one pooled estimate (see module docstring)."""
    levels = _levels(rules)
    start = rules.certainty.start[inputs.design]
    down: list[Downgrade] = []
    missing: list[str] = []
    unassessed: list[Domain] = []
    for domain, judge in (
        ("risk_of_bias", _risk_of_bias),
        ("inconsistency", _inconsistency),
        ("imprecision", _imprecision),
        ("publication_bias", _publication_bias),
    ):
        before = len(missing)
        judge(inputs, rules, down, missing)
        if len(missing) > before:
            unassessed.append(domain)
    _indirectness(inputs, rules, down)
    final = max(0, levels.index(start) - sum(d.levels for d in down))
    return CertaintyCheck(
        start=start, level=levels[final], downgrades=down, not_assessed=missing, unassessed_domains=unassessed
    )


def reported_certainty(published: str | None, rules: GradeRules) -> tuple[Level | None, str]:
    """The certainty we report and how we got it: the review's own rating, or None (not rated).

    A published range counts at its lower end so we never claim more than the review did.
    """
    if not published:
        return None, "not rated by the review (no per-outcome GRADE rating visible)"
    levels = _levels(rules)
    if published in levels:
        return published, "as rated by the review"
    lower = rules.certainty.published_aliases.get(published)
    if lower is None:
        raise ValueError(f"unknown published certainty {published!r}")
    return lower, f"as rated by the review ({published.replace('_', ' ')}; lower end used)"


def strength_for(certainty: Level | None, rules: GradeRules) -> Strength:
    """The plain strength word for a reported certainty: the one rule in grade_rules.yaml."""
    return rules.strength.by_certainty[certainty or "not_rated"]


def forbidden_words(strength: Strength, rules: GradeRules) -> list[str]:
    """Words and phrases patient text at this strength may not contain."""
    cfg = rules.strength
    return list(cfg.forbidden_always) + list(cfg.forbidden_by_strength.get(strength, []))


def check_patient_text(text: str, strength: Strength, rules: GradeRules) -> None:
    """Raise ValueError when patient text claims more than its strength allows."""
    lowered = text.lower()
    words = forbidden_words(strength, rules)
    # One search for all the words (``re`` keeps the compiled pattern), then, only when one is there,
    # the first in the rules' order for the message: the same answer as testing the words one by one.
    anyword = "|".join(re.escape(word.lower()) for word in words)
    if not words or not re.search(rf"\b(?:{anyword})\b", lowered):
        return
    for word in words:
        if re.search(rf"\b{re.escape(word.lower())}\b", lowered):
            raise ValueError(f"patient text at strength {strength} may not say {word!r}: {text!r}")


def patient_sentence(strength: Strength, kind: WordingKind, rules: GradeRules, **fields: str) -> str:
    """Fill the patient wording allowed at ``strength`` and check it against the forbidden words."""
    template = getattr(rules.strength.wording[strength], kind)
    comparator = fields.get("comparator", "")
    who = fields.get("who", "Dry needling")
    values = {
        **fields,
        "who": who,
        "who_lower": who[:1].lower() + who[1:],
        "comparator_cap": comparator[:1].upper() + comparator[1:],
    }
    text = template.format(**values)
    check_patient_text(text, strength, rules)
    return text
