"""Checks on data read from untrusted text, shared by the web app, the CLI and the profile loader.

JSON is parsed strictly (:func:`loads_json`): nesting deeper than :data:`MAX_DEPTH` is refused before the
parser recurses, and ``NaN``, ``Infinity``, ``-Infinity`` or a number too large for a float (``1e400``)
are refused naming the field that holds them. :func:`check_data` applies the same rules to data parsed
some other way (YAML's ``.nan`` and ``.inf``). :func:`read_text_file` reads a UTF-8 text file or says
plainly why it cannot (missing, a directory, unreadable, binary). Every failure is an
:class:`~dryneedling.errors.InputError`, so each shell reports it in its usual way.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from dryneedling.errors import InputError, plain_value

MAX_DEPTH = 32
"""Deepest nesting of arrays and objects accepted (a profile needs 3)."""

# A JSON string literal (escapes included), removed before counting brackets so "[" inside text is ignored.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class _BadNumber:
    """Stands in for a number JSON cannot carry, keeping the text as written for the error."""

    __slots__ = ("reason", "text")

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason


def _constant(text: str) -> _BadNumber:
    return _BadNumber(text, "must be a finite number (NaN and Infinity are not allowed)")


def _float(text: str) -> float | _BadNumber:
    value = float(text)
    return value if math.isfinite(value) else _BadNumber(text, "must be a finite number (too large)")


def _int(text: str) -> int | _BadNumber:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        return _BadNumber(text[:20] + "...", f"is a number with too many digits ({len(text)})")


def too_deep(field: str, limit: int = MAX_DEPTH) -> InputError:
    """The error for data nested deeper than ``limit``."""
    return InputError(field, f"is nested too deeply (more than {limit} levels of arrays or objects)")


def json_too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON ``text`` nests arrays/objects deeper than ``limit`` (a scan; nothing is parsed)."""
    depth = 0
    for match in _BRACKETS.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        elif depth:
            depth -= 1
    return False


def loads_json(text: str | bytes, field: str = "body", limit: int = MAX_DEPTH) -> Any:
    """Parse JSON strictly.

    Raises :class:`json.JSONDecodeError` for bad syntax (the caller words that) and
    :class:`~dryneedling.errors.InputError` for text that is not UTF-8, nesting deeper than ``limit``,
    non-finite numbers (named by their field, e.g. ``age`` or ``practitioner.training_hours``) and text
    that UTF-8 cannot carry.
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(field, f"is not UTF-8 text (byte {exc.start})") from None
    if json_too_deep(text, limit):
        raise too_deep(field, limit)
    try:
        data = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except RecursionError:
        raise too_deep(field, limit) from None
    check_data(data, field, limit)
    return data


def _where(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def check_data(data: Any, field: str = "body", limit: int = MAX_DEPTH) -> None:
    """Refuse parsed data nested deeper than ``limit``, holding a non-finite number or text UTF-8 cannot
    encode. The error names the offending value's path (``age``, ``trigger_points[0].muscle``), or
    ``field`` when the whole document is the problem.
    """
    seen: set[int] = set()  # YAML aliases can share a container many times; check each once
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict | list):
            if id(value) in seen:
                continue
            seen.add(id(value))
            if depth >= limit:
                raise too_deep(field, limit)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            children = []
            for key, item in items:
                if isinstance(key, str):
                    _check_text(key, path or field)
                children.append((item, _where(path, key), depth + 1))
            stack.extend(reversed(children))  # report the first problem in document order
        elif isinstance(value, _BadNumber):
            raise InputError(path or field, value.reason, value=value.text)
        elif isinstance(value, float) and not math.isfinite(value):
            raise InputError(
                path or field,
                "must be a finite number (NaN and Infinity are not allowed)",
                value=plain_value(value),
            )
        elif isinstance(value, str):
            _check_text(value, path or field)


def _check_text(text: str, field: str) -> None:
    if "\x00" in text:
        # PostgreSQL text cannot hold it, and no person types it: refused here, named, for every backend.
        raise InputError(field, "contains a NUL character (U+0000), which text in a record cannot hold")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            field, "is not valid Unicode text (a lone surrogate escape such as \\ud800)"
        ) from None


MAX_TEXT_BYTES = 10_000_000
"""Largest text file read whole (a profile is a few kilobytes)."""


def read_text_file(path: str | Path, field: str, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of the file at ``path``; otherwise an InputError saying why, in one line."""
    file = Path(path)
    if not file.exists():
        raise InputError(field, f"no such file: {file}", value=str(file))
    if file.is_dir():
        raise InputError(field, f"{file} is a directory, not a file", value=str(file))
    try:
        with file.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(field, f"cannot read {file}: {exc.strerror or exc}", value=str(file)) from None
    if len(raw) > max_bytes:
        raise InputError(field, f"{file} is larger than {max_bytes} bytes", value=str(file))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(field, f"{file} is not a text file (UTF-8)", value=str(file)) from None
    if "\x00" in text:
        raise InputError(field, f"{file} is not a text file (UTF-8)", value=str(file))
    return text
