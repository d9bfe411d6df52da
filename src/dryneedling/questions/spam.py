"""A local spam filter for readers' questions: no third-party service, nothing sent anywhere.

Five checks, cheapest first (:meth:`SpamFilter.check`):

1. **Honeypot**: a hidden ``website`` field only robots fill.
2. **Minimum time to fill**: the form carries a signed token with the time it was shown
   (:class:`FormClock`); a question posted faster than a person can type is refused.
3. **Rate limit per address**: a token bucket per client address (:class:`RateLimiter`). The limiter is an
   object the app owns (``app.state``), not a module global, so tests and workers each get their own.
4. **Link and pattern score** (:func:`pattern_score`): links, e-mail addresses, shouting, money and
   marketing words, repeated characters.
5. **Naive Bayes** (:class:`NaiveBayes`): a small multinomial classifier that learns from the clinic's own
   approve / reject decisions (:meth:`SpamFilter.learn`).

Checks 1-3 refuse outright; 4 and 5 give a score in [0, 1], and a question at or above the threshold is
held as probable spam (the moderator still sees it, marked). The settings are not clinical facts: they tune
a filter and live in :class:`SpamSettings`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

WORD = re.compile(r"[a-z][a-z']+")
URL = re.compile(
    r"(https?://|www\.|\b[a-z0-9-]+\.(com|net|org|io|ru|xyz|biz|info|shop|top|site|online)\b)", re.I
)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")
PHONE = re.compile(r"(\+?\d[\d\s().-]{8,}\d)")
REPEATS = re.compile(r"(.)\1{4,}")
MARKETING = (
    "buy",
    "cheap",
    "discount",
    "offer",
    "promo",
    "casino",
    "bet",
    "betting",
    "crypto",
    "bitcoin",
    "forex",
    "investment",
    "profit",
    "earn",
    "income",
    "loan",
    "seo",
    "backlinks",
    "ranking",
    "traffic",
    "viagra",
    "cialis",
    "pills",
    "pharmacy",
    "prescription-free",
    "replica",
    "followers",
    "subscribe",
    "click",
    "winner",
    "free",
    "guaranteed",
    "limited",
    "deal",
    "whatsapp",
    "telegram",
    "dm",
    "porn",
    "dating",
)


@dataclass(frozen=True)
class SpamSettings:
    """Filter settings (tuning, not clinical facts)."""

    min_seconds_to_fill: float = 4.0
    max_form_age_seconds: float = 6 * 3600
    bucket_capacity: float = 3.0  # questions in a burst from one address
    refill_per_second: float = 3.0 / 3600  # three more per hour
    threshold: float = 0.5  # combined score at or above which a question is held as probable spam
    pattern_weight: float = 0.5  # share of the pattern score in the combined score (rest: classifier)


@dataclass(frozen=True)
class Verdict:
    """The filter's answer: refused outright (``blocked``), held as probable spam, or passed to moderation."""

    blocked: bool
    spam: bool
    score: float
    reasons: tuple[str, ...]


class FormClock:
    """Signs the time a form was shown, so the time to fill can be checked without any storage."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the form clock needs a secret of at least 16 bytes")
        self._secret = secret

    def _sign(self, stamp: str) -> str:
        return hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, now: float) -> str:
        stamp = f"{now:.3f}"
        return f"{stamp}.{self._sign(stamp)}"

    def elapsed(self, token: str, now: float) -> float | None:
        """Seconds since the token was issued; None for a missing, forged or malformed token."""
        stamp, _, signature = token.rpartition(".")
        if not stamp or not hmac.compare_digest(self._sign(stamp), signature):
            return None
        try:
            return now - float(stamp)
        except ValueError:
            return None


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per client address, kept in memory by the object that owns it (e.g. app.state)."""

    def __init__(self, capacity: float, refill_per_second: float, max_addresses: int = 10_000) -> None:
        self.capacity = capacity
        self.refill = refill_per_second
        self.max_addresses = max_addresses
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, address: str, now: float) -> bool:
        """Take one token for ``address``; False when its bucket is empty."""
        bucket = self._buckets.get(address)
        if bucket is None:
            if len(self._buckets) >= self.max_addresses:
                self._forget_full(now)
            bucket = self._buckets[address] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.refill)
        bucket.updated = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled completely (they carry no information any more)."""
        for address, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * self.refill >= self.capacity:
                del self._buckets[address]
        if len(self._buckets) >= self.max_addresses:  # still full: forget the oldest
            oldest = min(self._buckets, key=lambda a: self._buckets[a].updated)
            del self._buckets[oldest]


def tokens(text: str) -> list[str]:
    """Lower-case words, plus marker tokens for links, e-mails and phone numbers."""
    lowered = text.lower()
    words = WORD.findall(URL.sub(" ", EMAIL.sub(" ", lowered)))
    words += ["__url__"] * len(URL.findall(text)) + ["__email__"] * len(EMAIL.findall(text))
    words += ["__phone__"] * len(PHONE.findall(text))
    return words


def pattern_score(text: str) -> tuple[float, list[str]]:
    """A score in [0, 1] from links, contact details, shouting, marketing words and repeated characters."""
    reasons: list[str] = []
    points = 0.0
    links = len(URL.findall(text))
    if links:
        points += 0.5 + 0.25 * (links - 1)
        reasons.append(f"{links} link(s)")
    if EMAIL.search(text) or PHONE.search(text):
        points += 0.4
        reasons.append("contact details")
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 20 and sum(c.isupper() for c in letters) / len(letters) > 0.5:
        points += 0.3
        reasons.append("mostly capitals")
    words = WORD.findall(text.lower())
    hits = sorted({w for w in words if w in MARKETING})
    if hits:
        points += min(0.15 * len(hits), 0.6)
        reasons.append("marketing words: " + ", ".join(hits))
    if REPEATS.search(text):
        points += 0.2
        reasons.append("repeated characters")
    if text.count("!") >= 3:
        points += 0.2
        reasons.append("many exclamation marks")
    return min(points, 1.0), reasons


@dataclass
class NaiveBayes:
    """Multinomial naive Bayes over words with Laplace smoothing, trained on approve/reject decisions."""

    counts: dict[bool, Counter] = field(default_factory=lambda: {True: Counter(), False: Counter()})
    documents: dict[bool, int] = field(default_factory=lambda: {True: 0, False: 0})

    def learn(self, text: str, spam: bool) -> None:
        self.counts[spam].update(tokens(text))
        self.documents[spam] += 1

    def trained(self) -> bool:
        return self.documents[True] > 0 and self.documents[False] > 0

    def probability(self, text: str) -> float:
        """P(spam | words); 0.5 (no opinion) until it has seen at least one of each."""
        if not self.trained():
            return 0.5
        vocabulary = set(self.counts[True]) | set(self.counts[False])
        total = self.documents[True] + self.documents[False]
        log = {}
        for label in (True, False):
            denominator = sum(self.counts[label].values()) + len(vocabulary)
            log[label] = math.log(self.documents[label] / total) + sum(
                math.log((self.counts[label][word] + 1) / denominator)
                for word in tokens(text)
                if word in vocabulary
            )
        difference = max(min(log[False] - log[True], 700.0), -700.0)
        return 1.0 / (1.0 + math.exp(difference))


class SpamFilter:
    """Honeypot, time to fill, rate limit, pattern score and classifier together (see the module docstring)."""

    def __init__(
        self,
        clock: FormClock,
        settings: SpamSettings | None = None,
        classifier: NaiveBayes | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings or SpamSettings()
        self.clock = clock
        self.classifier = classifier or NaiveBayes()
        self.limiter = limiter or RateLimiter(self.settings.bucket_capacity, self.settings.refill_per_second)

    def score(self, text: str) -> tuple[float, list[str]]:
        """The content score in [0, 1] (pattern score and classifier, weighted) and its reasons."""
        pattern, reasons = pattern_score(text)
        weight = self.settings.pattern_weight if self.classifier.trained() else 1.0
        bayes = self.classifier.probability(text)
        if self.classifier.trained():
            reasons.append(f"classifier {bayes:.2f}")
        return weight * pattern + (1 - weight) * bayes, reasons

    def check(self, text: str, website: str, form_token: str, address: str, now: float) -> Verdict:
        """Judge one posted question (``now`` in seconds, the clock the form token was issued with)."""
        if website.strip():
            return Verdict(True, True, 1.0, ("honeypot field filled",))
        elapsed = self.clock.elapsed(form_token, now)
        if elapsed is None:
            return Verdict(True, True, 1.0, ("missing or altered form token",))
        if elapsed < self.settings.min_seconds_to_fill:
            return Verdict(True, True, 1.0, (f"filled in {elapsed:.1f} s",))
        if elapsed > self.settings.max_form_age_seconds:
            return Verdict(True, False, 0.0, ("form too old: reload the page",))
        if not self.limiter.allow(address, now):
            return Verdict(True, False, 0.0, ("too many questions from this address: try again later",))
        score, reasons = self.score(text)
        return Verdict(False, score >= self.settings.threshold, round(score, 3), tuple(reasons))

    def learn(self, text: str, approved: bool) -> None:
        """Train on a moderator's decision: an approved question is not spam, a rejected one is."""
        self.classifier.learn(text, spam=not approved)

    def learn_all(self, decisions: Iterable[tuple[str, bool]]) -> None:
        for text, approved in decisions:
            self.learn(text, approved)
