"""Read medicines as people write them against the cited vocabulary (``guidance/medications.yaml``).

Pure functions over the guidance data. An entry is a string ("Eliquis 5 mg twice daily", "stopped
warfarin 2019") or a :class:`~dryneedling.assessment.profile.MedicationEntry`. Reading folds case,
spacing, hyphens and (R)/(TM) marks, splits "warfarin5mg" into name and dose, and matches known names as
whole words. The words that say a medicine was stopped or is uncertain come from the YAML. A near miss
("asprin") is reported as a suggestion and is never treated as recognised, because a wrong guess would
put a drug into the record that the person never named.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from dryneedling.assessment.models import MedicationFinding
from dryneedling.assessment.profile import MedicationEntry
from dryneedling.knowledge.guidance import Drug, DrugClass, Guidance

_MARKS = re.compile(r"[®™©]|\((?:r|tm|c)\)", re.IGNORECASE)
_TOKEN = re.compile(r"[a-z]+|\d+(?:[.,]\d+)?")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


def tokens(text: str) -> tuple[str, ...]:
    """Lower-case words and numbers of ``text``; letters and digits are split ("warfarin5mg")."""
    text = _MARKS.sub(" ", text.lower())
    return tuple(_TOKEN.findall(text))


def name_key(name: str) -> str:
    """The folded form of a name: its tokens joined by single spaces."""
    return " ".join(tokens(name))


@dataclass(frozen=True)
class _Vocabulary:
    by_tokens: dict[tuple[str, ...], tuple[Drug, DrugClass]]
    longest: int
    names: tuple[tuple[str, str, Drug, DrugClass], ...]  # (folded key, display name, drug, class)


def _vocabulary(guidance: Guidance) -> _Vocabulary:
    # Built once per guidance object and kept on it (Guidance.derived), never in a module global.
    return guidance.derived("medicine_vocabulary", _build_vocabulary)


def _build_vocabulary(guidance: Guidance) -> _Vocabulary:
    by_tokens: dict[tuple[str, ...], tuple[Drug, DrugClass]] = {}
    names: list[tuple[str, str, Drug, DrugClass]] = []
    for klass in guidance.medications.classes:
        for drug in klass.drugs:
            for name in drug.all_names():
                key = tokens(name)
                by_tokens.setdefault(key, (drug, klass))
                names.append((" ".join(key), name, drug, klass))
    return _Vocabulary(by_tokens, max(len(k) for k in by_tokens), tuple(names))


def _find_phrase(haystack: tuple[str, ...], phrase: tuple[str, ...]) -> int:
    """Start index of ``phrase`` as whole tokens in ``haystack``, or -1."""
    width = len(phrase)
    for start in range(len(haystack) - width + 1):
        if haystack[start : start + width] == phrase:
            return start
    return -1


def _has_cue(text: str, words: tuple[str, ...], cues: Iterable[str]) -> bool:
    for cue in cues:
        cue_tokens = tokens(cue)
        if not cue_tokens:  # punctuation such as "?": look for the character itself
            if cue.strip() and cue.strip() in text:
                return True
        elif _find_phrase(words, cue_tokens) >= 0:
            return True
    return False


def _matches(words: tuple[str, ...], vocab: _Vocabulary) -> list[tuple[int, int, Drug, DrugClass]]:
    """Known names in ``words``, left to right, longest name first at each position."""
    found: list[tuple[int, int, Drug, DrugClass]] = []
    start = 0
    while start < len(words):
        for width in range(min(vocab.longest, len(words) - start), 0, -1):
            hit = vocab.by_tokens.get(words[start : start + width])
            if hit:
                found.append((start, start + width, *hit))
                start += width
                break
        else:
            start += 1
    return found


def _phrase_pattern(phrase: tuple[str, ...]) -> re.Pattern[str]:
    # Whole words in the raw text, whatever separates them ("Sintrom-Uno", "warfarin5mg").
    body = r"[\W_]*".join(re.escape(t) for t in phrase)
    return re.compile(rf"(?<![a-z]){body}(?![a-z])", re.IGNORECASE)


def _dose_text(text: str, remove: Iterable[tuple[str, ...]], drop_years: bool) -> str | None:
    """What is left of ``text`` from its first number on, once names and cue words are taken out."""
    rest = _MARKS.sub(" ", text)
    for phrase in remove:
        rest = _phrase_pattern(phrase).sub(" ", rest)
    if drop_years:
        rest = _YEAR.sub(" ", rest)  # "stopped warfarin 2019": 2019 is when, not how much
    rest = re.sub(r"\(\s*\)", " ", rest)
    rest = " ".join(rest.split()).strip(" ,;:-()[]")
    digit = re.search(r"\d", rest)
    # Dose text starts at its first number: words before it ("on", an unknown name) are not dose.
    return rest[digit.start() :] if digit else None


def _edits(a: str, b: str, limit: int) -> int:
    """Levenshtein distance with adjacent swaps (optimal string alignment), cut off above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    # A letter one word has and the other lacks takes an edit of its own (a swap cannot bring it in).
    if len(set(a) - set(b)) > limit or len(set(b) - set(a)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current.append(value)
        if min(current) > limit and min(previous) >= limit:
            # Every later cell costs at least one of these plus an edit: the distance is above the limit.
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def suggest(text: str, guidance: Guidance) -> str | None:
    """A known name a few letters away from a word (or two words) of ``text``, for "did you mean"."""
    rules = guidance.medications.matching
    words = [w for w in tokens(text) if w.isalpha()]
    candidates = [*words, *(" ".join(pair) for pair in zip(words, words[1:], strict=False))]
    best: tuple[int, str] | None = None
    for word in candidates:
        if len(word) < rules.suggestion_min_length:
            continue
        for key, display, _drug, _klass in _vocabulary(guidance).names:
            if len(key) < rules.suggestion_min_length:
                continue
            distance = _edits(word, key, rules.suggestion_max_edits)
            if distance <= rules.suggestion_max_edits and (best is None or distance < best[0]):
                best = (distance, display)
    return best[1] if best else None


def as_entry(item: str | MedicationEntry) -> MedicationEntry:
    """A profile medicine as an entry (a bare string is a name taken now unless its words say otherwise)."""
    return item if isinstance(item, MedicationEntry) else MedicationEntry(name=item)


def read_entry(item: str | MedicationEntry, guidance: Guidance) -> MedicationFinding:
    """Read one medicine: the drug it names (if any), its status, its dose and a note for the record."""
    entry = as_entry(item)
    rules = guidance.medications.matching
    vocab = _vocabulary(guidance)
    words = tokens(entry.name)
    lowered = entry.name.lower()
    if "status" in entry.model_fields_set:
        status = entry.status
    elif _has_cue(lowered, words, rules.unknown_cues):
        status = "unknown"
    elif _has_cue(lowered, words, rules.stopped_cues):
        status = "stopped"
    else:
        status = "current"
    matches = _matches(words, vocab)
    cue_phrases = [tokens(c) for c in (*rules.stopped_cues, *rules.unknown_cues) if tokens(c)]
    if not matches:
        suggestion = suggest(entry.name, guidance)
        note = guidance.medications.unrecognised.note
        if suggestion:
            note += f" (did you mean {suggestion}?)"
        dose = entry.dose or _dose_text(entry.name, cue_phrases, drop_years=status == "stopped")
        return MedicationFinding(
            name=entry.name, recognised=False, status=status, dose=dose, suggestion=suggestion, note=note
        )
    _start, _end, drug, klass = matches[0]
    parts = [f"{drug.id}: {klass.label.lower()}"]
    if drug.note:
        parts.append(drug.note)
    others = list(dict.fromkeys(m[2].id for m in matches[1:] if m[2].id != drug.id))
    if others:
        parts.append("also names " + ", ".join(others))
    if status == "stopped":
        parts.append("stopped or not taken - not counted for screening")
    elif status == "unknown":
        parts.append("unsure whether taken now - counted to be safe; ask")
    removed = [words[start:end] for start, end, _d, _k in matches]
    dose = entry.dose or _dose_text(entry.name, [*removed, *cue_phrases], drop_years=status == "stopped")
    return MedicationFinding(
        name=entry.name,
        recognised=True,
        drug=drug.id,
        drug_class=klass.id,
        atc=drug.atc,
        status=status,
        dose=dose,
        note="; ".join(parts),
    )


def read_entries(items: Iterable[str | MedicationEntry], guidance: Guidance) -> list[MedicationFinding]:
    """Read every medicine of a profile, in order (see :func:`read_entry`)."""
    return [read_entry(item, guidance) for item in items]


def counts_for_screening(finding: MedicationFinding) -> bool:
    """A medicine counts unless it was stopped; an unsure status counts (the safe reading)."""
    return finding.status != "stopped"


def lookup_names(query: str, guidance: Guidance, limit: int = 10) -> list[dict[str, str]]:
    """Known names for a typed prefix or fragment (for a form's suggestion list), best first.

    Names that start with the query come first, then names that contain it, then near misses.
    """
    key = name_key(query)
    if not key:
        return []
    starts: list[tuple[str, str, Drug, DrugClass]] = []
    contains: list[tuple[str, str, Drug, DrugClass]] = []
    for entry in _vocabulary(guidance).names:
        if entry[0].startswith(key):
            starts.append(entry)
        elif key in entry[0]:
            contains.append(entry)
    chosen = sorted(starts, key=lambda e: e[0]) + sorted(contains, key=lambda e: e[0])
    if not chosen:
        near = suggest(query, guidance)
        chosen = [e for e in _vocabulary(guidance).names if e[1] == near]
    return [
        {"name": display, "drug": drug.id, "class": klass.id, "atc": drug.atc}
        for _key, display, drug, klass in chosen[:limit]
    ]
