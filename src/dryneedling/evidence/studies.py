"""Read a researcher's study-level data (CSV) and turn it into effect sizes, with clear errors.

Columns follow metafor's names: ``m1i sd1i n1i m2i sd2i n2i`` (MD, SMD, ROM), ``ai bi ci di`` or
``ai n1i ci n2i`` (RR, OR, RD), ``ri ni`` (ZCOR), ``xi ni`` (PR, PLO), or precomputed ``yi`` with ``vi``
(or ``sei``). An optional ``study`` column labels the rows; any other columns are kept as text (for
subgroups or moderators). Every problem is reported as an :class:`~dryneedling.errors.InputError` that
names the column, and for bad values the row (numbered as in a spreadsheet, header = row 1) and study.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dryneedling.errors import InputError
from dryneedling.evidence.bias import egger_test, rank_test
from dryneedling.evidence.effect_sizes import MEASURES, effect_sizes
from dryneedling.evidence.meta_regression import REGRESSION_METHODS
from dryneedling.evidence.pooling import pool, z_crit
from dryneedling.evidence.subgroup import subgroup

RATIO_MEASURES = ("RR", "OR", "ROM", "PLO")
# Column sets each measure accepts, in the order they are tried.
MEASURE_COLUMNS: dict[str, tuple[tuple[str, ...], ...]] = {
    "MD": (("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),),
    "SMD": (("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),),
    "ROM": (("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),),
    "RR": (("ai", "bi", "ci", "di"), ("ai", "n1i", "ci", "n2i")),
    "OR": (("ai", "bi", "ci", "di"), ("ai", "n1i", "ci", "n2i")),
    "RD": (("ai", "bi", "ci", "di"), ("ai", "n1i", "ci", "n2i")),
    "ZCOR": (("ri", "ni"),),
    "PR": (("xi", "ni"),),
    "PLO": (("xi", "ni"),),
}
PRECOMPUTED = "GEN"  # measure name used when the file gives yi and vi directly


@dataclass(frozen=True)
class StudyData:
    """Effect sizes read from a file, with the study labels and the file's other columns (as text)."""

    path: str
    measure: str  # one of MEASURES, or "GEN" for precomputed yi/vi
    labels: tuple[str, ...]
    yi: np.ndarray
    vi: np.ndarray
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def k(self) -> int:
        """Number of studies."""
        return int(self.yi.size)

    @property
    def is_ratio(self) -> bool:
        """True when yi is a log ratio that reads better exponentiated."""
        return self.measure in RATIO_MEASURES

    def column(self, name: str) -> tuple[str, ...]:
        """One of the file's other columns, or InputError naming the columns there are."""
        if name not in self.extra:
            raise InputError.unknown("by", name, sorted(self.extra), kind="column")
        return self.extra[name]


def read_rows(path: str | Path) -> tuple[list[str], list[dict[str, str]]]:
    """Read a CSV file into its header and rows (cells stripped); InputError for a missing or empty file."""
    file = Path(path)
    if not file.is_file():
        raise InputError("file", f"no such file: {file}", value=str(file))
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in (reader.fieldnames or [])]
            rows = []
            for raw in reader:
                if raw.get(None):
                    raise InputError("file", f"row {reader.line_num} has more cells than the header")
                cells = {key.strip(): (value or "").strip() for key, value in raw.items() if key is not None}
                if any(cells.values()):
                    rows.append(cells)
    except UnicodeDecodeError:
        raise InputError("file", f"{file} is not a UTF-8 text (CSV) file", value=str(file)) from None
    except csv.Error as exc:
        raise InputError("file", f"{file} is not valid CSV: {exc}", value=str(file)) from None
    if not header:
        raise InputError("file", f"{file} is empty (no header row)", value=str(file))
    if not rows:
        raise InputError("file", f"{file} has a header but no studies", value=str(file))
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise InputError("file", f"column {duplicated[0]!r} appears more than once in the header")
    return header, rows


def _numbers(rows: list[dict[str, str]], name: str, labels: tuple[str, ...]) -> np.ndarray:
    values = np.empty(len(rows))
    for i, row in enumerate(rows):
        text = row.get(name, "")
        where = f"row {i + 2} (study {labels[i]!r})"
        if text == "":
            raise InputError(name, f"{where} has no value in column {name!r}", value=text)
        try:
            values[i] = float(text)
        except ValueError:
            raise InputError(
                name, f"{where} has {text!r} in column {name!r}, which is not a number", value=text
            ) from None
        if not np.isfinite(values[i]):
            raise InputError(
                name, f"{where} has {text!r} in column {name!r}, which is not a finite number", value=text
            )
    return values


def _columns_for(measure: str, header: list[str]) -> tuple[str, ...]:
    options = MEASURE_COLUMNS[measure]
    for option in options:
        if all(name in header for name in option):
            return option
    best = max(options, key=lambda option: sum(name in header for name in option))
    missing = [name for name in best if name not in header]
    alternatives = " or ".join(" ".join(option) for option in options)
    raise InputError(
        missing[0],
        f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} for measure {measure} (needs {alternatives})",
        value=missing[0],
    )


def read_studies(path: str | Path, measure: str | None = None) -> StudyData:
    """Read study-level data from a CSV file and compute effect sizes for ``measure``.

    With ``yi`` and ``vi`` (or ``sei``) columns the effect sizes are taken as given and ``measure`` only
    names their scale (it may be left out). Otherwise ``measure`` is required and picks the columns.
    """
    if measure is not None:
        measure = str(measure).upper()
        if measure not in MEASURES:
            raise InputError(
                "measure",
                f"unknown measure {measure!r}; valid: {', '.join(sorted(MEASURES))}",
                value=measure,
                choices=MEASURES,
            )
    header, rows = read_rows(path)
    labels = tuple(row.get("study") or f"Study {i + 1}" for i, row in enumerate(rows))
    notes: list[str] = []
    precomputed = "yi" in header and ("vi" in header or "sei" in header)
    if precomputed:
        yi = _numbers(rows, "yi", labels)
        if "vi" in header:
            vi = _numbers(rows, "vi", labels)
            used = ["yi", "vi"]
        else:
            vi = _numbers(rows, "sei", labels) ** 2
            used = ["yi", "sei"]
        bad = np.flatnonzero(vi <= 0)
        if bad.size:
            raise InputError(
                used[1], f"row {bad[0] + 2} (study {labels[bad[0]]!r}) needs a positive {used[1]}"
            )
        notes.append(
            "effect sizes taken from the yi and vi columns"
            if used[1] == "vi"
            else "vi computed as sei squared"
        )
        measure = measure or PRECOMPUTED
    else:
        if measure is None:
            raise InputError(
                "measure",
                "give --measure, or yi and vi columns with precomputed effect sizes",
                choices=MEASURES,
            )
        used = list(_columns_for(measure, header))
        columns = {name: _numbers(rows, name, labels) for name in used}
        effects = effect_sizes(measure, **columns)
        if effects.k != len(rows):
            kept = set(int(i) for i in effects.kept)
            dropped = [labels[i] for i in range(len(rows)) if i not in kept]
            labels = tuple(labels[i] for i in effects.kept)
            rows = [rows[i] for i in effects.kept]
            notes.append(f"left out (no usable {measure}): {', '.join(dropped)}")
        yi, vi = effects.yi, effects.vi
        notes.extend(effects.notes)
    extra_names = [name for name in header if name not in (*used, "study")]
    extra = {name: tuple(row.get(name, "") for row in rows) for name in extra_names}
    return StudyData(
        str(path), measure, labels, np.asarray(yi, float), np.asarray(vi, float), extra, tuple(notes)
    )


def _finite(value):
    """JSON-safe number: NaN and infinities become None, numpy scalars become floats."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    number = float(value)
    return number if np.isfinite(number) else None


def _clean(data):
    if isinstance(data, dict):
        return {key: _clean(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_clean(value) for value in data]
    if isinstance(data, np.ndarray):
        return [_clean(value) for value in data.tolist()]
    return _finite(data)


def _pooled_dict(result) -> dict:
    data = result.as_dict()
    data.pop("weights", None)
    return data


def analyse_studies(
    data: StudyData,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    by: str | None = None,
    *,
    min_studies: int,
) -> dict:
    """The full analysis behind ``dryneedling evidence pool``, as plain JSON-ready data.

    ``min_studies`` is the fewest studies for the small-study tests (grade rules' publication_bias rule).

    Pooled result (estimate, CI, prediction interval, tau^2, I^2, Q test), per-study rows with weights,
    small-study tests when k >= ``min_studies`` (Egger's regression in metafor's meta-regression form and the classic
    weighted form, Begg's rank test) and, with ``by``, subgroups with both tests for subgroup differences.
    Ratio measures also get the exponentiated estimate and intervals.
    """
    result = pool(data.yi, data.vi, method=method, test=test, level=level)
    crit = z_crit(result.level / 100)
    se = np.sqrt(data.vi)
    studies = []
    for i, label in enumerate(data.labels):
        row = {
            "study": label,
            "yi": data.yi[i],
            "vi": data.vi[i],
            "se": se[i],
            "ci_low": data.yi[i] - crit * se[i],
            "ci_high": data.yi[i] + crit * se[i],
            "weight": result.weights[i],
        }
        if data.is_ratio:
            row["exp"] = {
                "estimate": np.exp(row["yi"]),
                "ci_low": np.exp(row["ci_low"]),
                "ci_high": np.exp(row["ci_high"]),
            }
        studies.append(row)

    analysis: dict = {
        "file": data.path,
        "measure": data.measure,
        "method": result.method,
        "test": result.test,
        "level": result.level,
        "k": result.k,
        "notes": list(data.notes) + ([result.message] if result.message else []),
        "pooled": _pooled_dict(result),
        "back_transformed": None,
        "studies": studies,
    }
    if data.is_ratio:
        analysis["back_transformed"] = {
            name: np.exp(getattr(result, name))
            for name in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")
        }

    if result.k >= min_studies:
        bias: dict = {}
        if result.method in REGRESSION_METHODS:
            bias["egger"] = egger_test(
                data.yi, data.vi, model="rma", method=result.method, test=result.test, level=level
            ).__dict__
        else:
            bias["egger"] = None
            analysis["notes"].append(
                f"Egger's meta-regression form supports {', '.join(REGRESSION_METHODS)}; shown in the classic form only"
            )
        bias["egger_classic"] = egger_test(data.yi, data.vi, model="lm", level=level).__dict__
        bias["rank"] = rank_test(data.yi, data.vi).__dict__
        bias["skipped"] = None
    else:
        bias = {
            "egger": None,
            "egger_classic": None,
            "rank": None,
            "skipped": (
                f"not run: small-study tests need at least {min_studies} studies (k = {result.k}); "
                "with fewer they cannot tell funnel asymmetry from chance"
            ),
        }
    analysis["small_study_effects"] = bias

    analysis["subgroups"] = None
    if by is not None:
        groups = data.column(by)
        missing = [data.labels[i] for i, value in enumerate(groups) if value == ""]
        if missing:
            raise InputError("by", f"column {by!r} is empty for study {missing[0]!r}", value=by)
        split = subgroup(data.yi, data.vi, groups, method=result.method, test=result.test, level=level)
        rows = []
        for name in split.names:
            group = split.groups[name]
            row = {
                "group": name,
                "studies": [data.labels[i] for i in split.positions[name]],
                **_pooled_dict(group),
            }
            if data.is_ratio:
                row["exp"] = {n: np.exp(getattr(group, n)) for n in ("estimate", "ci_low", "ci_high")}
            rows.append(row)
        analysis["subgroups"] = {
            "by": by,
            "groups": rows,
            "test_separate_tau2": split.separate.__dict__,
            "test_common_tau2": None if split.common is None else split.common.__dict__,
            "explanation": (
                "separate: each subgroup pooled with its own tau^2, estimates compared with a fixed-effect Q test "
                "(as RevMan); common: meta-regression on subgroup indicators with one shared tau^2 (as metafor's "
                "rma(mods=~factor(group)))"
            ),
        }
    return _clean(analysis)
