"""Forest and funnel plots as SVG text, or PNG or PDF bytes (matplotlib, headless Agg backend).

The output is deterministic: the SVG id salt is fixed and no creation date is written, so the same data
always gives the same bytes (useful for snapshot tests and reproducible reports). Text stays text
(``svg.fonttype = "none"``) so study labels can be searched, copied and read by screen readers.
``fmt`` picks the format (:data:`PLOT_FORMATS`); :func:`plot_format` reads it from a file name.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Polygon
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from matplotlib.transforms import blended_transform_factory

from dryneedling.errors import InputError
from dryneedling.evidence.pooling import PoolResult, z_crit

_STYLE = {
    "svg.hashsalt": "dryneedling",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9,
}
_STUDY_COLOUR = "#1f4e79"
_POOLED_COLOUR = "#b03a2e"


PLOT_FORMATS = ("svg", "png", "pdf")
"""Formats a plot can be written in; a plot file's suffix names one of them."""

# Metadata that would change from run to run (dates) is left out so the bytes are reproducible.
_METADATA = {"svg": {"Date": None}, "png": {"Software": None}, "pdf": {"CreationDate": None}}


def plot_format(path: str | Path, field: str = "plot") -> str:
    """The plot format a file name asks for (``forest.png`` -> ``png``); InputError for any other suffix."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in PLOT_FORMATS:
        raise InputError(
            field,
            f"cannot draw a plot as {Path(path).name!r}: the file name must end in "
            + ", ".join(f".{fmt}" for fmt in PLOT_FORMATS),
            value=str(path),
            choices=[f".{fmt}" for fmt in PLOT_FORMATS],
        )
    return suffix


def _save(fig, fmt: str) -> str | bytes:
    if fmt not in PLOT_FORMATS:
        plt.close(fig)
        raise InputError("format", f"unknown plot format {fmt!r}", value=fmt, choices=PLOT_FORMATS)
    buffer = io.StringIO() if fmt == "svg" else io.BytesIO()
    extra = {"dpi": 150} if fmt == "png" else {}
    fig.savefig(buffer, format=fmt, metadata=_METADATA[fmt], bbox_inches="tight", **extra)
    plt.close(fig)
    return buffer.getvalue()


def _plain(text: object) -> str:
    """Stop matplotlib from reading ``$...$`` in a study label as mathematics."""
    return str(text).replace("$", r"\$")


def _check(labels, yi, vi) -> tuple[list[str], np.ndarray, np.ndarray]:
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    names = [str(label) for label in labels]
    if not (len(names) == y.size == v.size) or y.size == 0:
        raise InputError(
            "labels", f"need one label, effect and variance per study (got {len(names)}, {y.size}, {v.size})"
        )
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise InputError("yi", "effects must be finite and variances positive to plot them")
    return names, y, v


def _ratio_axis(ax) -> None:
    """Logarithmic x axis labelled with plain numbers (0.2, 0.5, 1, 2) rather than powers of ten."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _fmt(value: float) -> str:
    return f"{value:.2f}"


def forest_plot(
    labels: Sequence[str],
    yi,
    vi,
    result: PoolResult,
    exponentiate: bool = False,
    xlabel: str | None = None,
    title: str | None = None,
    fmt: str = "svg",
) -> str | bytes:
    """Forest plot: each study's estimate and CI (box size by weight), a weight column, the pooled diamond
    and the prediction interval. ``exponentiate`` shows ratio measures (log OR/RR/ROM) on their natural
    scale with a logarithmic axis. Returns the SVG document as text, or PNG/PDF bytes for ``fmt``.
    """
    names, y, v = _check(labels, yi, vi)
    level = result.level
    crit = z_crit(level / 100)
    low, high = y - crit * np.sqrt(v), y + crit * np.sqrt(v)
    weights = np.asarray(result.weights, dtype=float)
    if weights.size != y.size:
        raise InputError("result", f"pooled result has {weights.size} weights for {y.size} studies")
    transform = np.exp if exponentiate else (lambda x: x)
    k = y.size
    rows = np.arange(k, 0, -1) + 1.5  # first study at the top
    show_pi = result.tau2 > 0 and np.isfinite(result.pi_low)

    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(9.5, 0.28 * (k + 5) + 0.6))
        fig.subplots_adjust(left=0.30, right=0.68)
        size = 25 + 175 * weights / weights.max()
        ax.hlines(rows, transform(low), transform(high), color=_STUDY_COLOUR, linewidth=1)
        ax.scatter(transform(y), rows, s=size, marker="s", color=_STUDY_COLOUR, zorder=3)
        diamond = [
            (transform(result.ci_low), 0.5),
            (transform(result.estimate), 0.8),
            (transform(result.ci_high), 0.5),
            (transform(result.estimate), 0.2),
        ]
        ax.add_patch(Polygon(diamond, closed=True, color=_POOLED_COLOUR, zorder=3))
        if show_pi:
            ax.hlines(
                -0.5, transform(result.pi_low), transform(result.pi_high), color=_POOLED_COLOUR, linewidth=2
            )
        ax.axvline(transform(0.0), color="grey", linewidth=0.8)
        ax.axvline(transform(result.estimate), color=_POOLED_COLOUR, linewidth=0.6, linestyle=":")
        if exponentiate:
            _ratio_axis(ax)
        ax.set_ylim(-1.2 if show_pi else -0.2, k + 3)
        ax.set_yticks([])
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
        ax.set_xlabel(_plain(xlabel or ("Ratio (log scale)" if exponentiate else "Effect size")))
        if title:
            ax.set_title(_plain(title), loc="left")

        left = blended_transform_factory(fig.transFigure, ax.transData)
        header_y = k + 2.4
        ax.text(0.02, header_y, "Study", transform=left, weight="bold", va="center")
        ax.text(0.70, header_y, f"Estimate [{level:g}% CI]", transform=left, weight="bold", va="center")
        ax.text(0.92, header_y, "Weight", transform=left, weight="bold", va="center")
        for row, name, est, lo, hi, weight in zip(rows, names, y, low, high, weights, strict=True):
            ax.text(0.02, row, _plain(name), transform=left, va="center")
            estimate_text = f"{_fmt(transform(est))} [{_fmt(transform(lo))}, {_fmt(transform(hi))}]"
            ax.text(0.70, row, estimate_text, transform=left, va="center", family="DejaVu Sans Mono")
            ax.text(0.92, row, f"{weight:.1f}%", transform=left, va="center", family="DejaVu Sans Mono")
        model = "Common effect" if result.method == "EE" else f"Random effects ({result.method})"
        ax.text(0.02, 0.5, f"{model}, k = {result.k}", transform=left, va="center", weight="bold")
        pooled_text = f"{_fmt(transform(result.estimate))} [{_fmt(transform(result.ci_low))}, {_fmt(transform(result.ci_high))}]"
        ax.text(0.70, 0.5, pooled_text, transform=left, va="center", weight="bold", family="DejaVu Sans Mono")
        ax.text(0.92, 0.5, "100%", transform=left, va="center", family="DejaVu Sans Mono")
        if show_pi:
            ax.text(0.02, -0.5, f"{level:g}% prediction interval", transform=left, va="center")
            pi_text = f"[{_fmt(transform(result.pi_low))}, {_fmt(transform(result.pi_high))}]"
            ax.text(0.70, -0.5, pi_text, transform=left, va="center", family="DejaVu Sans Mono")
        heterogeneity = f"Heterogeneity: tau² = {result.tau2:.3f}, I² = {result.i2:.1f}%, Q = {result.q:.2f} (df = {result.q_df}, p = {result.q_pvalue:.3g})"
        fig.text(0.02, 0.01, heterogeneity, fontsize=8)
        return _save(fig, fmt)


def funnel_plot(
    yi,
    vi,
    result: PoolResult,
    labels: Sequence[str] | None = None,
    filled_yi=None,
    filled_vi=None,
    exponentiate: bool = False,
    xlabel: str | None = None,
    title: str | None = None,
    fmt: str = "svg",
) -> str | bytes:
    """Funnel plot: each study's estimate against its standard error (axis inverted, precise studies on top),
    with the pooled estimate and the pseudo-confidence region ``estimate +/- z * SE``. Studies imputed by
    trim-and-fill (``filled_yi``/``filled_vi``) are drawn as open circles. Returns the SVG text (or
    PNG/PDF bytes for ``fmt``).
    """
    names, y, v = _check(
        labels if labels is not None else [f"Study {i + 1}" for i in range(np.size(yi))], yi, vi
    )
    se = np.sqrt(v)
    filled_se = np.sqrt(np.asarray(filled_vi, dtype=float)) if filled_vi is not None else np.empty(0)
    filled_y = np.asarray(filled_yi, dtype=float) if filled_yi is not None else np.empty(0)
    transform = np.exp if exponentiate else (lambda x: x)
    crit = z_crit(result.level / 100)
    top = 1.05 * max(se.max(), filled_se.max() if filled_se.size else 0.0)
    curve = np.linspace(0, top, 50)

    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(6.5, 5))
        region_low = transform(result.estimate - crit * curve)
        region_high = transform(result.estimate + crit * curve)
        ax.fill_betweenx(curve, region_low, region_high, color="#eeeeee", zorder=0)
        ax.plot(region_low, curve, color="grey", linestyle="--", linewidth=0.8)
        ax.plot(region_high, curve, color="grey", linestyle="--", linewidth=0.8)
        ax.axvline(transform(result.estimate), color=_POOLED_COLOUR, linewidth=1)
        points = ax.scatter(transform(y), se, color=_STUDY_COLOUR, s=22, zorder=3, label="Studies")
        points.set_gid("studies")
        if filled_y.size:
            ax.scatter(
                transform(filled_y),
                filled_se,
                facecolors="white",
                edgecolors=_STUDY_COLOUR,
                s=22,
                zorder=3,
                label="Filled (trim-and-fill)",
            )
            ax.legend(loc="upper left", frameon=False)
        if exponentiate:
            _ratio_axis(ax)
        ax.set_ylim(top, 0)
        ax.set_ylabel("Standard error")
        ax.set_xlabel(_plain(xlabel or ("Ratio (log scale)" if exponentiate else "Effect size")))
        ax.set_title(_plain(title or f"Funnel plot (k = {len(names)})"), loc="left")
        for side in ("right", "top"):
            ax.spines[side].set_visible(False)
        return _save(fig, fmt)
