"""Input checks shared by the evidence numerics: every failure names the argument (InputError)."""

from __future__ import annotations

import numpy as np

from dryneedling.errors import InputError


def as_vector(name: str, values: object) -> np.ndarray:
    """Coerce ``values`` to a 1-D float array; reject text, NaN and infinities by argument name."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(name, "must be numbers", value=_short(values)) from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    elif arr.ndim != 1:
        raise InputError(name, f"must be a one-dimensional sequence, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise InputError(name, f"contains a missing or infinite value at position {bad}", value=arr[bad])
    return arr


def same_length(named: dict[str, np.ndarray]) -> int:
    """Check that every array has the same length; return it (at least 1)."""
    lengths = {name: arr.shape[0] for name, arr in named.items()}
    first_name, first_len = next(iter(lengths.items()))
    for name, length in lengths.items():
        if length != first_len:
            raise InputError(
                name, f"has {length} values but {first_name} has {first_len}; lengths must match"
            )
    if first_len < 1:
        raise InputError(first_name, "needs at least one study (k >= 1)")
    return first_len


def positive(name: str, arr: np.ndarray) -> None:
    """Sampling variances (and sizes) must be strictly positive."""
    if (arr <= 0).any():
        bad = int(np.flatnonzero(arr <= 0)[0])
        raise InputError(name, f"must be > 0 (position {bad} is {arr[bad]:g})", value=float(arr[bad]))


def non_negative(name: str, arr: np.ndarray) -> None:
    """Counts and standard deviations may be zero but never negative."""
    if (arr < 0).any():
        bad = int(np.flatnonzero(arr < 0)[0])
        raise InputError(name, f"must be >= 0 (position {bad} is {arr[bad]:g})", value=float(arr[bad]))


def choice(name: str, value: object, choices: tuple[str, ...], aliases: dict[str, str] | None = None) -> str:
    """Return the canonical spelling of ``value`` (case-insensitive) or raise naming the valid choices."""
    key = str(value).strip().upper() if isinstance(value, str) else value
    if aliases and key in aliases:
        return aliases[key]
    for candidate in choices:
        if key == candidate.upper():
            return candidate
    raise InputError(name, f"unknown {name} {value!r}", value=value, choices=choices)


def level_fraction(level: float) -> float:
    """Confidence level given in percent (95) or as a fraction (0.95) -> fraction in (0, 1)."""
    try:
        lv = float(level)
    except (TypeError, ValueError):
        raise InputError("level", "must be a number such as 95", value=_short(level)) from None
    if lv > 1:
        lv /= 100.0
    if not 0 < lv < 1:
        raise InputError("level", "must lie between 0 and 100 (percent), e.g. 95", value=level)
    return lv


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
