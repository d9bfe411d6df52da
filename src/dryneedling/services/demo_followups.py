"""The demo clinic's follow-up history: each signed visit with needling gets its follow-ups dated from the
visit day, most answered by the (synthetic) patient with soreness that settles from the first to the second
check, a few with events drawn at the knowledge base's per-treatment rates, the occasional red flag, and the
rest left pending (recent visits) or expired (older ones).

The draws are synthetic: they make the demo look like practice, they are not data. The answers go through
the same storage as real ones (:func:`dryneedling.services.followups.store_answers`), so alerts and event
drafts arise exactly as they would; older drafts are confirmed or dismissed by the treating clinician.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from dryneedling.catalog import Catalog
from dryneedling.records.entities import User, Visit
from dryneedling.records.followup import FollowUpAnswers
from dryneedling.records.repository import Store
from dryneedling.services.followups import (
    DecisionIn,
    decide_event,
    default_settings,
    followup_rules,
    store_answers,
)

ANSWERED_SHARE = 0.75  # share of due follow-ups the synthetic patients answer
RED_FLAG_SHARE = 0.004  # share of answers with breathlessness or chest pain (demo only, to show an alert)
DECIDE_AFTER_DAYS = 14  # drafts older than this have been confirmed or dismissed by the clinician


@dataclass
class DemoFollowUps:
    answered: int = 0
    pending: int = 0
    expired: int = 0
    events: int = 0


def _rate(catalog: Catalog, category: str) -> float:
    rates = next(c.rates for c in catalog.practice.adverse_events if c.id == category)
    return max(rates.values(), default=0.0) / 100


def _answers(rng: random.Random, catalog: Catalog, soreness: int) -> FollowUpAnswers:
    bleeding = "stopped" if rng.random() < _rate(catalog, "bleeding") else "none"
    return FollowUpAnswers(
        soreness=soreness,
        bruising=rng.random() < _rate(catalog, "bruising"),
        bleeding=bleeding,
        fainting=rng.random() < _rate(catalog, "drowsiness"),
        breathless_or_chest_pain=rng.random() < RED_FLAG_SHARE,
        numbness_or_weakness=False,
        worse_pain=rng.random() < _rate(catalog, "aggravation"),
        note=None,
    )


def add_history(
    store: Store, catalog: Catalog, clinician: User, visit: Visit, rng: random.Random, totals: DemoFollowUps
) -> None:
    """Date ``visit``'s follow-ups from its visit day and let the synthetic patient answer them."""
    rules = followup_rules(catalog)
    now = datetime.now(UTC)
    seen = datetime.combine(visit.visit_date, time(hour=rng.randint(8, 17)), tzinfo=UTC)
    if seen > now:
        seen = now - timedelta(hours=1)
    soreness = min(10, max(0, round(rng.gauss(3.5, 1.8))))
    decide: list = []
    with store.clinic(visit.clinic_id) as records:
        settings = records.followup_settings() or default_settings(rules, visit.clinic_id)  # type: ignore[attr-defined]
        for followup in records.followups_of(visit.id):  # type: ignore[attr-defined]
            due = seen + timedelta(hours=followup.hours_after)
            expires = due + timedelta(days=settings.link_days)
            records.reschedule_followup(followup.id, due, expires)  # type: ignore[attr-defined]
            answered_at = due + timedelta(hours=rng.uniform(0.5, 10))
            if answered_at < now and rng.random() < ANSWERED_SHARE:
                moved = followup.model_copy(update={"due_at": due, "expires_at": expires})
                stored = store_answers(records, rules, moved, _answers(rng, catalog, soreness), answered_at)
                if stored is not None:
                    totals.answered += 1
                    totals.events += len(stored[1])
                    if date.today() - visit.visit_date > timedelta(days=DECIDE_AFTER_DAYS):
                        decide.extend(stored[1])
                soreness = max(0, soreness - rng.randint(1, 3))  # soreness settles by the next check
            elif expires <= now:
                totals.expired += 1
            else:
                totals.pending += 1
    for event in decide:
        choice = "confirm" if rng.random() < 0.8 else "dismiss"
        decide_event(store, clinician, event.id, DecisionIn(decision=choice))
