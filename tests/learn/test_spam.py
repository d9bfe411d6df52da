"""The local spam filter: each check alone, and precision and recall on the labelled made-up questions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dryneedling.questions.model import Question, QuestionForm
from dryneedling.questions.spam import (
    FormClock,
    NaiveBayes,
    RateLimiter,
    SpamFilter,
    SpamSettings,
    pattern_score,
)

QUESTIONS = yaml.safe_load((Path(__file__).parents[1] / "data" / "questions.yaml").read_text())["questions"]
SECRET = b"test-secret-0123456789"
FOLDS = 4
PRECISION_FLOOR = 0.9
RECALL_FLOOR = 0.85


def _filter(**settings) -> SpamFilter:
    return SpamFilter(FormClock(SECRET), SpamSettings(**settings))


def test_it_has_a_labelled_set_of_at_least_60_mixed_questions():
    assert len(QUESTIONS) >= 60
    spam = sum(q["spam"] for q in QUESTIONS)
    assert 20 <= spam <= len(QUESTIONS) - 20


def test_it_blocks_a_filled_honeypot():
    spam_filter = _filter()
    token = spam_filter.clock.issue(1000.0)
    verdict = spam_filter.check("How long does soreness last?", "http://x.top", token, "1.2.3.4", 1060.0)
    assert verdict.blocked and verdict.spam and "honeypot" in verdict.reasons[0]


def test_it_blocks_a_form_filled_faster_than_a_person_can_type():
    spam_filter = _filter(min_seconds_to_fill=4)
    token = spam_filter.clock.issue(1000.0)
    assert spam_filter.check("How long does soreness last?", "", token, "1.2.3.4", 1001.0).blocked
    assert not spam_filter.check("How long does soreness last?", "", token, "1.2.3.4", 1030.0).blocked


@pytest.mark.parametrize("token", ["", "123.456", "1000.000.deadbeef", "abc"])
def test_it_blocks_a_missing_or_forged_form_token(token):
    assert _filter().check("How long does soreness last?", "", token, "1.2.3.4", 2000.0).blocked


def test_it_blocks_a_token_signed_with_another_secret():
    other = FormClock(b"another-secret-987654321").issue(1000.0)
    assert _filter().check("How long does soreness last?", "", other, "1.2.3.4", 1060.0).blocked


def test_it_rate_limits_each_address_with_its_own_bucket_and_refills_over_time():
    limiter = RateLimiter(capacity=3, refill_per_second=1 / 60)
    assert [limiter.allow("a", 0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b", 0.0)  # another address has its own bucket
    assert not limiter.allow("a", 30.0)
    assert limiter.allow("a", 61.0)  # one token back after a minute


def test_it_keeps_rate_limits_in_the_object_that_owns_them():
    first, second = _filter(), _filter()
    token = first.clock.issue(0.0)
    for _ in range(3):
        first.check("How long does soreness last after needling?", "", token, "9.9.9.9", 10.0)
    assert first.check("How long does soreness last after needling?", "", token, "9.9.9.9", 10.0).blocked
    assert not second.check("How long does soreness last after needling?", "", token, "9.9.9.9", 10.0).blocked


def test_it_forgets_refilled_addresses_when_the_table_is_full():
    limiter = RateLimiter(capacity=1, refill_per_second=1.0, max_addresses=2)
    limiter.allow("a", 0.0)
    limiter.allow("b", 0.0)
    assert limiter.allow("c", 100.0)
    assert len(limiter._buckets) <= 2


def test_it_scores_links_contact_details_and_marketing_words():
    clean, _ = pattern_score("How long does the soreness last after needling my neck?")
    spammy, reasons = pattern_score("Buy cheap pills at www.pills.shop, call +44 7700 900123")
    assert clean == 0
    assert spammy >= 0.9 and any("link" in r for r in reasons) and any("contact" in r for r in reasons)


def test_it_learns_from_approve_and_reject_decisions():
    classifier = NaiveBayes()
    assert classifier.probability("gummies gummies") == 0.5  # no opinion before any decision
    spam_filter = SpamFilter(FormClock(SECRET), classifier=classifier)
    spam_filter.learn("Tasty gummies for sale, best gummies", approved=False)
    spam_filter.learn("How long will my neck be sore after needling?", approved=True)
    assert classifier.probability("gummies for sale") > 0.8
    assert classifier.probability("is my neck sore after needling") < 0.2


def _cross_validated(questions: list[dict]) -> tuple[int, int, int, int]:
    """4-fold cross-validation: train on three folds' decisions, judge the fourth. Returns tp, fp, fn, tn."""
    tp = fp = fn = tn = 0
    for fold in range(FOLDS):
        spam_filter = _filter()
        spam_filter.learn_all(
            (q["text"], not q["spam"]) for i, q in enumerate(questions) if i % FOLDS != fold
        )
        for i, q in enumerate(questions):
            if i % FOLDS != fold:
                continue
            score, _ = spam_filter.score(q["text"])
            flagged = score >= spam_filter.settings.threshold
            tp += flagged and q["spam"]
            fp += flagged and not q["spam"]
            fn += (not flagged) and q["spam"]
            tn += (not flagged) and not q["spam"]
    return tp, fp, fn, tn


def test_it_reaches_the_precision_and_recall_floor_on_the_labelled_questions(capsys):
    tp, fp, fn, tn = _cross_validated(QUESTIONS)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    untrained = _filter()
    flagged = [untrained.score(q["text"])[0] >= untrained.settings.threshold for q in QUESTIONS]
    p0_tp = sum(f and q["spam"] for f, q in zip(flagged, QUESTIONS, strict=True))
    p0 = p0_tp / max(sum(flagged), 1)
    r0 = p0_tp / sum(q["spam"] for q in QUESTIONS)
    with capsys.disabled():
        print(
            f"\nspam filter on {len(QUESTIONS)} labelled questions ({FOLDS}-fold, trained on decisions): "
            f"precision {precision:.3f}, recall {recall:.3f} (tp {tp}, fp {fp}, fn {fn}, tn {tn}); "
            f"patterns alone, untrained: precision {p0:.3f}, recall {r0:.3f}"
        )
    assert precision >= PRECISION_FLOOR
    assert recall >= RECALL_FLOOR


def test_it_keeps_a_question_private_until_approved_with_an_answer():
    import datetime as dt

    now = dt.datetime(2026, 1, 1, 12, 0)
    question = Question(
        id="q1", clinic_id="c1", topic="safety", text="Is it safe to drive after?", submitted_at=now
    )
    assert not question.public
    with pytest.raises(ValueError):
        Question(**{**question.model_dump(), "status": "approved", "decided_by": "dr"})
    approved = question.approve("Most people drive home without trouble.", by="clinician-7", at=now)
    assert approved.public and approved.decided_by == "clinician-7"
    assert not question.reject(by="clinician-7", at=now).public


def test_it_refuses_unknown_fields_on_the_public_form():
    with pytest.raises(ValueError):
        QuestionForm(topic="safety", text="How long does it last?", phone="555 0100")
    # name and e-mail are optional fields of the form (the e-mail stays with the clinic); a bad e-mail is refused
    assert QuestionForm(topic="safety", text="How long does it last?", email="x@y.z").email == "x@y.z"
    with pytest.raises(ValueError):
        QuestionForm(topic="safety", text="How long does it last?", email="not an address")
