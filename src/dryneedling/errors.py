"""Errors raised on bad input, shared by the core, the CLI and the web app.

The core raises :class:`InputError`; the CLI turns it into one line and exit code 2, the web app into
HTTP 422 with one JSON error shape. Keeping one type means every shell reports the same field and the
same valid choices.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


def plain_value(value: object) -> str | int | float | bool | None:
    """``value`` as something JSON can always carry: NaN and infinities become their names ("NaN",
    "Infinity", "-Infinity"), text that UTF-8 cannot encode (lone surrogates) is escaped, and anything that
    is not a plain scalar becomes its ``str``. An error that echoes a bad value must never fail to serialise.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if not isinstance(value, str | int | float | bool | type(None)):
        value = str(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


# pydantic puts these before the message of an error raised in a validator; a person needs the words only.
_VALIDATOR_PREFIXES = ("Value error, ", "Assertion failed, ")


def validation_message(detail: Mapping[str, Any]) -> str:
    """The words of one pydantic error (an item of ``ValidationError.errors()``) for a person: "is required"
    for a missing field, otherwise its message without pydantic's "Value error, " prefix."""
    if detail.get("type") == "missing":
        return "is required"
    message = str(detail.get("msg") or "invalid value")
    for prefix in _VALIDATOR_PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def closest(value: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` valid choices that look most like ``value`` (difflib ratio, best first)."""
    return difflib.get_close_matches(str(value), list(choices), n=n, cutoff=0.5)


class InputError(ValueError):
    """Bad input, naming the field, the offending value and the valid choices (or the closest ones)."""

    def __init__(
        self,
        field: str,
        message: str,
        *,
        value: object = None,
        choices: Iterable[str] | None = None,
    ) -> None:
        self.field = field
        self.value = value
        self.choices = sorted(choices) if choices is not None else None
        self.suggestions = closest(str(value), self.choices) if self.choices and value is not None else []
        self.message = message
        super().__init__(self.describe())

    @classmethod
    def unknown(
        cls, field: str, value: object, choices: Iterable[str], kind: str | None = None
    ) -> InputError:
        """An id that is not in the knowledge base: names it and suggests the closest valid ids."""
        return cls(field, f"unknown {kind or field} {value!r}", value=value, choices=list(choices))

    def describe(self) -> str:
        """One human line: what is wrong and what would be valid."""
        text = f"{self.field}: {self.message}"
        if self.suggestions:
            text += f" (did you mean: {', '.join(self.suggestions)}?)"
        elif self.choices and len(self.choices) <= 12:
            text += f" (valid: {', '.join(self.choices)})"
        return text

    def to_dict(self) -> dict:
        """The JSON error shape used by the CLI's --json output and the web API."""
        return {
            "field": self.field,
            "message": self.message,
            "value": plain_value(self.value),
            "suggestions": self.suggestions,
            "choices": self.choices if self.choices and len(self.choices) <= 100 else None,
        }


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the curated data: where (file, entry, field) and what."""

    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.entry}"
        if self.field:
            where += f".{self.field}"
        return f"{where}: {self.message}"


class DataError(Exception):
    """The curated data (knowledge base, guidance or evidence) does not validate.

    The one error type of every data loader: it collects every problem found, each naming its file,
    entry and field, so a curator sees the whole list at once instead of fixing one typo per run.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"data has {len(self.problems)} problem(s):\n{lines}")
