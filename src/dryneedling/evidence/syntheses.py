"""Published dry-needling meta-analyses (knowledge/data/evidence/syntheses.csv), loaded and validated.

Each row is one pooled estimate from one review, with its citation (a source id of the knowledge base
bibliography), the review's own GRADE rating where it published one, and whether patients may see it.
Validation names the file, the row (CSV line and id) and the field of every problem, all in one
:class:`~dryneedling.errors.DataError`, so a bad edit is found at once.

Columns of syntheses.csv (vocabularies in vocabulary.yaml, rules in grade_rules.yaml):

- ``id`` ES001...: the row id of the shared reference table, kept so rows can be traced back.
- ``source``: bibliography id (knowledge/data/sources/*.yaml); the review's year comes from there.
- ``region``, ``comparator``, ``outcome``, ``timepoint``, ``effect_measure``: vocabulary ids.
  ``condition`` is the review's population in words.
- ``scale``: knowledge-base measure id when an MD is on a stated scale (nprs = 0-10, vas_100mm), used to
  compare the CI with that measure's MCID; ``unit`` says the unit in words where known. A mean difference
  (MD, WMD, MD_NMA) with neither is on an unnamed scale and is kept from patients (``patient_safe`` false).
- ``estimate``, ``ci_low``, ``ci_high``, ``k``, ``n``, ``i2``: as published; blank when not visible (never
  filled from review totals).
- ``published_certainty``: the review's own GRADE rating for this estimate, blank when not visible.
- ``favours``: which arm the review found ahead - read this, not the sign (some rows are comparator
  minus DN).
- ``verification``: how the number was read (reference CSV); ``dn_specific`` false when acupuncture was
  pooled with DN; ``review_judgements``: GRADE domain judgements the review stated, ``domain=level;...``.
- ``patient_safe`` / ``exclusion_reason``: whether patients may see the row, and why not.
- ``notes``: caveats in the project's own words.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from dryneedling.errors import DataError, Problem
from dryneedling.evidence.rules import GradeRules
from dryneedling.vocabulary import Confidence

#: The shipped evidence data lives with the rest of the curated data, so one directory versions it all.
DATA_DIR = Path(__file__).resolve().parents[1] / "knowledge" / "data" / "evidence"
SYNTHESES_FILE = "syntheses.csv"
VOCABULARY_FILE = "vocabulary.yaml"
RULES_FILE = "grade_rules.yaml"
GAPS_FILE = "gaps.yaml"

Certainty = Literal["high", "moderate", "low", "very_low"]
#: Effect measures in the units of an outcome scale: each must name its scale (``scale`` or ``unit``).
MEAN_DIFFERENCES = ("MD", "WMD", "MD_NMA")
JUDGEMENT_DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
COLUMNS = (
    "id",
    "source",
    "region",
    "condition",
    "comparator",
    "outcome",
    "timepoint",
    "effect_measure",
    "scale",
    "unit",
    "estimate",
    "ci_low",
    "ci_high",
    "k",
    "n",
    "i2",
    "published_certainty",
    "favours",
    "verification",
    "dn_specific",
    "review_judgements",
    "patient_safe",
    "exclusion_reason",
    "notes",
)


class _Stop(Exception):
    """One problem that ends the reading of one row or file; collected into a DataError by the loader."""

    def __init__(self, file: str, row: str | None, field: str | None, message: str) -> None:
        self.problem = Problem(f"evidence/{file}", row or "-", field or "", message)
        super().__init__(str(self.problem))


#: The evidence data's name for the one data-error type (kept for readers of older code).
EvidenceDataError = DataError


class _Frozen(BaseModel):
    # defer_build: the validator is built on first validation, not at import, so a command that gets the
    # catalog from the on-disk cache (catalog.py) never pays for validators it does not use.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Term(_Frozen):
    """One vocabulary entry: id, clinician label, patient wording, and accepted aliases."""

    id: str
    label: str
    plain: str = ""
    aliases: tuple[str, ...] = ()
    order: int = 0
    arm: str | None = None
    null_value: float = 0.0


class Vocabulary(_Frozen):
    """The controlled vocabulary of the evidence table (vocabulary.yaml)."""

    regions: dict[str, Term]
    comparators: dict[str, Term]
    outcomes: dict[str, Term]
    timepoints: dict[str, Term]
    effect_measures: dict[str, Term]
    favours: dict[str, Term]
    verification: dict[str, Term]

    def resolve_region(self, value: str) -> str | None:
        """The canonical region id for an id or alias (case-insensitive), or None."""
        wanted = value.strip().lower()
        for term in self.regions.values():
            if wanted == term.id.lower() or wanted in (alias.lower() for alias in term.aliases):
                return term.id
        return None

    def region_names(self) -> list[str]:
        """Every accepted region name: ids and aliases."""
        return [name for term in self.regions.values() for name in (term.id, *term.aliases)]


class Synthesis(_Frozen):
    """One published pooled estimate (a row of syntheses.csv)."""

    id: str
    source: str
    region: str
    condition: str
    comparator: str
    outcome: str
    timepoint: str
    effect_measure: str
    scale: str | None
    unit: str | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    k: int | None
    n: int | None
    i2: float | None
    published_certainty: str | None
    favours: str
    verification: str
    dn_specific: bool
    review_judgements: dict[str, str]
    patient_safe: bool
    exclusion_reason: str | None
    notes: str
    year: int | None = None


class Gap(_Frozen):
    """A region (or part of one) where no pooled dry-needling estimate exists (gaps.yaml)."""

    region: str
    scope: str
    clinician: str
    plain: str
    sources: tuple[str, ...]
    confidence: Confidence


class EvidenceData(_Frozen):
    """Everything the evidence table needs, validated together."""

    syntheses: tuple[Synthesis, ...]
    vocabulary: Vocabulary
    rules: GradeRules
    gaps: tuple[Gap, ...]
    source_years: dict[str, int | None]


def _read_yaml(path: Path) -> dict:
    import yaml  # here, not at the top: a catalog read from the cache needs no YAML parser

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # safe loaders only; the C one is faster
    try:
        data = yaml.load(path.read_text(), Loader=loader)
    except FileNotFoundError as exc:
        raise _Stop(path.name, None, None, "file not found") from exc
    except yaml.YAMLError as exc:
        raise _Stop(path.name, None, None, f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise _Stop(path.name, None, None, "expected a mapping at the top level")
    return data


def load_vocabulary(data_dir: Path = DATA_DIR) -> Vocabulary:
    """Read vocabulary.yaml into id -> Term maps, refusing duplicate ids."""
    raw = _read_yaml(data_dir / VOCABULARY_FILE)
    parts: dict[str, dict[str, Term]] = {}
    for section in Vocabulary.model_fields:
        entries = raw.get(section)
        if not isinstance(entries, list) or not entries:
            raise _Stop(VOCABULARY_FILE, None, section, "missing or empty section")
        terms: dict[str, Term] = {}
        for index, entry in enumerate(entries, start=1):
            try:
                term = Term(**entry)
            except Exception as exc:
                raise _Stop(VOCABULARY_FILE, f"{section}[{index}]", None, str(exc)) from exc
            if term.id in terms:
                raise _Stop(VOCABULARY_FILE, f"{section}[{index}]", "id", f"duplicate id {term.id!r}")
            terms[term.id] = term
        parts[section] = terms
    return Vocabulary(**parts)


class _RowReader:
    """Parses the cells of one CSV row; a bad cell stops the row with a problem naming file, row and field."""

    def __init__(self, file: str, line: int, cells: dict[str, str]) -> None:
        self.file = file
        self.cells = cells
        self.row = f"{line} ({cells.get('id') or 'no id'})"

    def fail(self, field: str, message: str) -> _Stop:
        return _Stop(self.file, self.row, field, message)

    def text(self, field: str, required: bool = True) -> str | None:
        value = (self.cells.get(field) or "").strip()
        if not value:
            if required:
                raise self.fail(field, "is empty")
            return None
        return value

    def number(self, field: str) -> float | None:
        value = self.text(field, required=False)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError as exc:
            raise self.fail(field, f"not a number: {value!r}") from exc
        if not math.isfinite(number):
            raise self.fail(field, f"not a finite number: {value!r}")
        return number

    def count(self, field: str) -> int | None:
        value = self.number(field)
        if value is None:
            return None
        if value != int(value) or value < 1:
            raise self.fail(field, f"must be a whole number of at least 1, got {self.cells[field]!r}")
        return int(value)

    def flag(self, field: str) -> bool:
        value = (self.text(field) or "").lower()
        if value not in ("true", "false"):
            raise self.fail(field, f"must be true or false, got {self.cells[field]!r}")
        return value == "true"

    def choice(self, field: str, choices: Iterable[str], required: bool = True) -> str | None:
        value = self.text(field, required=required)
        valid = list(choices)
        if value is not None and value not in valid:
            raise self.fail(field, f"unknown value {value!r} (valid: {', '.join(sorted(valid))})")
        return value


def _parse_judgements(reader: _RowReader, levels: Iterable[str]) -> dict[str, str]:
    text = reader.text("review_judgements", required=False)
    if not text:
        return {}
    judgements: dict[str, str] = {}
    for part in text.split(";"):
        domain, _, level = part.partition("=")
        domain, level = domain.strip(), level.strip()
        if domain not in JUDGEMENT_DOMAINS:
            raise reader.fail(
                "review_judgements", f"unknown domain {domain!r} (valid: {', '.join(JUDGEMENT_DOMAINS)})"
            )
        if level not in levels:
            raise reader.fail("review_judgements", f"unknown level {level!r} for {domain}")
        judgements[domain] = level
    return judgements


def _parse_row(
    reader: _RowReader,
    vocab: Vocabulary,
    rules: GradeRules,
    source_ids: set[str] | None,
    measure_ids: set[str] | None,
) -> Synthesis:
    certainty_rules = rules.certainty
    certainty_values = set(certainty_rules.levels) | set(certainty_rules.published_aliases)
    row_id = reader.text("id")
    if not row_id.startswith("ES"):
        raise reader.fail("id", f"ids start with 'ES', got {row_id!r}")
    source = reader.text("source")
    if source_ids is not None and source not in source_ids:
        raise reader.fail("source", f"source id {source!r} is not in the knowledge base bibliography")
    region = reader.choice("region", vocab.regions)
    scale = reader.text("scale", required=False)
    if scale is not None and measure_ids is not None and scale not in measure_ids:
        raise reader.fail("scale", f"measure id {scale!r} is not in the knowledge base")
    estimate, ci_low, ci_high = reader.number("estimate"), reader.number("ci_low"), reader.number("ci_high")
    if (ci_low is None) != (ci_high is None):
        raise reader.fail(
            "ci_high" if ci_high is None else "ci_low", "a confidence interval needs both limits"
        )
    if ci_low is not None and ci_low > ci_high:
        raise reader.fail("ci_low", f"ci_low {ci_low} is above ci_high {ci_high}")
    if estimate is not None and ci_low is not None and not ci_low <= estimate <= ci_high:
        raise reader.fail("estimate", f"estimate {estimate} lies outside its CI [{ci_low}, {ci_high}]")
    i2 = reader.number("i2")
    if i2 is not None and not 0 <= i2 <= 100:
        raise reader.fail("i2", f"I2 is a percentage between 0 and 100, got {i2}")
    verification = reader.choice("verification", vocab.verification)
    patient_safe = reader.flag("patient_safe")
    exclusion_reason = reader.text("exclusion_reason", required=False)
    never = rules.patient_display.never_for_patients
    if patient_safe and verification in never:
        raise reader.fail("patient_safe", f"rows read as {verification!r} are never shown to patients")
    if patient_safe and estimate is None:
        raise reader.fail("patient_safe", "a row without a point estimate cannot be shown to patients")
    if not patient_safe and not exclusion_reason:
        raise reader.fail("exclusion_reason", "say why a row is kept from patients")
    effect_measure = reader.choice("effect_measure", vocab.effect_measures)
    unit = reader.text("unit", required=False)
    if patient_safe and effect_measure in MEAN_DIFFERENCES and scale is None and unit is None:
        raise reader.fail(
            "patient_safe",
            "a mean difference on an unnamed scale (no scale, no unit) cannot be shown to patients",
        )
    return Synthesis(
        id=row_id,
        source=source,
        region=region,
        condition=reader.text("condition"),
        comparator=reader.choice("comparator", vocab.comparators),
        outcome=reader.choice("outcome", vocab.outcomes),
        timepoint=reader.choice("timepoint", vocab.timepoints),
        effect_measure=effect_measure,
        scale=scale,
        unit=unit,
        estimate=estimate,
        ci_low=ci_low,
        ci_high=ci_high,
        k=reader.count("k"),
        n=reader.count("n"),
        i2=i2,
        published_certainty=reader.choice("published_certainty", certainty_values, required=False),
        favours=reader.choice("favours", vocab.favours),
        verification=verification,
        dn_specific=reader.flag("dn_specific"),
        review_judgements=_parse_judgements(reader, certainty_rules.judgement_levels),
        patient_safe=patient_safe,
        exclusion_reason=exclusion_reason,
        notes=reader.text("notes"),
    )


def read_syntheses(
    path: Path,
    vocab: Vocabulary,
    rules: GradeRules,
    source_ids: set[str] | None = None,
    measure_ids: set[str] | None = None,
    problems: list[Problem] | None = None,
) -> tuple[Synthesis, ...]:
    """Read and validate a syntheses CSV; every bad row adds a problem naming its file, row and field.

    Problems go to ``problems`` when given (the loader collects them), else they are raised together.
    """
    found: list[Problem] = [] if problems is None else problems
    rows: list[Synthesis] = []
    try:
        text = path.read_text(encoding="utf-8")
        reader = csv.DictReader(text.splitlines())
        missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise _Stop(path.name, "1 (header)", missing[0], "column missing from the header")
    except FileNotFoundError:
        found.append(_Stop(path.name, None, None, "file not found").problem)
        reader = None
    except _Stop as stop:
        found.append(stop.problem)
        reader = None
    if reader is not None:
        seen: set[str] = set()
        for line, cells in enumerate(reader, start=2):
            try:
                row = _parse_row(_RowReader(path.name, line, cells), vocab, rules, source_ids, measure_ids)
            except _Stop as stop:
                found.append(stop.problem)
                continue
            if row.id in seen:
                found.append(_Stop(path.name, f"{line} ({row.id})", "id", f"duplicate id {row.id!r}").problem)
                continue
            seen.add(row.id)
            rows.append(row)
        if not rows and not found:
            found.append(_Stop(path.name, None, None, "no rows").problem)
    if problems is None and found:
        raise DataError(found)
    return tuple(rows)


def read_gaps(
    path: Path, vocab: Vocabulary, source_ids: set[str] | None, problems: list[Problem] | None = None
) -> tuple[Gap, ...]:
    """Read gaps.yaml; every gap names a known region and cites resolvable sources."""
    found: list[Problem] = [] if problems is None else problems
    gaps: list[Gap] = []
    try:
        raw = _read_yaml(path).get("gaps") or []
    except _Stop as stop:
        found.append(stop.problem)
        raw = []
    for index, entry in enumerate(raw, start=1):
        row = f"gaps[{index}]"
        try:
            if not isinstance(entry, dict):
                raise _Stop(path.name, row, None, "each gap must be a mapping")
            try:
                gap = Gap(**{**entry, "sources": tuple(entry.get("sources") or ())})
            except (ValidationError, TypeError) as exc:
                raise _Stop(path.name, row, None, str(exc)) from exc
            if gap.region not in vocab.regions:
                raise _Stop(path.name, row, "region", f"unknown region {gap.region!r}")
            if not gap.sources:
                raise _Stop(path.name, row, "sources", "a gap statement needs at least one source")
            for source in gap.sources:
                if source_ids is not None and source not in source_ids:
                    raise _Stop(path.name, row, "sources", f"unknown source id {source!r}")
        except _Stop as stop:
            found.append(stop.problem)
            continue
        gaps.append(gap)
    if problems is None and found:
        raise DataError(found)
    return tuple(gaps)


def load_rules(data_dir: Path = DATA_DIR) -> GradeRules:
    """grade_rules.yaml as a typed, validated object; an unknown or missing key names its path."""
    raw = _read_yaml(data_dir / RULES_FILE)
    try:
        return GradeRules.model_validate(raw)
    except ValidationError as exc:
        raise DataError(
            Problem(
                f"evidence/{RULES_FILE}",
                ".".join(str(part) for part in err["loc"][:-1]) or "-",
                str(err["loc"][-1]) if err["loc"] else "",
                "unknown key" if err["type"] == "extra_forbidden" else err["msg"],
            )
            for err in exc.errors()
        ) from None


def _source_year(kb, source_id: str) -> int | None:
    """Publication year from the bibliography: its year field, else the year printed in its citation."""
    if kb is None:
        return None
    source = kb.sources[source_id]
    if source.year:
        return source.year
    found = re.findall(r"\b(?:19|20)\d{2}\b", source.citation)
    return int(found[0]) if found else None


def load_evidence(data_dir: Path = DATA_DIR, kb=None) -> EvidenceData:
    """Load and cross-check syntheses, vocabulary, rules and gaps; raise every problem in one DataError.

    With ``kb`` (a loaded knowledge base) every source id and scale must resolve in it; each row also
    gets the publication year of its review from the bibliography.
    """
    problems: list[Problem] = []
    try:
        vocab = load_vocabulary(data_dir)
        rules = load_rules(data_dir)
    except _Stop as stop:
        raise DataError([stop.problem]) from None
    source_ids = set(kb.sources) if kb is not None else None
    measure_ids = set(kb.measures) if kb is not None else None
    rows = read_syntheses(data_dir / SYNTHESES_FILE, vocab, rules, source_ids, measure_ids, problems)
    gaps = read_gaps(data_dir / GAPS_FILE, vocab, source_ids, problems)
    if problems:
        raise DataError(problems)
    years = {row.source: _source_year(kb, row.source) for row in rows}
    rows = tuple(row.model_copy(update={"year": years[row.source]}) for row in rows)
    return EvidenceData(syntheses=rows, vocabulary=vocab, rules=rules, gaps=gaps, source_years=years)
